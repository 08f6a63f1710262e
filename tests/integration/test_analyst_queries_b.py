"""Analyst questions on a small known graph: consents, erasures, models, searches, purchases,
new customers, categories by country, loyalty tiers. Every expected row is worked out by hand
from the events below, not from the queries."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from graph.queries import get_queries
from graph.store import Store
from privacy.erasure import erase
from tests.helpers import Api, EventBuilder, event_builder, load_clean

Q = get_queries()
DAY = 86_400_000


def ms(ts: str) -> int:
    """Epoch milliseconds of an ISO time, worked out apart from the store's own conversion."""
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def _buy(
    ev: EventBuilder,
    ts: str,
    cid: str,
    order: str,
    amount: float,
    *lines: tuple[str, int],
    **kw: Any,
) -> dict[str, Any]:
    return ev(
        "purchase",
        ts,
        customer_id=cid,
        session_id=f"s-{order}",
        order_id=order,
        lines=[{"product_id": p, "qty": n, "unit_price": 1.0} for p, n in lines],
        amount=amount,
        currency="GBP",
        **kw,
    )


def events() -> list[dict[str, Any]]:
    """Six customers. Purchases (c1 GB, c2 DE, c3 GB, c4 FR), the last of c2's orders
    cancelled whole; an anonymous visitor files the products under categories; consents,
    searches with and without results; loyalty updates of c5 and c6."""
    ev = event_builder("e")
    view = {"session_id": "s-browse", "anonymous_id": "browser", "dwell_ms": 1000}
    consent = event_builder("a")
    analytics = {"purpose": "analytics", "granted": True, "source": "banner"}
    tracked = [  # behavioural events need analytics consent: granted, in the week each is seen
        consent("consent_changed", "2010-11-01T00:00:00Z", anonymous_id="browser", **analytics),
        consent("consent_changed", "2010-12-01T11:00:00Z", customer_id="c5", **analytics),
        consent("consent_changed", "2010-12-13T00:00:00Z", customer_id="c6", **analytics),
        consent("consent_changed", "2010-11-01T00:00:00Z", anonymous_id="v", **analytics),
        consent("consent_changed", "2010-11-01T00:00:00Z", anonymous_id="u", **analytics),
    ]
    return [
        *tracked,
        ev("product_view", "2010-11-30T10:00:00Z", product_id="mug", category_id="mugs", **view),
        ev("product_view", "2010-11-30T10:01:00Z", product_id="lamp", category_id="lamps", **view),
        ev("product_view", "2010-11-30T10:02:00Z", product_id="pot", category_id="mugs", **view),
        ev("product_view", "2010-11-30T10:03:00Z", product_id="pot", category_id="kitchen", **view),
        # c1: three orders, 3 days then 6 days 23 hours apart
        _buy(ev, "2010-12-01T10:00:00Z", "c1", "o1", 100.0, ("mug", 2), ("lamp", 1), country="GB"),
        _buy(ev, "2010-12-04T10:00:00Z", "c1", "o2", 50.0, ("mug", 1)),
        _buy(ev, "2010-12-11T09:00:00Z", "c1", "o3", 30.0, ("pot", 1)),
        # c2: the second order is cancelled whole, so one order and an interval of none
        _buy(ev, "2010-12-02T12:00:00Z", "c2", "o4", 500.0, ("lamp", 1), country="DE"),
        _buy(ev, "2010-12-05T11:00:00Z", "c2", "o5", 20.0, ("mug", 1)),
        ev(
            "cancellation",
            "2010-12-06T00:00:00Z",
            customer_id="c2",
            order_id="o5",
            amount=20.0,
            currency="GBP",
        ),
        # c3 buys as the visitor anon-1 and so links it: 3 days between orders
        _buy(
            ev,
            "2010-12-06T08:00:00Z",
            "c3",
            "o6",
            40.0,
            ("lamp", 1),
            country="GB",
            anonymous_id="anon-1",
        ),
        _buy(ev, "2010-12-09T08:00:00Z", "c3", "o7", 40.0, ("lamp", 1)),
        # c4: one order on a Sunday, one second before Monday 00:00 UTC
        _buy(ev, "2010-12-05T23:59:59Z", "c4", "o8", 150.0, ("mug", 1), country="FR"),
        # consents
        ev(
            "consent_changed",
            "2010-12-01T09:00:00Z",
            customer_id="c1",
            purpose="analytics",
            granted=True,
            source="banner",
        ),
        ev(
            "consent_changed",
            "2010-12-06T07:00:00Z",
            anonymous_id="anon-1",
            purpose="marketing",
            granted=True,
            source="banner",
        ),
        ev(
            "consent_changed",
            "2010-12-06T10:00:00Z",
            customer_id="c1",
            purpose="analytics",
            granted=False,
            source="preference-center",
        ),
        ev(
            "consent_changed",
            "2010-12-07T00:00:00Z",
            anonymous_id="anon-2",
            purpose="personalization",
            granted=True,
            source="banner",
        ),
        # loyalty: c5 outside sessions, c6 first inside a session then outside
        ev("loyalty_updated", "2010-12-07T12:00:00Z", customer_id="c5", points=100, tier="silver"),
        ev("loyalty_updated", "2010-12-09T12:00:00Z", customer_id="c5", points=150, tier="silver"),
        ev("loyalty_updated", "2010-12-10T12:00:00Z", customer_id="c5", points=900, tier="gold"),
        ev("page_view", "2010-12-13T00:00:00Z", customer_id="c6", session_id="s-z", url="/"),
        ev(
            "loyalty_updated",
            "2010-12-13T01:00:00Z",
            customer_id="c6",
            session_id="s-z",
            points=10,
            tier="bronze",
        ),
        ev("loyalty_updated", "2010-12-14T01:00:00Z", customer_id="c6", points=200, tier="silver"),
        # searches: zero results, some results, no count sent
        ev(
            "search",
            "2010-12-01T12:00:00Z",
            customer_id="c5",
            session_id="s-x",
            query="teapot",
            results=0,
        ),
        ev(
            "search",
            "2010-12-10T12:00:00Z",
            customer_id="c5",
            session_id="s-x",
            query="Blue Mug",
            results=0,
        ),
        ev(
            "search",
            "2010-12-11T12:00:00Z",
            anonymous_id="v",
            session_id="s-w",
            query="blue mug",
            results=0,
        ),
        ev(
            "search",
            "2010-12-11T13:00:00Z",
            anonymous_id="v",
            session_id="s-w",
            query="lamp",
            results=3,
        ),
        ev(
            "search",
            "2010-12-12T12:00:00Z",
            anonymous_id="u",
            session_id="s-y",
            query="chair",
            results=0,
        ),
        ev(
            "search",
            "2010-12-12T12:30:00Z",
            anonymous_id="u",
            session_id="s-y",
            query="chair",
            results=0,
        ),
        ev("search", "2010-12-12T13:00:00Z", anonymous_id="u", session_id="s-y", query="zebra"),
    ]


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    load_clean(store, events(), tmp_path, batch_size=7)
    return store


def test_consent_audit_lists_decisions_since_a_time(loaded: Store) -> None:
    rows = loaded.read(Q.get("consent_audit"), {"since": ms("2010-12-01T09:15:00Z")})
    assert rows == [
        {
            "at": ms("2010-12-01T11:00:00Z"),
            "customer": "c5",
            "identity": None,
            "purpose": "analytics",
            "decision": "granted",
            "source": "banner",
            "record": "a1",
        },
        {
            "at": ms("2010-12-06T07:00:00Z"),
            "customer": "c3",
            "identity": "anon:anon-1",
            "purpose": "marketing",
            "decision": "granted",
            "source": "banner",
            "record": "e14",
        },
        {
            "at": ms("2010-12-06T10:00:00Z"),
            "customer": "c1",
            "identity": None,
            "purpose": "analytics",
            "decision": "withdrawn",
            "source": "preference-center",
            "record": "e15",
        },
        {
            "at": ms("2010-12-07T00:00:00Z"),
            "customer": None,
            "identity": "anon:anon-2",
            "purpose": "personalization",
            "decision": "granted",
            "source": "banner",
            "record": "e16",
        },
        {
            "at": ms("2010-12-13T00:00:00Z"),
            "customer": "c6",
            "identity": None,
            "purpose": "analytics",
            "decision": "granted",
            "source": "banner",
            "record": "a2",
        },
    ]
    everything = loaded.read(Q.get("consent_audit"), {"since": 0})
    # the three on 1 November tie on time: by record id
    assert [r["record"] for r in everything[:4]] == ["a0", "a3", "a4", "e13"]
    assert len(everything) == 9


def test_erasure_log_keeps_receipts_and_requests_not_the_subject(loaded: Store) -> None:
    key = b"k" * 32
    receipt = erase(loaded, Q, key, "c2", actor="dpo")
    again = erase(loaded, Q, key, "c2", actor="support")
    assert again.already_erased and again.id == receipt.id
    rows = loaded.read(Q.get("erasure_log"), {"since": 0})
    assert [(r["receipt"], r["action"], r["actor"], r["outcome"]) for r in rows] == [
        (receipt.id, "erasure", "dpo", "complied"),
        (receipt.id, "erasure", "support", "complied"),
    ]
    first = rows[0]
    assert first["erased_at"] == ms(receipt.at)
    assert json.loads(first["counts"]) == {
        "nodes": receipt.nodes,
        "relationships": receipt.relationships,
    }
    assert first["verified"] is True
    assert first["previous_receipt"] is None and first["lifted_at"] is None
    assert first["requested_at"] <= rows[1]["requested_at"]
    assert receipt.nodes["Order"] == 2  # o4 and o5
    assert set(first) == {
        "receipt",
        "erased_at",
        "counts",
        "verified",
        "previous_receipt",
        "lifted_at",
        "request",
        "action",
        "actor",
        "requested_at",
        "outcome",
        "duration_ms",
    }
    values = {json.dumps(v) for r in rows for v in r.values()}
    assert json.dumps("c2") not in values
    assert receipt.subject_hash not in json.dumps(rows)
    assert loaded.read(Q.get("erasure_log"), {"since": first["erased_at"] + 1}) == []


def test_model_lineage_orders_models_and_names_predecessors(store: Store) -> None:
    for mid, kind, created in (
        ("m-0", "n2v", 1000),
        ("m-b", "n2v", 2000),
        ("m-a", "n2v", 2000),
        ("x-1", "other", 1500),
    ):
        store.write(
            Q.upsert_model,
            {
                "id": mid,
                "kind": kind,
                "params": "{}",
                "seed": 7,
                "snapshot": "{}",
                "metrics": json.dumps({"auc": created / 10000}),
                "created_at": created,
            },
        )
    store.write(Q.promote_model, {"id": "m-b", "kind": "n2v"})
    rows = store.read(Q.get("model_lineage"), {})
    got = [
        (r["kind"], r["model"], r["trained_at"], r["promoted"], r["predecessor"], r["predecessors"])
        for r in rows
    ]
    assert got == [
        ("n2v", "m-a", 2000, False, "m-0", 1),
        ("n2v", "m-b", 2000, True, "m-a", 2),
        ("n2v", "m-0", 1000, False, None, 0),
        ("other", "x-1", 1500, False, None, 0),
    ]
    assert rows[1]["metrics"] == json.dumps({"auc": 0.2}) and rows[1]["stale"] is False


def test_searches_without_results(loaded: Store) -> None:
    params = {"since": ms("2010-12-05T00:00:00Z"), "limit": 10}
    assert loaded.read(Q.get("searches_without_results"), params) == [
        {
            "term": "blue mug",
            "searches": 2,
            "sessions": 2,
            "last_searched_at": ms("2010-12-11T12:00:00Z"),
        },
        {
            "term": "chair",
            "searches": 2,
            "sessions": 1,
            "last_searched_at": ms("2010-12-12T12:30:00Z"),
        },
    ]
    top = loaded.read(Q.get("searches_without_results"), {"since": 0, "limit": 1})
    assert [r["term"] for r in top] == ["blue mug"]
    everything = loaded.read(Q.get("searches_without_results"), {"since": 0, "limit": 10})
    assert [r["term"] for r in everything] == ["blue mug", "chair", "teapot"]


def test_repeat_purchase_intervals(loaded: Store) -> None:
    # c1: 3 days, then 6 days 23 h (6 whole days); c3: 3 days; c2's second order cancelled
    assert loaded.read(Q.get("repeat_purchase_intervals"), {}) == [
        {"days": 3, "intervals": 2, "customers": 2},
        {"days": 6, "intervals": 1, "customers": 1},
    ]


def test_lapsed_high_value(loaded: Store) -> None:
    params = {"before": ms("2010-12-08T00:00:00Z"), "min_value": 100.0, "limit": 10}
    rows = loaded.read(Q.get("lapsed_high_value"), params)
    # c1 (180) bought on the 11th; c3 (80) is below the value; c2's cancelled order is no purchase
    assert rows == [
        {
            "customer": "c2",
            "country": "DE",
            "lifetime_value": 500.0,
            "orders": 1,
            "last_purchase_at": ms("2010-12-02T12:00:00Z"),
            "last_seen_at": ms("2010-12-06T00:00:00Z"),
        },
        {
            "customer": "c4",
            "country": "FR",
            "lifetime_value": 150.0,
            "orders": 1,
            "last_purchase_at": ms("2010-12-05T23:59:59Z"),
            "last_seen_at": ms("2010-12-05T23:59:59Z"),
        },
    ]
    params["limit"] = 1
    assert [r["customer"] for r in loaded.read(Q.get("lapsed_high_value"), params)] == ["c2"]


def test_new_customers_by_week(loaded: Store) -> None:
    # weeks from Monday: c1 (Wed 1st), c2 (Thu 2nd), c5 (its first search, Wed 1st), c4 (Sun 5th
    # 23:59:59) | c3 (Mon 6th 08:00) | c6 (Mon 13th 00:00)
    assert loaded.read(Q.get("new_customers_by_week"), {}) == [
        {"week_start_at": ms("2010-11-29T00:00:00Z"), "new_customers": 4},
        {"week_start_at": ms("2010-12-06T00:00:00Z"), "new_customers": 1},
        {"week_start_at": ms("2010-12-13T00:00:00Z"), "new_customers": 1},
    ]


def test_category_affinity_by_country(loaded: Store) -> None:
    # GB: c1 mug x2 orders, lamp, pot (mugs + kitchen); c3 lamp in 2 orders -> 7 category lines
    assert loaded.read(Q.get("category_affinity_by_country"), {}) == [
        {
            "country": "DE",
            "category": "lamps",
            "name": None,
            "purchases": 1,
            "buyers": 1,
            "share": 0.5,
        },
        {
            "country": "DE",
            "category": "mugs",
            "name": None,
            "purchases": 1,
            "buyers": 1,
            "share": 0.5,
        },
        {
            "country": "FR",
            "category": "mugs",
            "name": None,
            "purchases": 1,
            "buyers": 1,
            "share": 1.0,
        },
        {
            "country": "GB",
            "category": "lamps",
            "name": None,
            "purchases": 3,
            "buyers": 2,
            "share": 0.4286,
        },
        {
            "country": "GB",
            "category": "mugs",
            "name": None,
            "purchases": 3,
            "buyers": 1,
            "share": 0.4286,
        },
        {
            "country": "GB",
            "category": "kitchen",
            "name": None,
            "purchases": 1,
            "buyers": 1,
            "share": 0.1429,
        },
    ]


def test_tier_movements(loaded: Store) -> None:
    rows = loaded.read(Q.get("tier_movements"), {"since": ms("2010-12-08T00:00:00Z")})
    # c5's silver -> silver on the 9th is no change; its first (the 7th) is before the window
    assert rows == [
        {
            "moved_at": ms("2010-12-10T12:00:00Z"),
            "customer": "c5",
            "from_tier": "silver",
            "to_tier": "gold",
            "points": 900,
            "event": "e19",
        },
        {
            "moved_at": ms("2010-12-13T01:00:00Z"),
            "customer": "c6",
            "from_tier": None,
            "to_tier": "bronze",
            "points": 10,
            "event": "e21",
        },
        {
            "moved_at": ms("2010-12-14T01:00:00Z"),
            "customer": "c6",
            "from_tier": "bronze",
            "to_tier": "silver",
            "points": 200,
            "event": "e22",
        },
    ]


def test_the_api_runs_them_with_times_as_iso(api: Api) -> None:
    api.load(*events())
    r = api.client.post(
        "/v1/analyst/queries/tier_movements/run",
        json={"params": {"since": ms("2010-12-14T00:00:00Z")}},
        headers=api.h("analyst:read"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [
        {
            "moved_at": "2010-12-14T01:00:00Z",
            "customer": "c6",
            "from_tier": "bronze",
            "to_tier": "silver",
            "points": 200,
            "event": "e22",
        },
    ]
    listed = api.client.get("/v1/analyst/queries", headers=api.h("analyst:read")).json()
    params = {q["name"]: q["params"] for q in listed["queries"]}
    assert params["lapsed_high_value"] == ["before", "limit", "min_value"]
    assert params["consent_audit"] == params["erasure_log"] == ["since"]
    assert params["model_lineage"] == params["new_customers_by_week"] == []


RUNS: dict[str, dict[str, Any]] = {
    "consent_audit": {"since": 0},
    "erasure_log": {"since": 0},
    "model_lineage": {},
    "searches_without_results": {"since": 0, "limit": 5},
    "repeat_purchase_intervals": {},
    "lapsed_high_value": {"before": ms("2011-01-01T00:00:00Z"), "min_value": 0.0, "limit": 3},
    "new_customers_by_week": {},
    "category_affinity_by_country": {},
    "tier_movements": {"since": 0},
}


def test_each_runs_over_http_with_its_parameters(api: Api) -> None:
    """Over the route: plain columns, no graph values, and rows where the data holds some."""
    api.load(*events())
    for name, params in RUNS.items():
        r = api.client.post(
            f"/v1/analyst/queries/{name}/run",
            json={"params": params},
            headers=api.h("analyst:read"),
        )
        assert r.status_code == 200, (name, r.text)
        body = r.json()
        assert body["nodes"] == [] and body["relationships"] == [] and not body["truncated"]
        assert bool(body["rows"]) == (name not in ("erasure_log", "model_lineage")), name
    lapsed = api.client.post(
        "/v1/analyst/queries/lapsed_high_value/run",
        json={"params": {"before": ms("2011-01-01T00:00:00Z"), "min_value": 0.0}},
        headers=api.h("analyst:read"),
    )
    assert lapsed.status_code == 422 and "limit" in lapsed.json()["detail"]["message"]
