"""The store interface, run unchanged on every engine (see conftest.py for how engines appear)."""

from __future__ import annotations

from typing import Any

import pytest

from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.errors import QueryCatalogError, QueryError, ReadOnlyViolation
from graph.model import Customer, Product
from graph.queries import get_queries
from graph.store import Store

Q = get_queries()


def counts(store: Store) -> tuple[dict[str, int], dict[str, int]]:
    nodes = {r["label"]: r["nodes"] for r in store.read(Q.node_counts)}
    rels = {r["type"]: r["relationships"] for r in store.read(Q.relationship_counts)}
    return nodes, rels


def test_ping_and_empty_graph(store: Store) -> None:
    store.ping()
    assert counts(store) == ({}, {})
    assert store.read(Q.customer_by_id, {"id": "nobody"}) == []


def test_schema_setup_is_idempotent(store: Store) -> None:
    # open_store already applied it once: a second and third run create nothing.
    assert store.setup_schema() == 0
    assert store.setup_schema() == 0


def test_a_statement_that_creates_an_index_returns_once_it_is_built(store: Store) -> None:
    # enough nodes that the build takes a while: right after the CREATE, FalkorDB lists the
    # index as "UNDER CONSTRUCTION", and looking products up by id then crashed its server
    store.write_rows(
        Q.upsert_products,
        ({"id": f"p{i}", "category": None, "props": {}} for i in range(20_000)),
        batch_size=5000,
    )
    created = store.write(Q.create_product_vector_index)
    assert created.counters["indexes_added"] == 1
    assert store.read(Q.indexes_not_ready) == []
    assert store.read(Q.customer_by_id, {"id": "nobody"}) == []


def test_batched_writes_and_plain_values(store: Store) -> None:
    rows = [
        {"id": f"c{i}", "props": {"country": "GB", "ltv": float(i), "orders": i}}
        for i in range(2500)
    ]
    result = store.write_rows(Q.upsert_customers, rows, batch_size=1000)
    assert (result.rows, result.batches) == (2500, 3)
    assert result.counters["nodes_created"] == 2500
    assert sum(r["customers"] for r in result.returned) == 2500

    again = store.write_rows(Q.upsert_customers, rows, batch_size=1000)
    assert again.counters.get("nodes_created", 0) == 0
    assert counts(store)[0] == {"Customer": 2500}

    row = store.read_one(Q.customer_by_id, {"id": "c42"})
    assert row == {"customer": {"id": "c42", "country": "GB", "ltv": 42.0, "orders": 42}}
    [model] = store.read_models(Q.customer_by_id, Customer, {"id": "c42"}, column="customer")
    assert model == Customer(id="c42", country="GB", ltv=42.0, orders=42)


def test_relationships_and_models(store: Store) -> None:
    products = [
        {
            "id": f"p{i}",
            "category": "cat-a" if i % 2 else "cat-b",
            "props": {"name": f"Product {i}", "price": 1.5 * i},
        }
        for i in range(10)
    ]
    store.write_rows(Q.upsert_products, products)
    nodes, rels = counts(store)
    assert nodes == {"Product": 10, "Category": 2}
    assert rels == {"IN_CATEGORY": 10}
    got = store.read_models(
        Q.products_in_category, Product, {"category": "cat-a", "limit": 3}, column="product"
    )
    assert [p.id for p in got] == ["p1", "p3", "p5"]
    assert got[0].name == "Product 1"


def test_hostile_strings_are_data(store: Store) -> None:
    nasty_ids = [
        "x' }) DETACH DELETE n //",
        'a"b\\"c',
        "\\' OR 1=1",
        "*3 $8 FLUSHALL",
        "`backtick` $param {map}",
        "ünïcødé ✓",
    ]
    # Control characters cannot be in ids (see graph.model.check_id) but are fine as values.
    values = ["*3\r\n$8\r\nFLUSHALL\r\n", " padded ", "tab\there", "", "ctl\x01\x1f", '{"k":"v"}']
    rows: list[dict[str, Any]] = [
        {"id": s, "props": {"country": values[i % len(values)]}} for i, s in enumerate(nasty_ids)
    ]
    store.write_rows(Q.upsert_customers, rows)
    for row in rows:
        assert store.read_one(Q.customer_by_id, {"id": row["id"]}) == {
            "customer": {"id": row["id"], **row["props"]}
        }
    assert counts(store)[0] == {"Customer": len(nasty_ids)}


def test_raw_strings_and_wrong_modes_are_refused(store: Store) -> None:
    with pytest.raises(QueryError, match="named queries"):
        store.read("MATCH (n) RETURN n")  # type: ignore[arg-type]
    with pytest.raises(ReadOnlyViolation):
        store.read(Q.upsert_customers, {"rows": []})
    with pytest.raises(QueryError, match="needs parameters: id"):
        store.read(Q.customer_by_id, {})
    with pytest.raises(QueryError, match=r"does not take \$rows"):
        store.write_rows(Q.customer_by_id, [{"id": "x"}])


def test_engine_refuses_writes_on_the_read_path(store: Store) -> None:
    """Even if a write slipped past the catalog's check, the engine's read path refuses it."""
    with pytest.raises(ReadOnlyViolation):
        store._run("CREATE (:Customer {id: 'sneaky'})", {}, write=False)
    assert store.read(Q.customer_by_id, {"id": "sneaky"}) == []


def test_store_errors_are_domain_errors(store: Store, test_queries: QueryCatalog) -> None:
    with pytest.raises(QueryError):
        store._run("MATCH (n RETURN n", {}, write=False)
    with pytest.raises(QueryCatalogError):
        test_queries.get("no_such_query")


def test_async_read_decodes_like_the_client(
    engine_settings: Settings, test_queries: QueryCatalog
) -> None:
    """The async path (native on FalkorDB, a worker thread elsewhere) returns exactly what
    `read` returns, for maps, lists, nulls, booleans, floats, unicode and nested values."""
    import asyncio

    from graph.store import open_store

    values: list[Any] = [
        None,
        True,
        False,
        0,
        -7,
        2**53,
        1.5,
        -0.0,
        "",
        "ü❤ 'q' \"d\" \\\\",
        [1, "a", None, [2.5, {"k": [True]}]],
        {"a": {"b": [1, 2]}, "c": None},
    ]
    with open_store(engine_settings) as store:

        async def both() -> list[tuple[Any, Any]]:
            out = []
            for v in values:
                sync = store.read(test_queries.get("test_echo"), {"value": v})
                out.append((sync, await store.aread(test_queries.get("test_echo"), {"value": v})))
            await store.aclose()
            return out

        for sync, asynchronous in asyncio.run(both()):
            assert asynchronous == sync


def test_read_graph_keeps_labels_types_and_endpoints(
    store: Store, test_queries: QueryCatalog
) -> None:
    chain: list[dict[str, Any]] = [
        {"id": "g0", "prev": None},
        {"id": "g1", "prev": "g0"},
        {"id": "g2", "prev": "g1"},
    ]
    store.write_rows(test_queries.get("test_create_chain"), chain)
    rows = store.read_graph(test_queries.get("test_chain_graph"))
    assert [r["start"] for r in rows] == ["g0", "g1"]
    ids: dict[str, str] = {}  # customer id -> element id, the same in every row
    for row in rows:
        a, r, b = row["a"], row["r"], row["b"]
        for node in (a, b):
            assert node["~kind"] == "node" and node["~labels"] == ["Customer"]
            assert isinstance(node["~id"], str)
            assert ids.setdefault(node["id"], node["~id"]) == node["~id"]
        assert r["~kind"] == "relationship" and r["~type"] == "NEXT"
        assert (r["~start"], r["~end"]) == (a["~id"], b["~id"])
        assert row["pair"] == [a, b]
        path = row["p"]
        assert path["~kind"] == "path"
        assert path["~nodes"] == [a, b] and path["~relationships"] == [r]
    assert len(set(ids.values())) == 3
    element_ids = [*ids.values(), *(row["r"]["~id"] for row in rows)]
    assert len(set(element_ids)) == 5, "node and relationship ids must not collide"
    # the plain read is unchanged: property dicts only
    plain = store.read(test_queries.get("test_chain_graph"))
    assert plain[0]["a"] == {"id": "g0"} and plain[0]["r"] == {}
