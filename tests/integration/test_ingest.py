"""Loading events into the real store: idempotent, order-independent, reconciled, dead-lettered."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from graph.catalog import QueryCatalog
from graph.queries import get_queries
from graph.store import Store
from ingest.loader import Loader
from ingest.report import DeadLetter
from ingest.sources import SourceRecord, read_jsonl
from tests.helpers import SMALL, snapshot

Q = get_queries()


def load(store: Store, records: list[SourceRecord], tmp_path: Path, batch_size: int = 4) -> Any:
    with DeadLetter(tmp_path / "dead.jsonl") as dl:
        return Loader(store, dl, batch_size=batch_size).load(records).reconciliation


def test_small_file_builds_the_session_context_graph(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    rec = load(store, list(read_jsonl(SMALL)), tmp_path)
    assert rec.as_dict()["accepted"] == 18 and rec.balanced

    view = store.read_one(test_queries.get("test_session_view"), {"id": "sess-A"})
    assert view is not None
    # anon-9 browsed anonymously, then logged in as cust-1 mid-session: the session moved over.
    assert (view["owner_label"], view["owner"]) == ("Customer", "cust-1")
    assert view["intent"] == "purchased"
    assert view["first"] == "ev-002"
    # Added 2, removed 2: the line stays at 0 (sums commute; readers skip qty <= 0).
    assert view["cart"] == [{"product": "sku-2", "qty": 0}]

    nodes, rels = snapshot(store, test_queries)
    chain = {(r["a"], r["b"]) for r in rels if r["type"] == "NEXT"}
    assert {("ev-002", "ev-003"), ("ev-003", "ev-004"), ("ev-008", "ev-009")} <= chain
    customer = next(n["props"] for n in nodes if n["label"] == "Customer")
    assert customer["ltv"] == pytest.approx(15.0 - 7.5)
    assert customer["orders"] == 1
    assert customer["points"] == 900
    assert customer["country"] == "DE"
    tiers = [r["b"] for r in rels if r["type"] == "HAS_TIER"]
    assert tiers == ["gold"]
    purchased = next(r for r in rels if r["type"] == "PURCHASED")
    assert (purchased["b"], purchased["props"]["qty"]) == ("sku-2", 1)
    viewed = {r["b"]: r["props"] for r in rels if r["type"] == "VIEWED"}
    assert viewed["sku-1"]["count"] == 2 and viewed["sku-1"]["dwell_ms"] == 5000
    searched = [r["b"] for r in rels if r["type"] == "SEARCHED"]
    assert searched == ["blue mug"]
    chat = next(n["props"] for n in nodes if n["id"] == "ev-010")
    assert "text" not in chat  # raw chat text is kept only when enabled
    page = next(n["props"] for n in nodes if n["id"] == "ev-015")
    assert "email" not in page["url"]


def test_loading_twice_changes_nothing(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    first = load(store, list(read_jsonl(SMALL)), tmp_path)
    before = snapshot(store, test_queries)
    second = load(store, list(read_jsonl(SMALL)), tmp_path)
    assert second.as_dict()["duplicates"] == first.as_dict()["accepted"] == 18
    assert second.accepted == 0
    assert snapshot(store, test_queries) == before


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_order_and_batching_do_not_matter(
    store: Store, tmp_path: Path, test_queries: QueryCatalog, seed: int
) -> None:
    records = list(read_jsonl(SMALL))
    assert snapshot(store, test_queries) == ([], [])  # the store fixture's graph is this test's
    load(store, records, tmp_path, batch_size=100)
    expected = snapshot(store, test_queries)
    nodes, _ = expected
    ids = {label: {n["id"] for n in nodes if n["label"] == label} for label in ("Event", "Session")}
    sent = [r.data for r in records if r.data is not None]
    assert len(sent) == len(records) == 18
    assert ids["Event"] == {e["event_id"] for e in sent}  # every event, nothing else
    assert ids["Session"] == {"sess-A", "sess-B", "sess-C"}

    shuffled = records[:]
    random.Random(seed).shuffle(shuffled)
    # analytics consent gates what is stored: the consents come first, the rest in any order
    shuffled.sort(key=lambda r: r.data is None or r.data["type"] != "consent_changed")
    for size in (1, 2, 5):
        # the same graph emptied, so this holds on a server with one database as well
        store.write(test_queries.get("test_delete_all"))
        assert snapshot(store, test_queries) == ([], []), size
        load(store, shuffled, tmp_path, batch_size=size)
        assert snapshot(store, test_queries) == expected, size


def test_malformed_lines_are_dead_lettered_and_good_ones_load(store: Store, tmp_path: Path) -> None:
    good = SMALL.read_text().splitlines()[:3]
    bad = [
        "{not json",
        json.dumps(
            {
                "type": "search",
                "session_id": "s",
                "anonymous_id": "a",
                "timestamp": "2024-01-01T00:00:00Z",
                "query": "x",
            }
        ),  # no event_id
        json.dumps(
            {
                "type": "add_to_cart",
                "event_id": "b1",
                "session_id": "s",
                "anonymous_id": "a",
                "timestamp": "2024-01-01T00:00:00Z",
                "product_id": "p",
                "qty": "many",
                "unit_price": 1,
                "currency": "EUR",
            }
        ),
        json.dumps(
            {
                "type": "search",
                "event_id": "b2",
                "session_id": "s",
                "anonymous_id": "a",
                "timestamp": "2011-02-30T10:00:00Z",
                "query": "x",
            }
        ),
        json.dumps(
            {
                "type": "add_to_cart",
                "event_id": "b3",
                "session_id": "s",
                "anonymous_id": "a",
                "timestamp": "2024-01-01T00:00:00Z",
                "product_id": "p",
                "qty": 10**12,
                "unit_price": 1,
                "currency": "EUR",
            }
        ),
        json.dumps(
            {
                "type": "loyalty_updated",
                "event_id": "b4",
                "anonymous_id": "a",
                "timestamp": "2024-01-01T00:00:00Z",
                "points": 1,
                "tier": "x",
            }
        ),
        "[1, 2, 3]",
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(good[:2] + bad + good[2:]) + "\n")
    dead = tmp_path / "dead.jsonl"
    with DeadLetter(dead) as dl:
        rec = Loader(store, dl).load(read_jsonl(path)).reconciliation
    assert rec.as_dict() == {
        "input": 10,
        "accepted": 3,
        "duplicates": 0,
        "rejected": 7,
        "rejected_by_reason": {
            "bad_timestamp": 1,
            "invalid_field": 1,
            "invalid_json": 1,
            "missing_id": 2,
            "not_an_object": 1,
            "value_out_of_range": 1,
        },
        "balanced": True,
        "status": "partial",
    }
    letters = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [x["position"] for x in letters] == [3, 4, 5, 6, 7, 8, 9]
    assert letters[0]["record"] == "{not json"
    assert letters[2]["record"]["qty"] == "many"
    assert all(x["reason"] and x["source"] == str(path) for x in letters)


RETAIL_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def test_retail_invoice_becomes_one_event_and_bad_rows_fall_out(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    from ingest.run import ingest_file

    rows = [
        "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
        "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
        "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
        "536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.00,17850.0,United Kingdom",
        "536365,84406B,CREAM CUPID,999999999,2010-12-01 08:26:00,2.75,17850.0,United Kingdom",
        "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
        "C536379,71053,WHITE METAL LANTERN,-1,2010-12-01 09:41:00,3.39,17850.0,United Kingdom",
    ]
    path = tmp_path / "retail.csv"
    path.write_text("\n".join([RETAIL_HEADER, *rows]) + "\n")
    result, dead = ingest_file(store, path, fmt="online-retail", dead_letter=tmp_path / "dl.jsonl")
    assert result.reconciliation.as_dict()["rejected_by_reason"] == {
        "not_customer_activity": 1,
        "value_out_of_range": 1,
    }
    assert (result.reconciliation.accepted, result.reconciliation.duplicates) == (4, 1)
    nodes, rels = snapshot(store, test_queries)
    events = [n for n in nodes if n["label"] == "Event" and n["props"]["type"] != "consent_changed"]
    assert sorted((e["props"]["type"], e["props"].get("lines")) for e in events) == [
        ("cancellation", None),
        ("purchase", 1),
        ("purchase", 2),
    ]
    customer = next(n["props"] for n in nodes if n["label"] == "Customer")
    assert customer["id"] == "17850" and customer["orders"] == 2
    assert customer["ltv"] == round(6 * 2.55 + 6 * 3.39 + 6 * 1.85 - 3.39, 4)
    lantern = next(r["props"] for r in rels if r["type"] == "PURCHASED" and r["b"] == "71053")
    assert (lantern["qty"], lantern["count"]) == (5, 1)
    assert {r["b"] for r in rels if r["type"] == "HAS_CONSENT"} == {
        "consent:import:online-retail:c:17850:personalization",
        "consent:import:online-retail:c:17850:analytics",
    }
    letters = [json.loads(x) for x in dead.read_text().splitlines()]
    assert [x["position"] for x in letters] == [4, 5]


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_consent_in_an_earlier_batch_counts_while_it_is_being_written(
    store: Store, tmp_path: Path, batch_size: int
) -> None:
    """Batches are written while the next is planned: a behavioural event must still see the
    consent (or the id link) that the batch in flight records for its owner."""
    rows: list[dict[str, Any]] = [
        {
            "type": "consent_changed",
            "event_id": "k1",
            "customer_id": "c",
            "purpose": "analytics",
            "granted": True,
            "source": "t",
            "timestamp": "2011-12-01T09:00:00Z",
        },
        {
            "type": "page_view",
            "event_id": "p1",
            "customer_id": "c",
            "session_id": "s1",
            "url": "/",
            "timestamp": "2011-12-01T09:01:00Z",
        },
        {
            "type": "page_view",
            "event_id": "p2",
            "anonymous_id": "v",
            "customer_id": "c",
            "session_id": "s2",
            "url": "/login",
            "timestamp": "2011-12-01T09:02:00Z",
        },
        {
            "type": "page_view",
            "event_id": "p3",
            "anonymous_id": "v",
            "session_id": "s3",
            "url": "/",
            "timestamp": "2011-12-01T09:03:00Z",
        },
    ]
    records = [SourceRecord("t", i + 1, r) for i, r in enumerate(rows)]
    rec = load(store, records, tmp_path, batch_size=batch_size)
    assert rec.as_dict()["accepted"] == 4, rec.as_dict()


def test_eshop_products_are_named_from_the_datasets_attributes(
    store: Store, tmp_path: Path
) -> None:
    from ingest.adapters import ESHOP_CATEGORIES, ESHOP_COLOURS
    from ingest.datasets import ESHOP_SAMPLE
    from ingest.run import ingest_file

    ingest_file(store, ESHOP_SAMPLE, fmt="eshop-clickstream", dead_letter=tmp_path / "dl.jsonl")
    names = {r["product"]: r["name"] for r in store.read(Q.product_names)}
    products = store.read(Q.node_counts)
    assert names and len(names) == next(r["nodes"] for r in products if r["label"] == "Product")
    assert all(n.startswith(f"{p} (") and n.endswith(")") for p, n in names.items()), names
    # the description file's colour and category words, never a bare code
    words = {w for n in names.values() for w in n[n.index("(") + 1 : -1].split()}
    known = {*ESHOP_CATEGORIES.values(), *" ".join(ESHOP_COLOURS.values()).split()}
    assert words <= known and len(words) > 4


def test_a_view_nobody_timed_has_no_dwell_time(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    """0 s would read as "left at once"; a source without a clock (the e-shop data) sends no
    dwell time, and the view keeps none, while timed views of the same product still add up."""
    who = {"anonymous_id": "a-1", "session_id": "s-1"}
    base = {"type": "product_view", **who}
    records: list[dict[str, Any]] = [
        {"type": "consent_changed", "event_id": "k", "anonymous_id": "a-1",
         "timestamp": "2024-05-01T09:00:00Z", "purpose": "analytics", "granted": True,
         "source": "test"},
        {**base, "event_id": "v1", "timestamp": "2024-05-01T10:00:00Z", "product_id": "p1",
         "dwell_ms": 2000},
        {**base, "event_id": "v2", "timestamp": "2024-05-01T10:01:00Z", "product_id": "p1"},
        {**base, "event_id": "v3", "timestamp": "2024-05-01T10:02:00Z", "product_id": "p2"},
    ]  # fmt: skip
    for batch_size in (1, 4):  # one batch, or the views of a product across batches
        store.write(test_queries.get("test_delete_all"))
        load(store, [SourceRecord("t", i, r) for i, r in enumerate(records)], tmp_path, batch_size)
        _, rels = snapshot(store, test_queries)
        viewed = {r["b"]: r["props"] for r in rels if r["type"] == "VIEWED"}
        assert viewed["p1"]["count"] == 2 and viewed["p1"]["dwell_ms"] == 2000, batch_size
        assert viewed["p2"]["count"] == 1 and viewed["p2"].get("dwell_ms") is None, batch_size
