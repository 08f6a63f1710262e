"""The named-query catalog's rules, on small catalogs written to temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.catalog import (
    Query,
    QueryCatalog,
    default_root,
    load_query_file,
    scan,
    schema_statements,
    split_statements,
)
from graph.errors import QueryCatalogError
from graph.queries import Queries


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


READ = (
    "// purpose: p\n// mode: read\n// params: $id\nMATCH (c:Customer {id: $id}) RETURN c.id AS id\n"
)


def test_project_catalog_loads_and_every_declared_query_exists() -> None:
    q = Queries()
    assert q.customer_by_id.params == ("id",)
    assert q.upsert_customers.mode == "write"
    assert set(q.names()) >= {"store_ping", "node_counts", "top_products"}


def test_missing_declared_file_fails_at_start(tmp_path: Path) -> None:
    write(tmp_path, "a/customer_by_id.cypher", READ)

    class Needs(QueryCatalog):
        customer_by_id: Query
        vanished: Query

    with pytest.raises(QueryCatalogError, match=r"missing query files: vanished"):
        Needs(root=tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("// mode: read\n// params: none\nRETURN 1", "purpose"),
        ("// purpose: p\n// params: none\nRETURN 1", "mode: read"),
        ("// purpose: p\n// mode: read\n// params: none\nRETURN $x", "differ from the text"),
        ("// purpose: p\n// mode: read\n// params: $x, $y\nRETURN $x", "differ from the text"),
        ("// purpose: p\n// mode: read\n// params: none\nMATCH (n) SET n.x = 1", "write clause"),
        (
            "// purpose: p\n// mode: read\n// params: none\nMATCH (n) DETACH DELETE n",
            "write clause",
        ),
        ("// purpose: p\n// mode: read\n// params: none\nRETURN 1; RETURN 2", "one statement"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "a/bad.cypher", text)
    with pytest.raises(QueryCatalogError, match=message):
        scan(tmp_path)


def test_keywords_inside_strings_and_comments_do_not_count(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a/ok.cypher",
        "// purpose: p\n// mode: read\n// params: $q\n"
        "// not a SET or CREATE here, nor $nothing\n"
        "MATCH (p:Product) WHERE p.name CONTAINS 'CREATE $x; SET' AND p.id = $q RETURN p.id",
    )
    q = scan(tmp_path)["ok"]
    assert (q.mode, q.params) == ("read", ("q",))


def test_duplicate_names_and_bad_names(tmp_path: Path) -> None:
    write(tmp_path, "a/same.cypher", READ)
    write(tmp_path, "b/same.cypher", READ)
    with pytest.raises(QueryCatalogError, match="defined twice"):
        scan(tmp_path)
    split = tmp_path / "split"
    write(split, "a/v.neo4j.cypher", READ)
    write(split, "b/v.cypher", READ)
    with pytest.raises(QueryCatalogError, match="two folders"):
        scan(split)
    other = tmp_path / "other"
    write(other, "a/Bad-Name.cypher", READ)
    with pytest.raises(QueryCatalogError, match="snake_case"):
        scan(other)


def test_engine_variants(tmp_path: Path) -> None:
    write(
        tmp_path, "v/similar.neo4j.cypher", READ.replace("c.id AS id", "c.id AS id, 'neo4j' AS e")
    )
    write(tmp_path, "v/similar.falkordb.cypher", READ)
    q = scan(tmp_path)["similar"]
    assert "'neo4j'" in q.text_for("neo4j")
    assert "'neo4j'" not in q.text_for("falkordb")

    only = tmp_path / "only"
    write(only, "v/x.neo4j.cypher", READ)
    with pytest.raises(QueryCatalogError, match="no text for engine falkordb"):
        scan(only)["x"].text_for("falkordb")

    mixed = tmp_path / "mixed"
    write(mixed, "v/y.neo4j.cypher", READ)
    write(mixed, "v/y.falkordb.cypher", READ.replace("mode: read", "mode: write"))
    with pytest.raises(QueryCatalogError, match="disagree on mode"):
        scan(mixed)


def test_queries_cannot_be_built_by_hand() -> None:
    with pytest.raises(QueryCatalogError, match="raw query text is refused"):
        Query("x", "read", "p", (), {"*": "MATCH (n) DETACH DELETE n"}, {})


def test_analyst_files(tmp_path: Path) -> None:
    plain = write(tmp_path, "mine.cypher", "MATCH (p:Product) WHERE p.id = $sku RETURN p.name")
    q = load_query_file(plain)
    assert (q.mode, q.params) == ("read", ("sku",))
    writer = write(tmp_path, "w.cypher", "MATCH (p:Product) REMOVE p.name")
    with pytest.raises(QueryCatalogError, match="write clause"):
        load_query_file(writer)
    declared = write(tmp_path, "d.cypher", "// mode: write\n// purpose: p\nRETURN 1")
    with pytest.raises(QueryCatalogError, match="only read queries"):
        load_query_file(declared)
    with pytest.raises(QueryCatalogError, match="no such query file"):
        load_query_file(tmp_path / "absent.cypher")


def test_split_statements_respects_strings_and_comments() -> None:
    text = "// a; comment\nRETURN 'a;b' AS x;\n/* c; */ RETURN 2;\n\n"
    assert split_statements(text) == ["RETURN 'a;b' AS x", "RETURN 2"]


def test_schema_files_exist_for_both_engines() -> None:
    for engine in ("neo4j", "falkordb"):
        assert schema_statements(engine, default_root())
    neo = schema_statements("neo4j")
    assert all("IF NOT EXISTS" in s for s in neo)
