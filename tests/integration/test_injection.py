"""Injection: ids, labels, property names and free text carrying Cypher or Redis-protocol
payloads are stored or refused as data; nothing they contain ever executes.

Each payload goes through every door a value can enter by: event fields over HTTP, path ids,
query parameters, profile attribute names, label and relationship-type names. Afterwards the
graph must be exactly what the good data alone would make, with the payload text stored
verbatim where it was legitimate data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.errors import CkgError, QueryError
from graph.model import label, rel_type
from graph.store import Store, open_store
from tests.helpers import ONE_KEY_FOR_ALL, Api, KeySpec

PAYLOADS = [
    "x' OR 1=1 //",
    "x'}) MATCH (n) DETACH DELETE n //",
    'x"}) MATCH (n) DETACH DELETE n //',
    "x\\'}) DETACH DELETE n RETURN 1 //",
    "`Customer` DETACH DELETE",
    "$id",
    "CYPHER id='x' MATCH (n) DETACH DELETE n",
    "*1 $8 FLUSHALL",
    "GRAPH.DELETE ckg",
    "x\\u0027}) DELETE n //",
    "{id: 'x'}",
    "x; MATCH (n) SET n.pwned = true",
]
# the same with protocol framing, for free text (ids refuse control characters outright)
TEXTS = [*PAYLOADS, "*1\r\n$8\r\nFLUSHALL\r\n", "a\x00b", "line\nbreak MATCH (n) DELETE n"]


@pytest.fixture
def api_keys() -> KeySpec:
    return ONE_KEY_FOR_ALL


def _snapshot(store: Store, tq: QueryCatalog) -> str:
    """The graph but the audit trail, which records every privacy request (one for an unknown
    id too) by keyed hash: `_audit_text` checks that it holds none of the payloads."""
    nodes = [n for n in store.read(tq.get("test_nodes_snapshot")) if n["label"] != "Audit"]
    return json.dumps(
        [nodes, store.read(tq.get("test_graph_snapshot"))], default=str, sort_keys=True
    )


def _audit_text(store: Store, tq: QueryCatalog) -> str:
    audits = [n for n in store.read(tq.get("test_nodes_snapshot")) if n["label"] == "Audit"]
    return json.dumps(audits, default=str, sort_keys=True)


def test_payloads_in_events_are_data(api: Api, test_queries: QueryCatalog) -> None:
    client, h = api.client, api.h("all")
    events: list[dict[str, Any]] = []
    for i, p in enumerate(PAYLOADS):
        events += [
            {
                "type": "consent_changed",
                "event_id": f"c{i}",
                "customer_id": p,
                "timestamp": "2011-12-01T09:00:00Z",
                "purpose": "analytics",
                "granted": True,
                "source": "t",
            },
            {
                "type": "product_view",
                "event_id": f"v{i}",
                "customer_id": p,
                "session_id": p,
                "product_id": p,
                "timestamp": "2011-12-01T10:00:00Z",
            },
        ]
    for i, t in enumerate(TEXTS):
        events.append(
            {
                "type": "search",
                "event_id": f"s{i}",
                "customer_id": "searcher",
                "session_id": "s-search",
                "query": t,
                "timestamp": f"2011-12-01T11:{i:02d}:00Z",
            }
        )
    events.append(
        {
            "type": "consent_changed",
            "event_id": "cs",
            "customer_id": "searcher",
            "timestamp": "2011-12-01T08:00:00Z",
            "purpose": "analytics",
            "granted": True,
            "source": "t",
        }
    )
    r = client.post("/v1/events", json={"events": events}, headers=h)
    assert r.status_code in (200, 422), r.text
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    nodes = store.read(test_queries.get("test_nodes_snapshot"))
    customers = {n["id"] for n in nodes if n["label"] == "Customer"}
    assert set(PAYLOADS) <= customers  # stored verbatim as ids, nothing else happened
    products = {n["id"] for n in nodes if n["label"] == "Product"}
    assert set(PAYLOADS) <= products
    assert not any("pwned" in n["props"] for n in nodes)
    searched = {n["props"].get("text") for n in nodes if n["label"] == "Query"}
    stored_texts = [t for t in TEXTS if any(t.lower().split()[0] in (s or "") for s in searched)]
    assert len(stored_texts) >= len(PAYLOADS)
    # every payload reads back through the API as plain data (a "/" cannot travel in a URL
    # path segment, even percent-encoded: such ids are reachable by the CLI and queries only)
    for p in (p for p in PAYLOADS if "/" not in p):
        got = client.get(f"/v1/customers/{quote(p, safe='')}/consents", headers=h)
        assert got.status_code == 200, (p, got.text)
        assert got.json()["customer_id"] == p


def test_payloads_in_paths_and_parameters_change_nothing(
    api: Api, test_queries: QueryCatalog
) -> None:
    client, h = api.client, api.h("all")
    client.post(
        "/v1/events",
        headers=h,
        json={
            "events": [
                {
                    "type": "product_view",
                    "event_id": "v",
                    "customer_id": "c",
                    "session_id": "s",
                    "product_id": "p",
                    "timestamp": "2011-12-01T10:00:00Z",
                }
            ]
        },
    )
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    before = _snapshot(store, test_queries)
    for p in TEXTS:
        q = quote(p, safe="")
        for method, path in (
            ("GET", f"/v1/customers/{q}"),
            ("GET", f"/v1/sessions/{q}/context"),
            ("GET", f"/v1/customers/{q}/export"),
            ("GET", f"/v1/customers/{q}/consents/history"),
            ("DELETE", f"/v1/customers/{q}"),
            ("GET", f"/v1/products/{q}/similar"),
        ):
            r = client.request(method, path, headers=h, params={"tz": p, "purpose": p})
            assert r.status_code in (404, 422), (method, path, r.status_code, r.text)
        r = client.post("/v1/customers/lookup", json={"email": p}, headers=h)
        assert r.status_code in (200, 422)
    assert _snapshot(store, test_queries) == before
    audit = _audit_text(store, test_queries)
    assert '"outcome": "not_found"' in audit
    assert not [p for p in TEXTS if len(p) > 3 and json.dumps(p)[1:-1] in audit]


def test_profile_attribute_names_labels_and_types_come_from_whitelists(
    api: Api,
) -> None:
    client, h = api.client, api.h("all")
    for p in PAYLOADS:
        r = client.post(
            "/v1/events",
            headers=h,
            json={
                "events": [
                    {
                        "type": "profile_updated",
                        "event_id": f"pf-{p}",
                        "customer_id": "c",
                        "timestamp": "2011-12-01T10:00:00Z",
                        "fields": {p: "x"},
                    }
                ]
            },
        )
        assert r.status_code == 422
        assert r.json()["items"][0]["reason"] == "invalid_field"
        with pytest.raises(CkgError):
            label(p)
        with pytest.raises(CkgError):
            rel_type(p)


@settings(max_examples=150, deadline=None)
@given(
    value=st.one_of(
        st.text(),
        st.sampled_from(TEXTS),
        st.lists(st.text(max_size=20), max_size=5),
        st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4),
    )
)
def test_parameters_round_trip_unchanged(
    value: Any, _isolated_env: Path, test_queries: QueryCatalog
) -> None:
    """Whatever a parameter holds comes back equal: the parameter encoding cannot be broken
    out of (FalkorDB takes parameters as a text prefix, so this is the injection boundary)."""
    global _ECHO_STORE
    if _ECHO_STORE is None:
        _ECHO_STORE = open_store(Settings(data_dir=_isolated_env, graph_name="inj_echo"))
    try:
        rows = _ECHO_STORE.read(test_queries.get("test_echo"), {"value": value})
    except QueryError as exc:  # refused before sending: a NUL, or a map key we cannot quote
        assert "NUL" in str(exc) or "unusable key" in str(exc)
        return
    assert rows == [{"value": value}]


_ECHO_STORE: Store | None = None
