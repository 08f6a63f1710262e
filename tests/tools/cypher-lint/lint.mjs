#!/usr/bin/env node
// Lint Cypher queries with Neo4j's official linter (@neo4j-cypher/language-support).
//
// stdin  (JSON): {"schema": {"labels": [...], "relationshipTypes": [...],
//                            "propertyKeys": [...], "parameters": {"name": example, ...}},
//                 "queries": [{"name": "...", "text": "..."}, ...]}
// stdout (JSON): {"results": [{"name": "...", "diagnostics": [{"severity": "error"|"warning",
//                  "message": "...", "line": L, "column": C, "endLine": L2, "endColumn": C2}]}],
//                 "catalog": {"functions": N, "procedures": M}}
// Lines and columns are 1-based. Exit code 0 whenever linting ran (whatever it
// found); 2 if the input is not a valid document of the shape above.
import { readFileSync } from 'node:fs';
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const CYPHER_VERSION = 'CYPHER 5';

function fail(message) {
  process.stderr.write(`cypher-lint: ${message}\n`);
  process.exit(2);
}

function stringList(value, where) {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    fail(`${where} must be a list of strings`);
  }
  return value;
}

function parameterMap(value) {
  if (value === undefined || value === null) return {};
  // A bare list of names is accepted too; the linter only checks presence.
  if (Array.isArray(value)) {
    if (value.some((v) => typeof v !== 'string')) {
      fail('schema.parameters must be an object (or a list of names)');
    }
    return Object.fromEntries(value.map((name) => [name, null]));
  }
  if (typeof value !== 'object') {
    fail('schema.parameters must be an object (or a list of names)');
  }
  // The linter treats a parameter whose value is `undefined` as undeclared;
  // JSON cannot carry undefined, so every key given here counts as declared.
  return value;
}

let input;
try {
  input = JSON.parse(readFileSync(0, 'utf8'));
} catch (err) {
  fail(`cannot parse JSON from stdin: ${err.message}`);
}
if (!input || typeof input !== 'object' || Array.isArray(input)) {
  fail('input must be a JSON object');
}
const schema = input.schema ?? {};
if (typeof schema !== 'object' || Array.isArray(schema)) {
  fail('schema must be an object');
}
if (!Array.isArray(input.queries)) fail('queries must be a list');
input.queries.forEach((q, i) => {
  if (!q || typeof q !== 'object' || typeof q.text !== 'string') {
    fail(`queries[${i}] must be an object with a string "text"`);
  }
});

// Neo4j's function/procedure catalog as shipped inside the package: the mock
// schema its own tests use, dumped from a Neo4j 5 server with APOC and GDS
// installed (135 built-in functions, apoc.*, gds.*, db.*, dbms.*, ...).
const catalog = testData.mockSchema;
const functions = { [CYPHER_VERSION]: catalog.functions[CYPHER_VERSION] };
const procedures = { [CYPHER_VERSION]: catalog.procedures[CYPHER_VERSION] };

const dbSchema = {
  labels: stringList(schema.labels, 'schema.labels'),
  relationshipTypes: stringList(
    schema.relationshipTypes,
    'schema.relationshipTypes',
  ),
  propertyKeys: stringList(schema.propertyKeys, 'schema.propertyKeys'),
  parameters: parameterMap(schema.parameters),
  functions,
  procedures,
  defaultLanguage: CYPHER_VERSION,
};

// vscode-languageserver DiagnosticSeverity: 1 Error, 2 Warning, 3 Info, 4 Hint.
const severityName = (s) => (s === 1 ? 'error' : 'warning');

// Replaces // and /* */ comments by spaces (newlines kept, so every offset,
// line and column stays the same). The linter reports a statement made of
// comments only (e.g. a comment after the last `;` of a schema file) as
// "Expected any of CYPHER, EXPLAIN, PROFILE or a statement".
function blankComments(text) {
  if (!text.includes('//') && !text.includes('/*')) return text;
  const out = text.split('');
  const blank = (from, to) => {
    for (let k = from; k < to; k++) {
      if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
    }
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      // String literal or quoted name: skip to the closing quote.
      i++;
      while (i < text.length && text[i] !== c) {
        i += text[i] === '\\' && c !== '`' ? 2 : 1;
      }
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      let end = text.indexOf('\n', i);
      if (end === -1) end = text.length;
      blank(i, end);
      i = end;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close === -1) break; // unterminated: let the linter report it
      blank(i, close + 2);
      i = close + 2;
    } else {
      i++;
    }
  }
  return out.join('');
}

// 1-based line and column of a UTF-16 offset into text.
function position(text, offset) {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    line: before.split('\n').length,
    column: before.length - lineStart + 1,
  };
}

function toOutput(d, text) {
  const { start, end } = d.range;
  if ([start.line, start.character, end.line, end.character].some((n) => n < 0)) {
    // Some semantic errors (e.g. bad index OPTIONS) come back with a -1
    // column; the offsets are still right, so place them from those.
    const from = d.offsets && d.offsets.start >= 0 ? d.offsets.start : 0;
    const to =
      d.offsets && d.offsets.end >= from ? d.offsets.end : text.length;
    const a = position(text, from);
    const b = position(text, to);
    return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  }
  return {
    line: start.line + 1,
    column: start.character + 1,
    endLine: end.line + 1,
    endColumn: end.character + 1,
  };
}

// Neo4j's semantic analysis (its Java front end compiled to JS) costs roughly
// 50-400 ms per statement, so identical texts are linted once.
const seen = new Map();
function lint(text) {
  if (!seen.has(text)) {
    const { diagnostics } = lintCypherQuery(blankComments(text), dbSchema, {
      consoleCommandsEnabled: false, // :param etc. are not Cypher
    });
    seen.set(
      text,
      diagnostics.map((d) => ({
        severity: severityName(d.severity),
        message: d.message,
        ...toOutput(d, text),
      })),
    );
  }
  return seen.get(text);
}

const results = input.queries.map((q, i) => ({
  name: q.name ?? `query_${i}`,
  diagnostics: lint(q.text),
}));

process.stdout.write(
  JSON.stringify(
    {
      results,
      catalog: {
        functions: Object.keys(functions[CYPHER_VERSION]).length,
        procedures: Object.keys(procedures[CYPHER_VERSION]).length,
      },
    },
    null,
    2,
  ) + '\n',
);
