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

// Neo4j's semantic analysis (its Java front end compiled to JS) costs roughly
// 50-400 ms per statement, so identical texts are linted once.
const seen = new Map();
function lint(text) {
  if (!seen.has(text)) {
    const { diagnostics } = lintCypherQuery(text, dbSchema, {
      consoleCommandsEnabled: false, // :param etc. are not Cypher
    });
    seen.set(
      text,
      diagnostics.map((d) => ({
        severity: severityName(d.severity),
        message: d.message,
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        endLine: d.range.end.line + 1,
        endColumn: d.range.end.character + 1,
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
