"""Reads go to Neo4j's readers and writes to its leader: with a `neo4j://` URI the driver routes
each statement by the access mode the store passes, so the catalog's `mode` decides where a
query runs in a cluster. The driver is a narrow fake that records what it was asked."""

from __future__ import annotations

import asyncio
from typing import Any

import neo4j
import pytest

from graph.errors import ReadOnlyViolation
from graph.queries import get_queries
from graph.settings import StoreSettings
from graph.store import Neo4jStore


class RecordingDriver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, neo4j.RoutingControl]] = []

    def execute_query(self, text: str, params: dict[str, Any], **kw: Any) -> Any:
        self.calls.append((text, kw["routing_"]))
        return [], {}

    def close(self) -> None:
        pass


@pytest.fixture
def store() -> tuple[Neo4jStore, RecordingDriver]:
    s = Neo4jStore.__new__(Neo4jStore)
    s.settings = StoreSettings(neo4j_uri="neo4j://cluster.example:7687")
    s._neo4j = neo4j
    driver = RecordingDriver()
    s._driver = driver  # type: ignore[assignment]  # records instead of connecting
    return s, driver


def test_every_catalog_query_is_routed_by_its_mode(
    store: tuple[Neo4jStore, RecordingDriver],
) -> None:
    s, driver = store
    q = get_queries()
    reads = writes = 0
    for query in q.all().values():
        if "neo4j" not in query.texts and "*" not in query.texts:
            continue
        params: dict[str, Any] = dict.fromkeys(query.params, 1) | {"rows": []}
        if query.is_read:
            s.read(query, params)
            reads += 1
        else:
            s.write(query, params)
            writes += 1
        text, routing = driver.calls[-1]
        assert text == query.text_for("neo4j")
        expected = neo4j.RoutingControl.READ if query.is_read else neo4j.RoutingControl.WRITE
        assert routing == expected, query.name
    assert reads > 20 and writes > 20


def test_graph_and_async_reads_go_to_readers_and_a_write_cannot(
    store: tuple[Neo4jStore, RecordingDriver],
) -> None:
    s, driver = store
    q = get_queries()
    s.read_graph(q.node_counts)
    asyncio.run(s.aread(q.node_counts))
    assert [r for _, r in driver.calls] == [neo4j.RoutingControl.READ] * 2
    with pytest.raises(ReadOnlyViolation):
        s.read(q.upsert_model, {})
