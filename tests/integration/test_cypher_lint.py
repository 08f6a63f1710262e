"""Every query that runs on Neo4j passes Neo4j's own linter (@neo4j-cypher/language-support).

The linter is given the project's labels, relationship types, property keys and parameters, and
the package's catalog of Neo4j functions and procedures, so a FalkorDB-only function is an error
here even though the embedded engine would happily run it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from graph.catalog import QueryCatalog, schema_statements
from graph.model import Label, RelType, property_keys
from graph.queries import Queries

LINT_DIR = Path(__file__).resolve().parents[1] / "tools" / "cypher-lint"
TESTS_CYPHER = Path(__file__).resolve().parents[1] / "cypher"

# Functions FalkorDB offers that Neo4j does not: belt and braces beside the linter's catalog.
FALKORDB_ONLY = re.compile(
    r"\b(vecf32|vec\.\w+|algo\.\w+|db\.idx\.\w+|toJSON|intern|list\.\w+|string\.\w+|"
    r"localdatetime\.fromepoch\w*|typeOf)\s*\(",
    re.IGNORECASE,
)


def run_linter(queries: list[dict[str, str]], parameters: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (LINT_DIR / "node_modules").is_dir():
        pytest.fail("node and tests/tools/cypher-lint/node_modules are required: run `make setup`")
    schema = {
        "labels": [lbl.value for lbl in Label],
        "relationshipTypes": [r.value for r in RelType],
        "propertyKeys": property_keys(),
        "parameters": parameters,
    }
    proc = subprocess.run(
        [node, str(LINT_DIR / "lint.mjs")],
        input=json.dumps({"schema": schema, "queries": queries}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def example_value(name: str) -> Any:
    if name == "rows":
        return [{"id": "x", "props": {"name": "n"}}]
    if name in ("limit", "k", "n", "skip"):
        return 10
    return "x"


def neo4j_queries() -> tuple[list[dict[str, str]], dict[str, Any]]:
    queries: list[dict[str, str]] = []
    params: dict[str, Any] = {}
    for catalog in (Queries(), QueryCatalog(root=TESTS_CYPHER)):
        for name, q in catalog.all().items():
            if "neo4j" in q.texts or "*" in q.texts:
                queries.append({"name": name, "text": q.text_for("neo4j")})
                params.update({p: example_value(p) for p in q.params})
    for i, statement in enumerate(schema_statements("neo4j")):
        queries.append({"name": f"schema/neo4j.cypher#{i + 1}", "text": statement})
    return queries, params


def test_every_neo4j_query_lints_clean() -> None:
    queries, params = neo4j_queries()
    assert len(queries) > 20
    result = run_linter(queries, params)
    assert result["catalog"]["functions"] > 100, result["catalog"]
    assert result["catalog"]["procedures"] > 50, result["catalog"]
    problems = [
        f"{r['name']}:{d['line']}:{d['column']} {d['severity']}: {d['message']}"
        for r in result["results"]
        for d in r["diagnostics"]
    ]
    assert problems == []


def test_no_query_uses_a_falkordb_only_function() -> None:
    queries, _ = neo4j_queries()
    offenders = [q["name"] for q in queries if FALKORDB_ONLY.search(q["text"])]
    assert offenders == []


def test_the_linter_catches_what_it_must() -> None:
    """Negative controls: the check above is able to fail."""
    bad = [
        {"name": "falkordb_vector", "text": "MATCH (p:Product) SET p.embedding = vecf32([1.0])"},
        {"name": "falkordb_json", "text": "MATCH (p:Product) RETURN toJSON(p)"},
        {"name": "syntax", "text": "MATCH (p:Product RETURN p"},
        {"name": "unknown_label", "text": "MATCH (p:Prodcut) RETURN p.id"},
    ]
    by_name = {r["name"]: r["diagnostics"] for r in run_linter(bad, {})["results"]}
    for name in ("falkordb_vector", "falkordb_json", "syntax"):
        assert any(d["severity"] == "error" for d in by_name[name]), (name, by_name[name])
    assert by_name["unknown_label"], "an unknown label must at least warn"
    assert FALKORDB_ONLY.search(bad[0]["text"]) and FALKORDB_ONLY.search(bad[1]["text"])
