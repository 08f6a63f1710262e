"""A session's context as it stood at an earlier instant (`?at=`).

The context query leaves out the facts timed after that instant and sends what a replay
needs besides (see cypher/context/session_context.cypher); the rest is done here: the consents
a replay may rely on, lifetime value and order count from the orders placed by then, the other
sessions started by then, the session's own counters, views, searches, chats and cart when the
instant falls inside the session (rebuilt from its events up to then), and the customer's last
activity when the stored one is later.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from graph.records import (
    CartRow,
    ChatRow,
    CustomerRow,
    ReplayEventRow,
    ReplayProductRow,
    SearchRow,
    SessionContextRecord,
    SessionRow,
    ViewRow,
)
from ingest.plan import query_id
from privacy.consent import ConsentRecord, in_force

# The session's intent from its event counts, first match wins (as ingestion derives it).
_INTENTS = (
    ("purchase", "purchased"),
    ("checkout_started", "checkout"),
    ("add_to_cart", "cart"),
    ("search", "search"),
    ("product_view", "browse"),
    ("chat_turn", "support"),
)
_CART_SIGN = {"add_to_cart": 1, "remove_from_cart": -1}


def as_of(rec: SessionContextRecord, at_ms: int) -> SessionContextRecord:
    """The record as a replay at `at_ms` may use it (the session started by then)."""
    visits = [v for v in rec.visits if v[0] is None or v[0] <= at_ms]
    update: dict[str, Any] = {"consents": consents_as_of(rec.consents, at_ms), "visits": visits}
    session = rec.session
    last = session.last_seen_at
    if last is not None and at_ms < last:  # inside the session: the query sent its events
        session = session_as_of(session, rec.replay)
        update |= {
            "session": session,
            "views": views_as_of(rec.replay_products),
            "searches": searches_as_of(rec.replay),
            "chats": [ChatRow(intent=e.intent, at=e.at) for e in rec.replay if e.intent],
            "cart": cart_as_of(rec.replay_products),
        }
    if rec.customer is not None:
        update["customer"] = customer_as_of(rec.customer, rec.placed, visits, session, at_ms)
    return rec.model_copy(update=update)


def customer_as_of(
    customer: CustomerRow,
    placed: list[tuple[int, float, bool | None]],
    visits: list[tuple[int | None, int | None]],
    session: SessionRow,
    at_ms: int,
) -> CustomerRow:
    """Lifetime value and order count over the orders placed by `at_ms` (the query sent only
    those), summed as ingestion sums them; the last activity when the stored one is later."""
    ltv = 0.0
    for _, amount, _ in placed:
        ltv = round(ltv + amount, 4)
    update: dict[str, Any] = {"ltv": ltv, "orders": sum(1 for *_, bought in placed if bought)}
    if customer.last_seen_at is None:
        update["last_seen_at"] = last_seen_as_of(visits, session, at_ms)
    return customer.model_copy(update=update)


def consents_as_of(records: list[ConsentRecord], at_ms: int) -> list[ConsentRecord]:
    """Per purpose, the decision in force at `at_ms` — unless the purpose is withdrawn now: a
    withdrawal applies to every read from then on, replays included, and is what is shown.
    The query's `personal` follows the same rule."""
    now = in_force(records)
    then = in_force(r for r in records if r.at <= at_ms)
    out: list[ConsentRecord] = []
    for purpose, current in now.items():
        if not current.granted:
            out.append(current)
        elif purpose in then:
            out.append(then[purpose])
    return out


def session_as_of(session: SessionRow, events: list[ReplayEventRow]) -> SessionRow:
    counts = Counter(e.type for e in events)
    intent = next((name for kind, name in _INTENTS if counts[kind]), "visit")
    last = max((e.at for e in events), default=session.started_at)
    return session.model_copy(
        update={
            "last_seen_at": last,
            "events": len(events),
            "purchases": counts["purchase"],
            "intent": intent,
        }
    )


def views_as_of(products: list[ReplayProductRow]) -> list[ViewRow]:
    views: dict[str, ViewRow] = {}
    for p in sorted(products, key=lambda p: (p.at, p.event)):
        if p.type != "product_view":
            continue
        old = views.get(p.id)
        views[p.id] = ViewRow(
            id=p.id,
            name=p.name,
            count=(old.count if old else 0) + 1,
            dwell_ms=_add(old.dwell_ms if old else None, p.dwell_ms),
            last_at=p.at,
        )
    return list(views.values())


def _add(total: int | None, more: int | None) -> int | None:
    """A sum of dwell times where an untimed view adds nothing and all-untimed is unknown."""
    return total if more is None else (total or 0) + more


def searches_as_of(events: list[ReplayEventRow]) -> list[SearchRow]:
    """Searches share a row when their words match, as their Query nodes do."""
    found: dict[str, SearchRow] = {}
    for e in sorted(events, key=lambda e: (e.at, e.id)):
        if e.type != "search" or e.query is None:
            continue
        text = query_id(e.query)
        count = found[text].count + 1 if text in found else 1
        found[text] = SearchRow(text=text, count=count, last_at=e.at)
    return list(found.values())


def cart_as_of(products: list[ReplayProductRow]) -> list[CartRow]:
    """The cart's lines from its adds and removals; each line's latest known unit price, and
    the cart's last change as every line's `updated_at`, as the stored cart keeps them."""
    moves = sorted((p for p in products if p.type in _CART_SIGN), key=lambda p: (p.at, p.event))
    qty: dict[str, int] = {}
    price: dict[str, float] = {}
    names: dict[str, str | None] = {}
    for p in moves:
        qty[p.id] = qty.get(p.id, 0) + _CART_SIGN[p.type] * (p.qty or 0)
        names[p.id] = p.name
        if p.unit_price is not None:
            price[p.id] = p.unit_price
    updated = moves[-1].at if moves else None
    return [
        CartRow(id=pid, name=names[pid], qty=n, unit_price=price.get(pid), updated_at=updated)
        for pid, n in qty.items()
        if n > 0
    ]


def last_seen_as_of(
    visits: list[tuple[int | None, int | None]], session: SessionRow, at_ms: int
) -> int | None:
    """The latest activity up to `at_ms` across the person's sessions started by then (one
    still running then counts as active then)."""
    ends = [last for _, last in visits] + [session.last_seen_at]
    return max((min(t, at_ms) for t in ends if t is not None), default=None)
