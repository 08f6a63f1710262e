"""The graph model, the identifier whitelist, the schema files and the queries agree with each
other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from graph.catalog import schema_statements, strip_literals
from graph.errors import CkgError
from graph.model import (
    KEYED_LABELS,
    NODE_MODELS,
    REL_PROPERTIES,
    ROW_KEYS,
    EntityId,
    Label,
    label,
    property_keys,
    rel_type,
)

ROOT = Path(__file__).resolve().parents[2]
QUERY_FILES = sorted(
    [*(ROOT / "cypher").rglob("*.cypher"), *(ROOT / "tests/cypher").rglob("*.cypher")]
)


def test_every_keyed_label_is_constrained_and_indexed() -> None:
    neo = {
        m.group(1)
        for s in schema_statements("neo4j")
        if (m := re.search(r"FOR \(n:(\w+)\) REQUIRE n\.id IS UNIQUE", s))
    }
    falkor = {
        m.group(1)
        for s in schema_statements("falkordb")
        if (m := re.search(r"FOR \(n:(\w+)\) ON \(n\.id\)", s))
    }
    keyed = {lbl.value for lbl in KEYED_LABELS}
    assert neo == keyed
    assert falkor == keyed


def test_every_label_has_a_model_with_an_id() -> None:
    assert set(NODE_MODELS) == set(Label)
    for model in NODE_MODELS.values():
        assert "id" in model.model_fields


def test_whitelist_refuses_unknown_identifiers() -> None:
    assert label("Customer") is Label.CUSTOMER
    assert rel_type("PURCHASED").value == "PURCHASED"
    for bad in ("Customer) DETACH DELETE (n", "customer", "", "`Customer`"):
        with pytest.raises(CkgError):
            label(bad)
    with pytest.raises(CkgError):
        rel_type("PURCHASED]->() DELETE r //")


def test_property_keys_cover_models() -> None:
    keys = property_keys()
    assert {"id", "embedding", "score", "purpose", "dwell_ms"} <= set(keys)
    assert keys == sorted(set(keys))
    fields = {f for model in NODE_MODELS.values() for f in model.model_fields}
    relationship = {p for props in REL_PROPERTIES.values() for p in props}
    assert fields | relationship | set(ROW_KEYS) <= set(keys)
    # beside those, only what the model's docstring names: `embedding` and Erasure's extras
    assert set(keys) - fields - relationship - set(ROW_KEYS) <= {"embedding", "verified", "aliases"}


_IDENT = r"[A-Za-z_]\w*"
# `(v:Label {k: ...})` and `-[v:TYPE {k: ...}]-`, never a call `f(x)` nor an index `xs[i]`
_NODE = re.compile(rf"(?<![\w.\]])\(\s*({_IDENT})?\s*((?::\s*{_IDENT}\s*)*)(\{{[^{{}}]*\}})?\s*\)")
_REL = re.compile(
    rf"(?<=-)\[\s*({_IDENT})?\s*((?::\s*{_IDENT}\s*(?:\|\s*:?\s*{_IDENT}\s*)*)?)"
    rf"(?:\*[\d.]*)?\s*(\{{[^{{}}]*\}})?\s*\]"
)
_ROWS = re.compile(rf"\bUNWIND\s+\$rows\s+AS\s+({_IDENT})", re.IGNORECASE)
_LOOP = re.compile(
    rf"\bUNWIND\s+[^;]+?\s+AS\s+({_IDENT})|\bFOREACH\s*\(\s*({_IDENT})\s+IN\b", re.IGNORECASE
)
_ACCESS = re.compile(rf"(?<![\w$.])({_IDENT})\.({_IDENT})\b(?!\s*\()")
_PROJECTION = re.compile(rf"\b({_IDENT})\s*\{{([^{{}}]*)\}}")
_MAP_KEY = re.compile(rf"({_IDENT})\s*:")


def query_keys(text: str) -> tuple[set[str], set[str], set[str]]:
    """Keys one query file uses: on nodes and relationships (`n.key`, `{key: ...}` in a pattern,
    `n {.key}`), on the maps of `UNWIND $rows`, and on other list items (UNWIND, FOREACH)."""
    text = strip_literals(text)
    graph: set[str] = set()
    variables: set[str] = set()
    for m in [*_NODE.finditer(text), *_REL.finditer(text)]:
        if m.group(1):
            variables.add(m.group(1))
        graph.update(_MAP_KEY.findall(m.group(3) or ""))
    row_vars = set(_ROWS.findall(text))
    loop_vars = {a or b for a, b in _LOOP.findall(text)} - row_vars
    rows: set[str] = set()
    loops: set[str] = set()
    for var, key in _ACCESS.findall(text):
        if var in variables:
            graph.add(key)
        elif var in row_vars:
            rows.add(key)
        elif var in loop_vars:
            loops.add(key)
    for var, body in _PROJECTION.findall(text):
        if var in variables:
            graph.update(re.findall(rf"(?<![\w$])\.({_IDENT})", body))
    return graph, rows, loops


def all_query_keys() -> tuple[set[str], set[str], set[str]]:
    graph: set[str] = set()
    rows: set[str] = set()
    loops: set[str] = set()
    for path in QUERY_FILES:
        g, r, lp = query_keys(path.read_text())
        graph, rows, loops = graph | g, rows | r, loops | lp
    return graph, rows, loops


# Keys the queries use that property_keys() does not list yet: the ingest's bookkeeping on nodes
# (`*_at` beside a latest-wins value), a profile field
# the context queries read (`timezone`), and `$rows` keys (`fields`, the benchmark's `rels`).
UNLISTED = {
    "country_at",
    "fields",
    "name_at",
    "price_at",
    "profile_at",
    "rels",
    "tier_at",
    "timezone",
}
# Keys property_keys() lists that no query uses: ABOUT.role and Cart.value are never stored.
UNUSED = {"role", "value"}


def test_the_scan_of_the_queries_sees_what_it_must() -> None:
    graph, rows, loops = query_keys(
        "UNWIND $rows AS row MERGE (c:Customer {id: row.id})-[r:VIEWED {count: 1}]->(p) "
        "SET c.ltv = toFloat(row.ltv), r.last_at = coalesce(r.last_at, 0) "
        "FOREACH (x IN row.items | SET p.name = x.name) "
        "RETURN c {.orders, .points}, p.price AS price, 'q.nope' AS s, size(x.n) AS n"
    )
    assert graph == {"id", "count", "ltv", "last_at", "name", "orders", "points", "price"}
    assert rows == {"id", "ltv", "items"}
    assert loops == {"name", "n"}


def test_every_key_the_queries_use_is_a_listed_property_key() -> None:
    """The linter's schema: a key missing here is read unchecked, or written by a typo."""
    graph, rows, _ = all_query_keys()
    assert len(QUERY_FILES) > 50
    assert (graph | rows) - set(property_keys()) == UNLISTED


def test_every_listed_property_key_is_used_by_a_query() -> None:
    """A listed key no query uses is a field the model promises and the graph never holds."""
    graph, rows, loops = all_query_keys()
    assert set(property_keys()) - graph - rows - loops == UNUSED


class _Holder(BaseModel):
    id: EntityId


@pytest.mark.parametrize("good", ["17850", "85123A", "anon:abc-123", "a b", "ü✓", "x" * 256])
def test_ids_accepted(good: str) -> None:
    assert _Holder(id=good).id == good


@pytest.mark.parametrize("bad", ["", " lead", "trail ", "tab\tin", "nl\n", "nul\x00", "x" * 257])
def test_ids_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        _Holder(id=bad)
