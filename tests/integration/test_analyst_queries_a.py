"""Analyst questions on a small known graph: a session's journey, the funnel by day and channel,
cart abandonment by segment and device, the co-purchase network, a segment explored, customers
and products most similar through the vector indexes, and recommendations with their evidence.
Every expected row is worked out by hand from the events and writes below, not from the
queries; each runs on both engines."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from graph.queries import get_queries
from graph.store import Store
from ingest.loader import Loader
from ingest.report import DeadLetter
from ingest.sources import SourceRecord
from tests.helpers import Api, event_builder, load_clean

Q = get_queries()
D1, D2, D3 = "2011-03-01", "2011-03-02", "2011-03-05"
NAMES = {"mug": "Blue mug", "lamp": "Desk lamp", "pot": "Tea pot"}


def ms(ts: str) -> int:
    """Epoch milliseconds of an ISO time, worked out apart from the store's own conversion."""
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def _lines(*lines: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"product_id": p, "qty": n, "unit_price": 5.0, "name": NAMES[p]} for p, n in lines]


def events() -> list[dict[str, Any]]:
    """Six sessions in the window (D1, D2) and one after it (D3):
    s1 c1 web desktop D1: view, search, cart, checkout, purchase o1 (mug x2, lamp) — bought
    s2 c2 web mobile D1: view, cart — abandoned
    s3 c3 app mobile D1: view, cart, checkout, purchase o2 (mug, pot) — bought
    s4 visitor v1 web desktop D2: view, cart — abandoned
    s5 c1 web desktop D2: purchase o3 (lamp, pot x2), no cart
    s8 c3 web desktop D2: view, cart — abandoned
    s6 c4 web desktop D3: view (outside the window)"""
    ev = event_builder("e")
    consent = event_builder("a")
    granted = {"purpose": "analytics", "granted": True, "source": "banner"}
    who = [{"customer_id": c} for c in ("c1", "c2", "c3", "c4")] + [{"anonymous_id": "v1"}]
    out = [consent("consent_changed", "2011-02-01T00:00:00Z", **w, **granted) for w in who]

    def view(ts: str, sid: str, product: str, category: str, **kw: Any) -> dict[str, Any]:
        return ev(
            "product_view", ts, session_id=sid, product_id=product, category_id=category, **kw
        )

    def cart(ts: str, sid: str, product: str, qty: int, **kw: Any) -> dict[str, Any]:
        money = {"unit_price": 5.0, "currency": "GBP"}
        return ev("add_to_cart", ts, session_id=sid, product_id=product, qty=qty, **money, **kw)

    def buy(ts: str, sid: str, order: str, amount: float, lines: Any, **kw: Any) -> dict[str, Any]:
        return ev(
            "purchase",
            ts,
            session_id=sid,
            order_id=order,
            lines=lines,
            amount=amount,
            currency="GBP",
            **kw,
        )

    c1 = {"customer_id": "c1", "device": "desktop"}
    c2 = {"customer_id": "c2", "device": "mobile"}
    c3app = {"customer_id": "c3", "device": "mobile", "channel": "app"}
    v1 = {"anonymous_id": "v1", "device": "desktop"}
    c3 = {"customer_id": "c3", "device": "desktop"}
    return [
        *out,
        view(f"{D1}T10:00:00Z", "s1", "mug", "mugs", dwell_ms=2000, **c1),
        ev("search", f"{D1}T10:01:00Z", session_id="s1", query="blue mug", results=3, **c1),
        cart(f"{D1}T10:02:00Z", "s1", "mug", 2, **c1),
        ev("checkout_started", f"{D1}T10:03:00Z", session_id="s1", **c1),
        buy(f"{D1}T10:04:00Z", "s1", "o1", 30.0, _lines(("mug", 2), ("lamp", 1)), **c1),
        view(f"{D1}T12:00:00Z", "s2", "lamp", "lamps", **c2),
        cart(f"{D1}T12:01:00Z", "s2", "lamp", 1, **c2),
        view(f"{D1}T13:00:00Z", "s3", "mug", "mugs", **c3app),
        cart(f"{D1}T13:01:00Z", "s3", "mug", 1, **c3app),
        ev("checkout_started", f"{D1}T13:02:00Z", session_id="s3", **c3app),
        buy(f"{D1}T13:03:00Z", "s3", "o2", 20.0, _lines(("mug", 1), ("pot", 1)), **c3app),
        view(f"{D2}T09:00:00Z", "s4", "pot", "kitchen", **v1),
        cart(f"{D2}T09:01:00Z", "s4", "pot", 1, **v1),
        buy(f"{D2}T10:00:00Z", "s5", "o3", 50.0, _lines(("lamp", 1), ("pot", 2)), **c1),
        view(f"{D2}T10:30:00Z", "s8", "mug", "mugs", **c3),
        cart(f"{D2}T10:31:00Z", "s8", "mug", 1, **c3),
        view(f"{D3}T08:00:00Z", "s6", "lamp", "lamps", customer_id="c4", device="desktop"),
    ]


def _segments(store: Store) -> None:
    """RFM segments as `ckg segment` writes them: c1 and c3 champions, c2 at risk."""
    store.write_rows(
        Q.set_customer_rfm,
        [{"id": "c1", "r": 5, "f": 4, "m": 5}, {"id": "c3", "r": 3, "f": 2, "m": 1}],
    )
    store.write_rows(
        Q.upsert_segments,
        [
            {"id": "rfm:champions", "kind": "rfm", "name": "Champions", "size": 2, "profile": "{}"},
            {"id": "rfm:at-risk", "kind": "rfm", "name": "At risk", "size": 1, "profile": "{}"},
        ],
        {"model": "segments-test"},
    )
    store.write_rows(
        Q.assign_segments,
        [
            {"customer": "c1", "segment": "rfm:champions", "score": 1.0},
            {"customer": "c3", "segment": "rfm:champions", "score": 1.0},
            {"customer": "c2", "segment": "rfm:at-risk", "score": 1.0},
        ],
        {"model": "segments-test", "at": 0},
    )


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    load_clean(store, events(), tmp_path, batch_size=5)
    _segments(store)
    return store


def _id(type_: str, ts: str) -> str:
    return str(next(e["event_id"] for e in events() if e["type"] == type_ and e["timestamp"] == ts))


def test_session_journey_lists_the_events_in_order(loaded: Store) -> None:
    rows = loaded.read(Q.get("session_journey"), {"id": "s1", "limit": 10})
    mug, lamp = {"id": "mug", "name": "Blue mug"}, {"id": "lamp", "name": "Desk lamp"}
    blank = {"query": None, "results": None, "qty": None, "amount": None, "dwell_ms": None}
    steps: list[tuple[str, str, list[dict[str, str]], dict[str, Any]]] = [
        ("product_view", "10:00", [mug], {"dwell_ms": 2000}),
        ("search", "10:01", [], {"query": "blue mug", "results": 3}),
        ("add_to_cart", "10:02", [mug], {"qty": 2}),
        ("checkout_started", "10:03", [], {}),
        ("purchase", "10:04", [lamp, mug], {"qty": 3, "amount": 30.0}),
    ]
    expected = []
    for type_, hhmm, products, fields in steps:
        ts = f"{D1}T{hhmm}:00Z"
        expected.append(
            {
                "at": ms(ts),
                "event": _id(type_, ts),
                "type": type_,
                "products": products,
                **blank,
                **fields,
            }
        )
    assert rows == expected
    assert loaded.read(Q.get("session_journey"), {"id": "s1", "limit": 2}) == expected[:2]
    assert loaded.read(Q.get("session_journey"), {"id": "nobody", "limit": 10}) == []


def test_funnel_counts_sessions_reaching_each_step_by_day_and_channel(loaded: Store) -> None:
    rows = loaded.read(Q.get("funnel_by_day"), {"from": ms(f"{D1}T00:00:00Z"), "to": ms(D3)})
    keys = ("day_at", "channel", "sessions", "viewed", "carted", "checked_out", "purchased")
    assert rows == [
        dict(zip(keys, values, strict=True))
        for values in (
            (ms(f"{D1}T00:00:00Z"), "app", 1, 1, 1, 1, 1),  # s3
            (ms(f"{D1}T00:00:00Z"), "web", 2, 2, 2, 1, 1),  # s1, s2
            (ms(f"{D2}T00:00:00Z"), "web", 3, 2, 2, 0, 1),  # s4, s5, s8
        )
    ]


def test_cart_abandonment_by_segment_and_device(loaded: Store) -> None:
    window = {"from": ms(f"{D1}T00:00:00Z"), "to": ms(D3), "kind": "rfm"}
    rows = loaded.read(Q.get("cart_abandonment_by_segment"), window)
    keys = ("segment", "device", "carts", "abandoned", "abandonment_rate")
    assert rows == [
        dict(zip(keys, values, strict=True))
        for values in (
            ("(none)", "desktop", 1, 1, 1.0),  # the visitor's s4
            ("At risk", "mobile", 1, 1, 1.0),  # c2's s2
            ("Champions", "desktop", 2, 1, 0.5),  # c1's s1 bought, c3's s8 did not
            ("Champions", "mobile", 1, 0, 0.0),  # c3's s3
        )
    ]
    other_kind = loaded.read(Q.get("cart_abandonment_by_segment"), {**window, "kind": "cluster"})
    assert [(r["segment"], r["device"], r["carts"]) for r in other_kind] == [
        ("(none)", "desktop", 3),
        ("(none)", "mobile", 2),
    ]


def test_co_purchase_network_around_a_product(loaded: Store) -> None:
    rows = loaded.read(Q.get("co_purchase_network"), {"id": "lamp", "limit": 10})
    # lamp is in o1 (with mug) and o3 (with pot), both c1's
    assert [(r["product"], r["name"], r["orders"], r["customers"]) for r in rows] == [
        ("mug", "Blue mug", 1, 1),
        ("pot", "Tea pot", 1, 1),
    ]
    assert all(r["p"]["id"] == "lamp" and r["q"]["id"] == r["product"] for r in rows)
    mug = loaded.read(Q.get("co_purchase_network"), {"id": "mug", "limit": 1})
    # mug: lamp in o1 (c1), pot in o2 (c3): one order each, ties by id
    assert [(r["product"], r["orders"], r["customers"]) for r in mug] == [("lamp", 1, 1)]


def test_segment_explorer_profiles_members_and_their_categories(loaded: Store) -> None:
    (row,) = loaded.read(Q.get("segment_explorer"), {"id": "rfm:champions", "sample": 1, "top": 5})
    # c1: ltv 80 (o1 30 + o3 50), 2 orders; c3: ltv 20, 1 order
    assert row == {
        "segment": "rfm:champions",
        "kind": "rfm",
        "name": "Champions",
        "model": "segments-test",
        "profile": "{}",
        "members": 2,
        "sample": ["c1"],
        "mean_ltv": 50.0,
        "mean_orders": 1.5,
        "mean_r": 4.0,
        "mean_f": 3.0,
        "mean_m": 3.0,
        # quantities bought: kitchen (pot) 2 + 1, mugs (mug) 2 + 1, lamps (lamp) 2
        "top_categories": [
            {"id": "kitchen", "name": None, "qty": 3},
            {"id": "mugs", "name": None, "qty": 3},
            {"id": "lamps", "name": None, "qty": 2},
        ],
    }
    (risk,) = loaded.read(Q.get("segment_explorer"), {"id": "rfm:at-risk", "sample": 5, "top": 5})
    assert (risk["members"], risk["sample"], risk["mean_ltv"]) == (1, ["c2"], 0.0)
    assert risk["top_categories"] == []  # c2 bought nothing
    assert loaded.read(Q.get("segment_explorer"), {"id": "none", "sample": 1, "top": 1}) == []


def _unit(angle_deg: float) -> list[float]:
    """A 64-dimensional unit vector at this angle in the plane of the first two axes."""
    a = math.radians(angle_deg)
    return [math.cos(a), math.sin(a)] + [0.0] * 62


def test_similar_customers_and_products_by_vector_share_one_score(loaded: Store) -> None:
    for create, write, vectors in (
        (
            Q.create_customer_vector_index,
            Q.set_customer_embeddings,
            {"c1": 0, "c2": 60, "c3": 90, "c4": 180},
        ),
        (
            Q.create_product_vector_index,
            Q.set_product_embeddings,
            {"mug": 0, "lamp": math.degrees(math.acos(0.6)), "pot": 90},
        ),
    ):
        loaded.write(create)
        loaded.write_rows(write, [{"id": k, "vector": _unit(v)} for k, v in vectors.items()])
    loaded.await_indexes()
    rows = loaded.read(Q.get("similar_customers"), {"id": "c1", "k": 10})
    # cosines 0.5, 0 and -1, the customer itself left out
    assert [r["customer"] for r in rows] == ["c2", "c3", "c4"]
    assert [r["similarity"] for r in rows] == pytest.approx([0.5, 0.0, -1.0], abs=1e-5)
    assert rows[0]["lifetime_value"] == 0.0
    two = loaded.read(Q.get("similar_customers"), {"id": "c1", "k": 2})
    assert [r["customer"] for r in two] == ["c2", "c3"]
    products = loaded.read(Q.get("similar_products_by_vector"), {"id": "mug", "k": 5})
    assert [(r["product"], r["name"]) for r in products] == [
        ("lamp", "Desk lamp"),
        ("pot", "Tea pot"),
    ]
    assert [r["similarity"] for r in products] == pytest.approx([0.6, 0.0], abs=1e-5)
    # no vector, no neighbours
    assert loaded.read(Q.get("similar_customers"), {"id": "c5", "k": 3}) == []


def _recommendations(store: Store) -> None:
    """c3 (bought mug and pot in o2) gets lamp through mug, and pot (bought) as popular; c3 is
    similar to c1, who bought both; mug's nearest product is lamp."""
    store.write(
        Q.upsert_model,
        {
            "id": "m1",
            "kind": "node2vec",
            "params": "{}",
            "seed": 1,
            "snapshot": "{}",
            "metrics": "{}",
            "created_at": ms(D3),
        },
    )
    store.write(Q.promote_model, {"id": "m1", "kind": "node2vec"})
    store.write_rows(
        Q.replace_product_similar,
        [{"id": "mug", "ids": ["lamp"], "scores": [0.9]}],
        {"model": "m1"},
    )
    store.write_rows(
        Q.replace_customer_similar, [{"id": "c3", "ids": ["c1"], "scores": [0.7]}], {"model": "m1"}
    )
    item = {"via": None, "via_score": None, "buyers": 2}
    store.write_rows(
        Q.replace_recommended,
        [
            {
                "id": "c3",
                "items": [
                    {
                        **item,
                        "product": "lamp",
                        "score": 0.8,
                        "rank": 1,
                        "rank_all": 1,
                        "reason": "similar_to_purchased",
                        "via": "mug",
                        "via_score": 0.9,
                    },
                    {
                        **item,
                        "product": "pot",
                        "score": 0.4,
                        "rank": None,
                        "rank_all": 2,
                        "reason": "popular",
                    },
                ],
            }
        ],
        {"model": "m1"},
    )


def test_recommendations_explained_carry_their_evidence(loaded: Store) -> None:
    _recommendations(loaded)
    rows = loaded.read(Q.get("recommendations_explained"), {"id": "c3", "limit": 10})
    common = {"buyers": 2, "model": "m1", "model_promoted": True, "similar_customers_bought": 1}
    assert rows == [
        {
            **common,
            "rank": 1,
            "product": "lamp",
            "name": "Desk lamp",
            "score": 0.8,
            "reason": "similar_to_purchased",
            "via": "mug",
            "via_name": "Blue mug",
            "via_score": 0.9,
            "via_bought_orders": 1,  # o2
            "via_last_bought_at": ms(f"{D1}T13:03:00Z"),
            "via_similarity": 0.9,
            "shared_categories": [],  # lamps: c3 bought from mugs and kitchen
            "already_bought": False,
        },
        {
            **common,
            "rank": 2,
            "product": "pot",
            "name": "Tea pot",
            "score": 0.4,
            "reason": "popular",
            "via": None,
            "via_name": None,
            "via_score": None,
            "via_bought_orders": None,
            "via_last_bought_at": None,
            "via_similarity": None,
            "shared_categories": ["kitchen"],
            "already_bought": True,
        },
    ]
    assert len(loaded.read(Q.get("recommendations_explained"), {"id": "c3", "limit": 1})) == 1
    assert loaded.read(Q.get("recommendations_explained"), {"id": "c1", "limit": 5}) == []


def test_the_questions_run_through_the_api_and_draw_their_products(
    api: Api, tmp_path: Path
) -> None:
    records = [SourceRecord("test", i, e) for i, e in enumerate(events(), start=1)]
    with DeadLetter(tmp_path / "dead.jsonl") as dl:
        Loader(api.store, dl).load(records)
    r = api.client.post(
        "/v1/analyst/queries/co_purchase_network/run",
        json={"params": {"id": "lamp", "limit": 10}},
        headers=api.h("analyst:read"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["product"] for row in body["rows"]] == ["mug", "pot"]
    drawn = {n["properties"]["id"] for n in body["nodes"] if "Product" in n["labels"]}
    assert drawn == {"lamp", "mug", "pot"}
    listed = api.client.get("/v1/analyst/queries", headers=api.h("analyst:read")).json()
    names = {q["name"] for q in listed["queries"]}
    assert {
        "session_journey",
        "funnel_by_day",
        "cart_abandonment_by_segment",
        "co_purchase_network",
        "segment_explorer",
        "similar_customers",
        "similar_products_by_vector",
        "recommendations_explained",
    } <= names
