"""Loading events into the graph: batched, idempotent by `event_id`, order-independent, reconciled.

Each batch is planned in Python and written by one statement (`cypher/ingest/ingest_batch.cypher`),
so a batch is stored whole or not at all: a crash (even kill -9 of the store) between batches
loses nothing that a re-run does not restore, and a re-run never counts anything twice because
events already stored are recognised by id before the write and skipped as duplicates.

Session chains (`FIRST`/`NEXT`) follow event time, then event id: the planner reads the stored
chain of every session a batch touches and splices the new events in, so events may arrive in any
order and any batch split.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal, Protocol

from graph.queries import get_queries
from graph.store import PreparedWrite, Store, WriteResult
from ingest.adapters import Adapter
from ingest.events import (
    AddToCart,
    Cancellation,
    ChatTurn,
    CheckoutStarted,
    ConsentChanged,
    Event,
    EventRejected,
    LoyaltyUpdated,
    PageView,
    ProductView,
    ProfileUpdated,
    Purchase,
    RemoveFromCart,
    Search,
    parse_event,
)
from ingest.normalize import epoch_ms
from ingest.outliers import FIELDS as OUTLIER_FIELDS
from ingest.outliers import RULE as OUTLIER_RULE
from ingest.outliers import OutlierScan
from ingest.report import DeadLetter, Reconciliation
from ingest.settings import ingest_settings
from ingest.sources import SourceRecord
from privacy.consent import ConsentRecord, in_force
from privacy.subjects import suppressed
from privacy.tokens import privacy_key, subject_hash

Row = dict[str, Any]
Item = tuple[list[SourceRecord], Event]  # an event and the input records it accounts for


class Grouping(Protocol):
    """How consecutive adapted rows combine into one event (e.g. the lines of one order)."""

    def key(self, raw: Mapping[str, Any]) -> Any:
        """Rows with equal keys in a row form one event; None keeps the row on its own."""

    def merge(self, raws: list[Mapping[str, Any]]) -> Mapping[str, Any]: ...


def identity_id(anonymous_id: str) -> str:
    return f"anon:{anonymous_id}"


# Tracking, as opposed to the account itself (orders, returns, consent, profile, loyalty):
# stored only with analytics consent in force (README, "Privacy").
BEHAVIOURAL = (ProductView, PageView, Search, AddToCart, RemoveFromCart, CheckoutStarted, ChatTurn)


def _owner_keys(e: Event) -> tuple[str, ...]:
    """The owners whose consent decides about an event: its customer and its visitor id."""
    keys = [f"c:{e.customer_id}"] if e.customer_id else []
    if e.anonymous_id:
        keys.append(f"i:{identity_id(e.anonymous_id)}")
    return tuple(keys)


def query_id(text: str) -> str:
    """Searches with the same words (case and spacing aside) share one Query node."""
    return " ".join(text.lower().split())[:256]


@dataclass
class _Session:
    id: str
    first_at: int
    last_at: int
    channel: str | None = None
    device: str | None = None
    country: str | None = None
    customer: str | None = None
    identity: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def is_latest(seen_at: int | None, at: int) -> bool:
    """Latest event time wins (ties: the later in the batch), as the statement decides too."""
    return seen_at is None or at >= seen_at


class Planner:
    """Turns a batch of new events plus the stored state they touch into statement parameters."""

    def __init__(
        self,
        events: list[Event],
        chains: list[Row],
        identities: list[Row],
        tiers: list[Row],
        keep_text: bool = False,
    ) -> None:
        self.events = events
        self.keep_text = keep_text
        self.links: dict[str, str] = {
            r["identity"]: r["customer"] for r in identities if r.get("customer")
        }
        self.identity_sessions: dict[str, list[str]] = {
            r["identity"]: r["sessions"] for r in identities
        }
        self.chains = chains
        self.tiers: dict[str, list[str]] = defaultdict(list)
        for t in tiers:
            self.tiers[t["customer"]].append(t["tier"])
        # Links made by this batch count for every event in it, whatever its position.
        self.new_links: dict[str, tuple[str, int]] = {}
        for e in events:
            if e.customer_id and e.anonymous_id:
                iid = identity_id(e.anonymous_id)
                if iid not in self.links and iid not in self.new_links:
                    self.new_links[iid] = (e.customer_id, e.at_ms)

    def owner(self, e: Event) -> tuple[str | None, str | None]:
        """(customer id, identity id): exactly one is set."""
        if e.customer_id:
            return e.customer_id, None
        assert e.anonymous_id is not None
        iid = identity_id(e.anonymous_id)
        linked = self.links.get(iid) or self.new_links.get(iid, (None, 0))[0]
        return (linked, None) if linked else (None, iid)

    def plan(self) -> dict[str, list[Any]]:
        """The statement's parameters: one list per section of ingest_batch.cypher."""
        customers: dict[str, Row] = {}
        identities: dict[str, Row] = {}
        sessions: dict[str, _Session] = {}
        products: dict[str, Row] = {}
        events: list[Row] = []
        viewed: dict[tuple[str, str], Row] = {}
        searched: dict[tuple[str, str], Row] = {}
        cart: dict[tuple[str, str], Row] = {}
        tiers: set[str] = set()
        purchased: dict[tuple[str, str], list[Any]] = {}
        buy_at: dict[tuple[str, str], int] = {}  # (customer, product) -> index in `events`
        orders: dict[str, Row] = {}
        consents: list[Row] = []
        profiles: dict[str, Row] = {}
        loyalty: dict[str, Row] = {}

        def product(
            pid: str,
            at: int,
            category: str | None = None,
            name: str | None = None,
            price: float | None = None,
            currency: str | None = None,
        ) -> None:
            """Each attribute from the latest event carrying it; the statement compares times."""
            row = products.get(pid)  # runs per order line: no throwaway default row
            if row is None:
                row = products[pid] = {
                    "id": pid,
                    "name": None,
                    "name_at": None,
                    "price": None,
                    "currency": None,
                    "price_at": None,
                    "categories": [],
                }
            if category and category not in row["categories"]:
                row["categories"].append(category)
            if name is not None and (row["name_at"] is None or at >= row["name_at"]):
                row["name"], row["name_at"] = name, at  # is_latest, inlined
            if price is not None and (row["price_at"] is None or at >= row["price_at"]):
                row["price"], row["currency"], row["price_at"] = price, currency, at

        def order(oid: str, at: int, currency: str | None, cid: str | None) -> Row:
            o = orders.setdefault(
                oid,
                {
                    "id": oid,
                    "at": at,
                    "amount": 0.0,
                    "currency": currency,
                    "cancelled": False,
                    "purchase": False,
                    "customer": [cid] if cid else [],
                },
            )
            o["at"] = min(o["at"], at)
            return o

        def buy(
            customer: str | None, pid: str, qty: int, amount: float, at: int, count: int
        ) -> None:
            if customer is None:
                return
            pair = (customer, pid)
            row = purchased.get(pair)
            if row is None:  # the aggregate rides on the first line that has it
                buy_at[pair] = len(events)
                # [count, qty, amount, last_at]: a list, not a map, as there is one per line
                purchased[pair] = [count, qty, round(0.0 + amount, 4), at]
            else:
                row[0] += count
                row[1] += qty
                row[2] = round(row[2] + amount, 4)
                row[3] = max(row[3], at)

        for linked_iid, (linked_cid, linked_at) in self.new_links.items():
            identities[linked_iid] = {
                "id": linked_iid,
                "kind": "anon",
                "link_to": [linked_cid],
                "at": linked_at,
                "move_sessions": list(self.identity_sessions.get(linked_iid, [])),
            }

        for e in self.events:
            at = e.at_ms
            cid, iid = self.owner(e)
            if cid is not None:
                c = customers.setdefault(
                    cid,
                    {"id": cid, "first_at": at, "last_at": at, "country": None, "country_at": None},
                )
                c["first_at"], c["last_at"] = min(c["first_at"], at), max(c["last_at"], at)
                if e.country and is_latest(c["country_at"], at):
                    c["country"], c["country_at"] = e.country, at
            if iid is not None and iid not in identities:
                identities[iid] = {
                    "id": iid,
                    "kind": "anon",
                    "link_to": [],
                    "at": at,
                    "move_sessions": [],
                }

            owner_lists = {"customer": [cid] if cid else [], "identity": [iid] if iid else []}
            # Loose events and consent records stay with the id they carry: whether a link
            # to a customer came in the same batch or a later one must not matter.
            own_iid = None if e.customer_id else iid or identity_id(e.anonymous_id or "")
            own_lists = {
                "customer": [e.customer_id] if e.customer_id else [],
                "identity": [own_iid] if own_iid else [],
            }
            if own_iid is not None and own_iid not in identities:
                identities[own_iid] = {
                    "id": own_iid,
                    "kind": "anon",
                    "link_to": [],
                    "at": at,
                    "move_sessions": [],
                }
            sid = e.session_id
            props: Row = {"channel": e.channel, "device": e.device}
            products_about: list[str] = []
            if sid is not None:
                s = sessions.get(sid)
                if s is None:
                    s = sessions[sid] = _Session(
                        sid, at, at, e.channel, e.device, e.country, cid, iid
                    )
                elif at < s.first_at:  # the session's earliest event sets channel and device
                    s.channel, s.device, s.country = e.channel, e.device, e.country
                s.first_at, s.last_at = min(s.first_at, at), max(s.last_at, at)
                s.counts["events"] += 1

            if isinstance(e, ProductView):
                product(
                    e.product_id, at, category=e.category_id, price=e.price, currency=e.currency
                )
                products_about.append(e.product_id)
                props.update(dwell_ms=e.dwell_ms, price=e.price, currency=e.currency)
                assert sid is not None
                sessions[sid].counts["views"] += 1
                v = viewed.setdefault(
                    (sid, e.product_id),
                    {
                        "session": sid,
                        "product": e.product_id,
                        "count": 0,
                        "dwell_ms": 0,
                        "last_at": at,
                    },
                )
                v["count"] += 1
                v["dwell_ms"] += e.dwell_ms or 0
                v["last_at"] = max(v["last_at"], at)
            elif isinstance(e, PageView):
                props.update(url=e.url, page=e.page)
            elif isinstance(e, Search):
                assert sid is not None
                sessions[sid].counts["searches"] += 1
                qid = query_id(e.query)
                props.update(query=e.query, results=e.results)
                sr = searched.setdefault(
                    (sid, qid), {"session": sid, "query": qid, "count": 0, "last_at": at}
                )
                sr["count"] += 1
                sr["last_at"] = max(sr["last_at"], at)
            elif isinstance(e, AddToCart | RemoveFromCart):
                assert sid is not None
                sign = 1 if isinstance(e, AddToCart) else -1
                if sign > 0:
                    sessions[sid].counts["cart_adds"] += 1
                product(e.product_id, at)
                products_about.append(e.product_id)
                props.update(qty=e.qty, unit_price=e.unit_price, currency=e.currency)
                held = cart.setdefault(
                    (sid, e.product_id),
                    {
                        "session": sid,
                        "product": e.product_id,
                        "qty": 0,
                        "at": at,
                        "unit_price": None,
                        "price_at": None,
                    },
                )
                held["qty"] += sign * e.qty
                held["at"] = max(held["at"], at)
                if is_latest(held["price_at"], at):
                    held["unit_price"], held["price_at"] = e.unit_price, at
            elif isinstance(e, CheckoutStarted):
                assert sid is not None
                sessions[sid].counts["checkouts"] += 1
                props.update(value=e.value, currency=e.currency)
            elif isinstance(e, Purchase):
                assert sid is not None
                sessions[sid].counts["purchases"] += 1
                props.update(
                    order_id=e.order_id,
                    amount=e.amount,
                    currency=e.currency,
                    lines=len(e.lines),
                    qty=sum(line.qty for line in e.lines),
                )
                for line in e.lines:
                    product(
                        line.product_id,
                        at,
                        name=line.name,
                        price=line.unit_price,
                        currency=e.currency,
                    )
                    products_about.append(line.product_id)
                    buy(cid, line.product_id, line.qty, line.qty * line.unit_price, at, 1)
                o = order(e.order_id, at, e.currency, cid)
                o["amount"] = round(o["amount"] + e.amount, 4)
                o["purchase"] = True
            elif isinstance(e, Cancellation):
                amount = (
                    e.amount
                    if e.amount is not None
                    else sum((ret.unit_price or 0.0) * ret.qty for ret in e.lines or ())
                )
                props.update(order_id=e.order_id, kind=e.kind, amount=amount, currency=e.currency)
                for ret in e.lines or ():
                    products_about.append(ret.product_id)
                    product(ret.product_id, at)
                    buy(cid, ret.product_id, -ret.qty, -(ret.unit_price or 0.0) * ret.qty, at, 0)
                o = order(e.order_id, at, e.currency, cid)
                o["amount"] = round(o["amount"] - amount, 4)
                o["cancelled"] = o["cancelled"] or e.lines is None
            elif isinstance(e, ChatTurn):
                assert sid is not None
                sessions[sid].counts["chats"] += 1
                props.update(intent=e.intent, entities=json.dumps(e.entities, sort_keys=True))
                if self.keep_text and e.text is not None:
                    props["text"] = e.text
            elif isinstance(e, ConsentChanged):
                consents.append(
                    {
                        "id": e.event_id,
                        "purpose": e.purpose,
                        "granted": e.granted,
                        "at": at,
                        "source": e.source,
                        **own_lists,
                    }
                )
                props.update(purpose=e.purpose, granted=e.granted, source=e.source)
            elif isinstance(e, ProfileUpdated):
                key = cid or iid or ""
                if is_latest(profiles.get(key, {}).get("at"), at):
                    profiles[key] = {"fields": dict(e.fields), "at": at, **owner_lists}
                props.update(fields=sorted(e.fields))
            elif isinstance(e, LoyaltyUpdated):
                tiers.add(e.tier)
                if cid is not None and is_latest(loyalty.get(cid, {}).get("at"), at):
                    old = [t for t in self.tiers.get(cid, []) if t != e.tier]
                    loyalty[cid] = {
                        "customer": cid,
                        "points": e.points,
                        "tier": e.tier,
                        "at": at,
                        "old_tiers": old,
                    }
                props.update(points=e.points, tier=e.tier)

            events.append(
                {
                    "id": e.event_id,
                    "type": e.type,
                    "at": at,
                    "session": [sid] if sid else [],
                    "first": False,
                    # an event in a session reaches its owner through the session
                    "customer": own_lists["customer"] if not sid else [],
                    "identity": own_lists["identity"] if not sid else [],
                    # one entry per distinct product (ABOUT), and beside the first ones the
                    # PURCHASED aggregates the event carries: flat lists keep the parameters small
                    "buyer": cid,
                    "products": sorted(set(products_about))
                    if len(products_about) > 1
                    else products_about,
                    "bought": [],
                    "props": {k: v for k, v in props.items() if v is not None},
                }
            )

        carriers: dict[int, dict[str, list[Any]]] = defaultdict(dict)
        for pair, row in purchased.items():
            carriers[buy_at[pair]][pair[1]] = row
        for index, rows in carriers.items():
            ev = events[index]
            carried = [pid for pid in ev["products"] if pid in rows]
            ev["products"] = carried + [pid for pid in ev["products"] if pid not in rows]
            ev["bought"] = [rows[pid] for pid in carried]
        links, unlinks, firsts = self._chains(events)
        session_rows = [
            {
                "id": s.id,
                "first_at": s.first_at,
                "last_at": s.last_at,
                "channel": s.channel,
                "device": s.device,
                "country": s.country,
                "customer": [s.customer] if s.customer else [],
                "identity": [s.identity] if s.identity else [],
                **{
                    k: s.counts.get(k, 0)
                    for k in (
                        "events",
                        "views",
                        "searches",
                        "cart_adds",
                        "checkouts",
                        "purchases",
                        "chats",
                    )
                },
            }
            for s in sessions.values()
        ]
        params: dict[str, list[Any]] = {
            "customers": list(customers.values()),
            "identities": list(identities.values()),
            "sessions": session_rows,
            "products": list(products.values()),
            "events": events,
            "links": links,
            "unlinks": unlinks,
            "firsts": firsts,
            "viewed": list(viewed.values()),
            "searched": list(searched.values()),
            "cart": list(cart.values()),
            "orders": list(orders.values()),
            "consents": consents,
            "profiles": list(profiles.values()),
            "tiers": sorted(tiers),
            "loyalty": list(loyalty.values()),
        }
        return params

    def _chains(self, new_events: list[Row]) -> tuple[list[Row], list[Row], list[Row]]:
        by_session: dict[str, list[tuple[int, str]]] = defaultdict(list)
        old_pairs: set[tuple[str, str]] = set()
        old_first: dict[str, list[str]] = defaultdict(list)
        for r in self.chains:
            by_session[r["session"]].append((r["at"], r["id"]))
            if r.get("next"):
                old_pairs.add((r["id"], r["next"]))
            if r.get("first"):
                old_first[r["session"]].append(r["id"])
        touched: set[str] = set()
        for e in new_events:
            for sid in e["session"]:
                by_session[sid].append((e["at"], e["id"]))
                touched.add(sid)
        links: list[Row] = []
        unlinks: list[Row] = []
        firsts: list[Row] = []
        fresh = {e["id"]: e for e in new_events}
        for sid in sorted(touched):
            ordered = [eid for _, eid in sorted(set(by_session[sid]))]
            want = set(pairwise(ordered))
            members = set(ordered)
            have = {(a, b) for a, b in old_pairs if a in members}
            unlinks += [{"a": a, "b": b} for a, b in sorted(have - want)]
            links += [{"a": a, "b": b} for a, b in sorted(want - have)]
            if old_first.get(sid) == [ordered[0]]:
                continue
            if not old_first.get(sid) and ordered[0] in fresh:
                fresh[ordered[0]]["first"] = True  # created with its event, no lookups
            else:
                firsts.append(
                    {
                        "session": sid,
                        "first": ordered[0],
                        "old": [x for x in old_first.get(sid, []) if x != ordered[0]],
                    }
                )
        return links, unlinks, firsts


@dataclass
class _InFlight:
    """A planned batch: its encoded write, its event ids and what it touches; `future` once it
    is handed to the writer thread."""

    prepared: PreparedWrite
    ids: frozenset[str]
    keys: frozenset[str]
    future: Future[WriteResult] | None = None


class _Pipeline:
    """Batches planned but not yet stored, oldest first: at most one being written (`running`)
    and one planned and encoded (`pending`).

    `pending` is handed to the writer once the next batch has done its reads, and that batch is
    then planned and encoded while the store writes `pending`: the reads would otherwise wait
    for the write (the store runs a read after a write in progress), so Python and the store
    took turns. Writes run one at a time, in batch order.
    """

    def __init__(self, store: Store, writer: ThreadPoolExecutor, result: LoadResult) -> None:
        self.store = store
        self.writer = writer
        self.result = result
        self.running: _InFlight | None = None
        self.pending: _InFlight | None = None

    def start_pending(self) -> None:
        if self.pending is None:
            return
        self.land_running()
        self.pending.future = self.writer.submit(self.store.write_prepared, self.pending.prepared)
        self.running, self.pending = self.pending, None

    def land_running(self) -> None:
        if self.running is None:
            return
        assert self.running.future is not None
        written = self.running.future.result()  # re-raises what the write raised
        self.running = None
        self.result.batches += 1
        self.result.seconds += written.seconds

    def land_all(self) -> None:
        self.start_pending()
        self.land_running()

    def land_if_touching(self, keys: set[str]) -> None:
        """Store everything in flight when `pending` touches any of `keys`."""
        if self.pending is not None and not keys.isdisjoint(self.pending.keys):
            self.land_all()


@dataclass
class Outcome:
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: str | None = None
    reason: str | None = None
    message: str | None = None


@dataclass
class LoadResult:
    reconciliation: Reconciliation
    batches: int = 0
    seconds: float = 0.0
    outliers: int = 0  # events marked as outliers (file loads)
    # per source position, when the caller asked for it (the HTTP API answers per item)
    outcomes: dict[int, Outcome] = field(default_factory=dict)


class Loader:
    """Reads records, validates them into events, and writes them batch by batch."""

    def __init__(
        self,
        store: Store,
        dead_letter: DeadLetter,
        *,
        batch_size: int = 5000,
        keep_text: bool = False,
        adapter: Adapter | None = None,
        synthesize: Callable[[Event], Iterable[Event]] | None = None,
        record_outcomes: bool = False,
        grouping: Grouping | None = None,
        mark_outliers: bool = False,
    ) -> None:
        self.store = store
        self.dead_letter = dead_letter
        self.batch_size = batch_size
        self.keep_text = keep_text
        self.adapter = adapter
        self.synthesize = synthesize
        self.record_outcomes = record_outcomes
        self.grouping = grouping
        # Outliers need the whole input as reference (ingest/outliers.py): a file load, not
        # the API's small requests.
        self.outliers = OutlierScan() if mark_outliers else None
        self.q = get_queries()
        self._outcomes: dict[int, Outcome] = {}

    def _parse(self, raw: Mapping[str, Any]) -> Event:
        event = parse_event(raw, keep_text=self.keep_text)
        if isinstance(event, LoyaltyUpdated) and event.customer_id is None:
            raise EventRejected(
                "missing_id",
                "customer_id: loyalty needs a customer",
                field="customer_id",
                event_id=event.event_id,
            )
        return event

    def _reject(
        self,
        record: SourceRecord,
        rec: Reconciliation,
        reason: str,
        message: str | None,
        original: Any,
        event_id: str | None = None,
    ) -> None:
        rec.reject(reason)
        self.dead_letter.write(
            source=record.source,
            position=record.position,
            reason=reason,
            message=message,
            record=original,
        )
        self._note(record, Outcome("rejected", event_id, reason, message))

    def _events(self, records: Iterable[SourceRecord], rec: Reconciliation) -> Iterator[Item]:
        """Validated events with the records they came from.

        With a grouping adapter, consecutive rows of one order become one multi-line event
        (validated once, stored as one Event node); a group that fails validation is retried row
        by row so each bad row is rejected on its own.
        """
        group: list[tuple[SourceRecord, Mapping[str, Any]]] = []
        group_key: Any = None
        for record in records:
            rec.seen()
            if record.error or record.data is None:
                self._reject(record, rec, record.error or "unreadable", record.message, record.raw)
                continue
            try:
                raw = self.adapter(record.data) if self.adapter else record.data
            except EventRejected as exc:
                self._reject(record, rec, exc.reason, exc.message, record.data, exc.event_id)
                continue
            key = self.grouping.key(raw) if self.grouping else None
            if group and (key is None or key != group_key):
                yield from self._flush(group, rec)
                group = []
            if key is None:
                yield from self._flush([(record, raw)], rec)
            else:
                group.append((record, raw))
                group_key = key
        if group:
            yield from self._flush(group, rec)

    def _flush(
        self, group: list[tuple[SourceRecord, Mapping[str, Any]]], rec: Reconciliation
    ) -> Iterator[Item]:
        unique: dict[Any, tuple[SourceRecord, Mapping[str, Any]]] = {}
        for record, raw in group:
            eid = raw.get("event_id") if isinstance(raw, Mapping) else None
            # only a well-formed id can make a duplicate; parsing rejects the others with reasons
            key: Any = eid if isinstance(eid, str) else object()
            if key in unique:  # the same row twice in one order: a duplicate, as across runs
                rec.duplicate()
                self._note(record, Outcome("duplicate", str(eid)))
                continue
            unique[key] = (record, raw)
        members = list(unique.values())
        if len(members) > 1 and self.grouping is not None:
            try:
                merged = self.grouping.merge([raw for _, raw in members])
                yield [r for r, _ in members], self._parse(merged)
                return
            except EventRejected:  # find the bad rows, then group the good ones again
                good = []
                for record, raw in members:
                    try:
                        self._parse(raw)
                        good.append((record, raw))
                    except EventRejected as exc:
                        self._reject(
                            record, rec, exc.reason, exc.message, record.data, exc.event_id
                        )
                if 1 < len(good) < len(members):
                    yield from self._flush(good, rec)
                    return
                members = good  # all rows fine alone but not together (e.g. too many lines)
        for record, raw in members:
            try:
                yield [record], self._parse(raw)
            except EventRejected as exc:
                self._reject(record, rec, exc.reason, exc.message, record.data, exc.event_id)

    def load(
        self, records: Iterable[SourceRecord], progress: Callable[[int], None] | None = None
    ) -> LoadResult:
        """Parse in a second thread while this one writes: the store's replies release the GIL,
        so reading and validating the next batch overlaps with storing this one."""
        rec = Reconciliation()
        result = LoadResult(rec)
        # the caller holds the ingestion lock, so no erasure lands while this load runs
        self._privacy_key = privacy_key(ingest_settings(self.store.settings))
        self._suppressed = suppressed(self.store, self.q)
        batches: queue.Queue[list[Item] | BaseException | None] = queue.Queue(maxsize=2)
        stop = threading.Event()

        def produce() -> None:
            try:
                batch: list[Item] = []
                lines = 0
                for item in self._events(records, rec):
                    batch.append(item)
                    lines += len(item[0])
                    if lines >= self.batch_size:
                        self._put(batches, batch, stop)
                        batch, lines = [], 0
                    if stop.is_set():
                        return
                self._put(batches, batch, stop)
                self._put(batches, None, stop)
            except BaseException as exc:  # handed to the writer, which re-raises it
                self._put(batches, exc, stop)

        producer = threading.Thread(target=produce, name="ckg-ingest-parse", daemon=True)
        producer.start()
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ckg-ingest-write")
        pipe = _Pipeline(self.store, writer, result)
        try:
            while (item := batches.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                if item:
                    self._write(item, rec, pipe)
                if progress:
                    progress(sum(len(records) for records, _ in item))
            pipe.land_all()
        finally:
            stop.set()
            writer.shutdown(wait=True)  # never leave with a batch still being written
            producer.join()
            self.dead_letter.flush()
        if self.outliers is not None:
            result.outliers = self._mark_outliers(self.outliers)
        rec.check()
        result.outcomes = self._outcomes
        return result

    def _mark_outliers(self, scan: OutlierScan) -> int:
        """After the last batch, when the reference is complete; re-running a load (after a
        crash, or again) writes the same marks, so this needs no atomicity with the batches."""
        rows = [{"id": eid, "fields": fields} for eid, fields in scan.marks().items()]
        if rows:
            self.store.write_rows(
                self.q.mark_outliers,
                rows,
                {"fields": list(OUTLIER_FIELDS), "rule": OUTLIER_RULE},
                batch_size=self.batch_size,
            )
        return len(rows)

    def _note(self, record: SourceRecord, outcome: Outcome) -> None:
        if self.record_outcomes:
            self._outcomes[record.position] = outcome

    @staticmethod
    def _put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _policy(self, events: list[Event], synthesized: list[Event]) -> dict[str, tuple[str, str]]:
        """Which events the privacy policy refuses, with the reason: any event of an erased
        subject (the suppression list), and behavioural events of an owner whose analytics
        consent is not in force once this batch's own consent events are applied."""
        refused: dict[str, tuple[str, str]] = {}
        key = self._privacy_key
        if self._suppressed:
            for e in events:
                subjects = [e.customer_id] if e.customer_id else []
                if e.anonymous_id:
                    subjects.append(identity_id(e.anonymous_id))
                if any(subject_hash(key, x) in self._suppressed for x in subjects):
                    refused[e.event_id] = (
                        "erased_subject",
                        "this subject was erased; its events are refused",
                    )
        behavioural = [
            e for e in events if isinstance(e, BEHAVIOURAL) and e.event_id not in refused
        ]
        if not behavioural:
            return refused
        customers = sorted({e.customer_id for e in behavioural if e.customer_id})
        anons = sorted({identity_id(e.anonymous_id) for e in behavioural if e.anonymous_id})
        history: dict[str, list[ConsentRecord]] = {}
        for row in self.store.read(
            self.q.owner_consents,
            {"customers": customers, "identities": anons, "purpose": "analytics"},
        ):
            history.setdefault(row["owner"], []).extend(
                ConsentRecord.model_validate(r) for r in row["consents"] or []
            )
        for c in [*synthesized, *events]:
            if (
                isinstance(c, ConsentChanged)
                and c.purpose == "analytics"
                and c.event_id not in refused
            ):
                record = ConsentRecord(
                    purpose="analytics",
                    granted=c.granted,
                    at=epoch_ms(c.timestamp),
                    source=c.source,
                )
                for owner in _owner_keys(c):
                    history.setdefault(owner, []).append(record)
        # an event carrying both ids links them within this batch too
        linked: dict[str, set[str]] = defaultdict(set)
        for e in events:
            keys = _owner_keys(e)
            if len(keys) == 2:
                linked[keys[0]].add(keys[1])
                linked[keys[1]].add(keys[0])
        default = "analytics" in ingest_settings(self.store.settings).consent_defaults
        for e in behavioural:
            owners = set(_owner_keys(e))
            owners |= {k for o in list(owners) for k in linked.get(o, ())}
            records = [r for owner in sorted(owners) for r in history.get(owner, [])]
            decided = in_force(records).get("analytics")
            if not (decided.granted if decided is not None else default):
                refused[e.event_id] = (
                    "no_analytics_consent",
                    "behavioural events need analytics consent in force",
                )
        return refused

    def _write(self, batch: list[Item], rec: Reconciliation, pipe: _Pipeline) -> None:
        """Plan this batch while the previous one (`pipe.pending`) is being written.

        The reads see the store without `pending`'s writes (it is handed to the writer after
        them), so its event ids count as stored, and when this batch touches a session,
        anonymous id or loyalty customer that `pending` also touches, `pending` is stored before
        the reads. Batches are stored one at a time, in order.
        """
        q = self.q
        pipe.land_running()  # the batch before `pending`: its writes are what the reads see
        inflight = pipe.pending.ids if pipe.pending is not None else frozenset()
        ids = [e.event_id for _, e in batch]
        stored = {r["id"] for r in self.store.read(q.existing_events, {"ids": ids})}
        candidates: dict[str, tuple[list[SourceRecord], Event]] = {}
        extra: dict[str, Event] = {}
        for records, e in batch:
            if self.outliers is not None:
                self.outliers.add(e)
            if e.event_id in stored or e.event_id in candidates or e.event_id in inflight:
                rec.duplicate(len(records))
                for record in records:
                    self._note(record, Outcome("duplicate", e.event_id))
                continue
            candidates[e.event_id] = (records, e)
            for s in self.synthesize(e) if self.synthesize else ():
                extra.setdefault(s.event_id, s)
        if extra:
            known = {r["id"] for r in self.store.read(q.existing_events, {"ids": list(extra)})}
            for eid in known | (inflight & extra.keys()):
                extra.pop(eid, None)
        # the consent check reads stored consents and links: when the batch in flight records
        # a consent or a link for an owner this batch tracks, wait until it is stored
        tracked = {
            f"k:{o}"
            for _, e in candidates.values()
            if isinstance(e, BEHAVIOURAL)
            for o in _owner_keys(e)
        }
        pipe.land_if_touching(tracked)
        refused = self._policy([e for _, e in candidates.values()], list(extra.values()))
        fresh: dict[str, Event] = {}
        for eid, (records, e) in candidates.items():
            why = refused.get(eid)
            if why is not None:
                for record in records:
                    self._reject(record, rec, why[0], why[1], record.data, eid)
                continue
            fresh[eid] = e
            rec.accept(len(records))
            for record in records:
                self._note(record, Outcome("accepted", eid))
        # import consent is stored only for owners whose own events are stored
        owners = {_owner_keys(e) for e in fresh.values()}
        extra = {k: s for k, s in extra.items() if _owner_keys(s) in owners}
        events = list(extra.values()) + list(fresh.values())
        if not events:
            return
        sessions = sorted({e.session_id for e in events if e.session_id})
        anon = sorted({identity_id(e.anonymous_id) for e in events if e.anonymous_id})
        loyal = sorted(
            {e.customer_id for e in events if isinstance(e, LoyaltyUpdated) and e.customer_id}
        )
        keys = {
            *(f"s:{x}" for x in sessions),
            *(f"i:{x}" for x in anon),
            *(f"c:{x}" for x in loyal),
            # owners whose consent or id link this batch records (see the consent check)
            *(
                f"k:{o}"
                for e in events
                if isinstance(e, ConsentChanged) or (e.customer_id and e.anonymous_id)
                for o in _owner_keys(e)
            ),
        }
        pipe.land_if_touching(keys)
        chains = self.store.read(q.session_chains, {"sessions": sessions}) if sessions else []
        idents = self.store.read(q.identity_state, {"identities": anon}) if anon else []
        tiers = self.store.read(q.customer_tiers, {"customers": loyal}) if loyal else []
        pipe.start_pending()  # this batch's reads are done: store `pending` while planning it
        params = Planner(events, chains, idents, tiers, keep_text=self.keep_text).plan()
        pipe.pending = _InFlight(
            self.store.prepare_write(q.ingest_batch, params),
            frozenset(e.event_id for e in events),
            frozenset(keys),
        )
