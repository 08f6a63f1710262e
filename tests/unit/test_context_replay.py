"""Replays of a session's context (`?at=`): what api.replay rebuilds from the query's rows, and
the first-visit fact, on records built by hand."""

from __future__ import annotations

from typing import Any

import pytest

from api.context import SessionNotStarted, build_context
from api.replay import as_of, cart_as_of, consents_as_of, searches_as_of, session_as_of
from api.rules import load_rules
from graph.records import ReplayEventRow, ReplayProductRow, SessionContextRecord, SessionRow
from privacy.consent import ConsentRecord

H = 3_600_000


def consent(purpose: str, granted: bool, at: int) -> ConsentRecord:
    return ConsentRecord(purpose=purpose, granted=granted, at=at, source="t")


def test_consents_as_of_keep_the_decision_then_unless_withdrawn_now() -> None:
    records = [
        consent("personalization", True, 1 * H),
        consent("personalization", False, 5 * H),
        consent("analytics", False, 1 * H),
        consent("analytics", True, 3 * H),
        consent("marketing", True, 4 * H),
    ]
    then = {r.purpose: (r.granted, r.at) for r in consents_as_of(records, 2 * H)}
    # withdrawn since: the withdrawal shows; granted now but withdrawn then: as then;
    # granted only after the instant: no decision then
    assert then == {"personalization": (False, 5 * H), "analytics": (False, 1 * H)}
    assert {r.purpose for r in consents_as_of(records, 4 * H) if r.granted} == {
        "analytics",
        "marketing",
    }


def product(kind: str, at: int, pid: str, **fields: Any) -> ReplayProductRow:
    return ReplayProductRow(event=f"e{at}{pid}", type=kind, at=at, id=pid, **fields)


def test_cart_as_of_adds_and_removes_with_the_latest_price() -> None:
    lines = cart_as_of(
        [
            product("add_to_cart", 2, "a", qty=2, unit_price=1.0),
            product("add_to_cart", 1, "b", qty=1, unit_price=5.0),
            product("add_to_cart", 3, "a", qty=1, unit_price=1.5),
            product("remove_from_cart", 4, "b", qty=1),
            product("product_view", 9, "c", dwell_ms=10),
        ]
    )
    assert [(r.id, r.qty, r.unit_price, r.updated_at) for r in lines] == [("a", 3, 1.5, 4)]
    assert cart_as_of([product("product_view", 1, "c")]) == []


def test_session_and_searches_as_of_follow_ingestion() -> None:
    events = [
        ReplayEventRow(id="1", type="product_view", at=1),
        ReplayEventRow(id="2", type="search", at=2, query="Red  Lantern"),
        ReplayEventRow(id="3", type="search", at=3, query="red lantern"),
        ReplayEventRow(id="4", type="search", at=4),  # text withheld without consent
    ]
    session = session_as_of(SessionRow(id="s", started_at=1, last_seen_at=99), events)
    assert (session.events, session.intent, session.last_seen_at) == (4, "search", 4)
    assert [(q.text, q.count, q.last_at) for q in searches_as_of(events)] == [("red lantern", 2, 3)]
    bought = [*events, ReplayEventRow(id="5", type="purchase", at=5)]
    assert session_as_of(session, bought).intent == "purchased"


def record(**fields: Any) -> SessionContextRecord:
    base: dict[str, Any] = {
        "session": {"id": "s", "started_at": 10 * H, "last_seen_at": 12 * H},
        "customer_id": "c",
        "personal": True,
        "consents": [consent("personalization", True, 0)],
        "customer": {"ltv": 900.0, "orders": 9, "points": 0},
    }
    return SessionContextRecord.model_validate(base | fields)


def context(rec: SessionContextRecord, at: int | None = None) -> Any:
    return build_context(
        rec,
        rules=load_rules(None),
        purpose="personalization",
        now_ms=at if at is not None else 20 * H,
        popular=[],
        tz=None,
        default_tz="UTC",
        device=None,
        verbosity=None,
        replay=at is not None,
    )


@pytest.mark.parametrize(
    "visits, placed, first",
    [
        ([], [], True),
        ([(11 * H, 13 * H)], [], True),  # a later session
        ([(9 * H, 11 * H)], [], False),  # one still going when this one began
        ([(1 * H, 2 * H)], [], False),
        ([], [(10 * H, 5.0, True)], True),  # the order of this very session
        ([], [(3 * H, 5.0, True)], False),  # an order whose session is gone
    ],
)
def test_first_visit(visits: list[Any], placed: list[Any], first: bool) -> None:
    ids = [t.id for t in context(record(visits=visits, placed=placed)).triggers]
    assert ("first_visit" in ids) is first


def test_replay_sums_the_orders_placed_by_then() -> None:
    rec = record(placed=[(10 * H, 100.1, True), (10 * H, -0.1, False)], visits=[(13 * H, 14 * H)])
    ctx = context(rec, at=11 * H)
    assert ctx.customer is not None
    assert (ctx.customer.orders, ctx.customer.lifetime_value, ctx.customer.sessions) == (
        1,
        100.0,
        1,
    )
    assert as_of(rec, 11 * H).visits == []  # started after the instant
    with pytest.raises(SessionNotStarted):
        context(rec, at=9 * H)
