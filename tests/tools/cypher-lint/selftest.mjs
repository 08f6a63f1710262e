#!/usr/bin/env node
// Runs lint.mjs on selftest.json and checks each query's "expect" counts
// ({"errors": 0} exact, or {"errors": ">0"} at least one).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const input = readFileSync(here('./selftest.json'), 'utf8');
const started = Date.now();
const output = JSON.parse(
  execFileSync(process.execPath, [here('./lint.mjs')], { input }),
);
const seconds = (Date.now() - started) / 1000;

const expected = JSON.parse(input).queries;
let passed = 0;
let failed = 0;
const ok = (want, got) => (want === '>0' ? got > 0 : got === want);
expected.forEach((q, i) => {
  const diags = output.results[i].diagnostics;
  const got = {
    errors: diags.filter((d) => d.severity === 'error').length,
    warnings: diags.filter((d) => d.severity === 'warning').length,
  };
  const bad = Object.entries(q.expect ?? {}).filter(([k, v]) => !ok(v, got[k]));
  if (bad.length === 0) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${q.name}: expected ${JSON.stringify(q.expect)}, got`);
    console.log(JSON.stringify(diags, null, 2));
  }
});
if (output.catalog.functions < 100 || output.catalog.procedures < 100) {
  failed++;
  console.log(`FAIL catalog too small: ${JSON.stringify(output.catalog)}`);
} else {
  passed++;
}
console.log(`catalog ${JSON.stringify(output.catalog)}; ${expected.length} queries in ${seconds.toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
