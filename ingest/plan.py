"""Planning a batch: new events plus the stored state they touch become the batch statement's
parameters (`cypher/ingest/ingest_batch.cypher`), one list of rows per section.

Session chains (`FIRST`/`NEXT`) follow event time, then event id: the planner reads the stored
chain of every session a batch touches and splices the new events in, so events may arrive in any
order and any batch split. Repeats within a batch (a product, a customer, a purchase pair) merge
into one row, so the statement writes each once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from graph.queries import Queries
from graph.store import Store
from ingest.events import (
    AddToCart,
    Cancellation,
    ChatTurn,
    CheckoutStarted,
    ConsentChanged,
    Event,
    LoyaltyUpdated,
    PageView,
    ProductView,
    ProfileUpdated,
    Purchase,
    RemoveFromCart,
    Search,
    identity_id,
)

Row = dict[str, Any]
SESSION_COUNTS = ("events", "views", "searches", "cart_adds", "checkouts", "purchases", "chats")


def query_id(text: str) -> str:
    """Searches with the same words (case and spacing aside) share one Query node."""
    return " ".join(text.lower().split())[:256]


def is_latest(seen_at: int | None, at: int) -> bool:
    """Latest event time wins (ties: the later in the batch), as the statement decides too."""
    return seen_at is None or at >= seen_at


@dataclass(frozen=True)
class Reads:
    """What planning a batch reads from the store: its sessions' chains, its anonymous ids'
    links and sessions, and its loyalty customers' tiers."""

    sessions: list[str]
    identities: list[str]
    customers: list[str]

    @classmethod
    def of(cls, events: list[Event]) -> Reads:
        return cls(
            sorted({e.session_id for e in events if e.session_id}),
            sorted({identity_id(e.anonymous_id) for e in events if e.anonymous_id}),
            sorted(
                {e.customer_id for e in events if isinstance(e, LoyaltyUpdated) and e.customer_id}
            ),
        )

    def keys(self) -> set[str]:
        """The state a batch planned on these reads depends on, for the write pipeline."""
        return {
            *(f"s:{x}" for x in self.sessions),
            *(f"i:{x}" for x in self.identities),
            *(f"c:{x}" for x in self.customers),
        }

    def planner(
        self, store: Store, q: Queries, events: list[Event], keep_text: bool = False
    ) -> Planner:
        """Do the reads; the planner then needs the store no more."""
        s, i, c = self.sessions, self.identities, self.customers
        chains = store.read(q.session_chains, {"sessions": s}) if s else []
        idents = store.read(q.identity_state, {"identities": i}) if i else []
        tiers = store.read(q.customer_tiers, {"customers": c}) if c else []
        return Planner(events, chains, idents, tiers, keep_text=keep_text)


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
        batch = BatchPlan(self.tiers, keep_text=self.keep_text)
        for linked_iid, (linked_cid, linked_at) in self.new_links.items():
            batch.identities[linked_iid] = {
                "id": linked_iid,
                "kind": "anon",
                "link_to": [linked_cid],
                "at": linked_at,
                "move_sessions": list(self.identity_sessions.get(linked_iid, [])),
            }
        for e in self.events:
            batch.add(e, *self.owner(e))
        return batch.params(self.chains)


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

    def row(self) -> Row:
        return {
            "id": self.id,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "channel": self.channel,
            "device": self.device,
            "country": self.country,
            "customer": [self.customer] if self.customer else [],
            "identity": [self.identity] if self.identity else [],
            **{k: self.counts.get(k, 0) for k in SESSION_COUNTS},
        }


@dataclass
class _Step:
    """One event being planned: its time and owners, and what its Event row will carry."""

    at: int
    cid: str | None  # the owner: a customer (linked ones included) ...
    iid: str | None  # ... or else an anonymous identity
    sid: str | None
    # Loose events and consent records stay with the id they carry: whether a link to a
    # customer came in the same batch or a later one must not matter.
    own: Row
    props: Row
    about: list[str] = field(default_factory=list)  # products, one entry per mention


class BatchPlan:
    """The rows of one batch's statement, gathered event by event in batch order."""

    def __init__(self, stored_tiers: dict[str, list[str]], keep_text: bool = False) -> None:
        self.stored_tiers = stored_tiers
        self.keep_text = keep_text
        self.customers: dict[str, Row] = {}
        self.identities: dict[str, Row] = {}
        self.sessions: dict[str, _Session] = {}
        self.products: dict[str, Row] = {}
        self.events: list[Row] = []
        self.viewed: dict[tuple[str, str], Row] = {}
        self.searched: dict[tuple[str, str], Row] = {}
        self.cart: dict[tuple[str, str], Row] = {}
        self.tiers: set[str] = set()
        self.purchased: dict[tuple[str, str], list[Any]] = {}
        self.buy_at: dict[tuple[str, str], int] = {}  # (customer, product) -> index in `events`
        self.orders: dict[str, Row] = {}
        self.consents: list[Row] = []
        self.profiles: dict[str, Row] = {}
        self.loyalty: dict[str, Row] = {}

    def add(self, e: Event, cid: str | None, iid: str | None) -> None:
        """One event owned by `cid` or else `iid` (see `Planner.owner`)."""
        at = e.at_ms
        if cid is not None:
            self._customer(cid, at, e.country)
        if iid is not None:
            self._identity(iid, at)
        own_iid = None if e.customer_id else iid or identity_id(e.anonymous_id or "")
        own = {
            "customer": [e.customer_id] if e.customer_id else [],
            "identity": [own_iid] if own_iid else [],
        }
        if own_iid is not None:
            self._identity(own_iid, at)
        step = _Step(at, cid, iid, e.session_id, own, {"channel": e.channel, "device": e.device})
        if step.sid is not None:
            self._session(e, step.sid, step)
        self._by_type(e, step)
        self.events.append(self._event_row(e, step))

    def _by_type(self, e: Event, step: _Step) -> None:
        match e:
            case ProductView():
                self._product_view(e, step)
            case PageView():
                step.props.update(url=e.url, page=e.page)
            case Search():
                self._search(e, step)
            case AddToCart() | RemoveFromCart():
                self._cart(e, step)
            case CheckoutStarted():
                self._count(step, "checkouts")
                step.props.update(value=e.value, currency=e.currency)
            case Purchase():
                self._purchase(e, step)
            case Cancellation():
                self._cancellation(e, step)
            case ChatTurn():
                self._chat(e, step)
            case ConsentChanged():
                self._consent(e, step)
            case ProfileUpdated():
                self._profile(e, step)
            case LoyaltyUpdated():
                self._loyalty(e, step)

    # -- the owners and the session ---------------------------------------------------------

    def _customer(self, cid: str, at: int, country: str | None) -> None:
        c = self.customers.setdefault(
            cid, {"id": cid, "first_at": at, "last_at": at, "country": None, "country_at": None}
        )
        c["first_at"], c["last_at"] = min(c["first_at"], at), max(c["last_at"], at)
        if country and is_latest(c["country_at"], at):
            c["country"], c["country_at"] = country, at

    def _identity(self, iid: str, at: int) -> None:
        if iid not in self.identities:
            self.identities[iid] = {
                "id": iid,
                "kind": "anon",
                "link_to": [],
                "at": at,
                "move_sessions": [],
            }

    def _session(self, e: Event, sid: str, step: _Step) -> None:
        at = step.at
        s = self.sessions.get(sid)
        if s is None:
            s = self.sessions[sid] = _Session(
                sid, at, at, e.channel, e.device, e.country, step.cid, step.iid
            )
        elif at < s.first_at:  # the session's earliest event sets channel and device
            s.channel, s.device, s.country = e.channel, e.device, e.country
        s.first_at, s.last_at = min(s.first_at, at), max(s.last_at, at)
        s.counts["events"] += 1

    def _count(self, step: _Step, name: str) -> str:
        """Count the event in its session's `name` counter; the session id."""
        assert step.sid is not None
        self.sessions[step.sid].counts[name] += 1
        return step.sid

    # -- one handler per event type ---------------------------------------------------------

    def _product_view(self, e: ProductView, step: _Step) -> None:
        at = step.at
        self.product(
            e.product_id,
            at,
            category=e.category_id,
            name=e.name,
            price=e.price,
            currency=e.currency,
        )
        step.about.append(e.product_id)
        step.props.update(dwell_ms=e.dwell_ms, price=e.price, currency=e.currency)
        sid = self._count(step, "views")
        v = self.viewed.setdefault(
            (sid, e.product_id),
            {"session": sid, "product": e.product_id, "count": 0, "dwell_ms": None, "last_at": at},
        )
        v["count"] += 1
        if e.dwell_ms is not None:  # unknown stays unknown: a source without a clock sends none
            v["dwell_ms"] = (v["dwell_ms"] or 0) + e.dwell_ms
        v["last_at"] = max(v["last_at"], at)

    def _search(self, e: Search, step: _Step) -> None:
        sid = self._count(step, "searches")
        qid = query_id(e.query)
        step.props.update(query=e.query, results=e.results)
        sr = self.searched.setdefault(
            (sid, qid), {"session": sid, "query": qid, "count": 0, "last_at": step.at}
        )
        sr["count"] += 1
        sr["last_at"] = max(sr["last_at"], step.at)

    def _cart(self, e: AddToCart | RemoveFromCart, step: _Step) -> None:
        at, sid = step.at, step.sid
        assert sid is not None
        sign = 1 if isinstance(e, AddToCart) else -1
        if sign > 0:
            self._count(step, "cart_adds")
        self.product(e.product_id, at)
        step.about.append(e.product_id)
        step.props.update(qty=e.qty, unit_price=e.unit_price, currency=e.currency)
        held = self.cart.setdefault(
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

    def _purchase(self, e: Purchase, step: _Step) -> None:
        at, cid = step.at, step.cid
        self._count(step, "purchases")
        step.props.update(
            order_id=e.order_id,
            amount=e.amount,
            currency=e.currency,
            lines=len(e.lines),
            qty=sum(line.qty for line in e.lines),
        )
        for line in e.lines:
            self.product(
                line.product_id, at, name=line.name, price=line.unit_price, currency=e.currency
            )
            step.about.append(line.product_id)
            self.buy(cid, line.product_id, line.qty, line.qty * line.unit_price, at, 1)
        o = self.order(e.order_id, at, e.currency, cid)
        o["amount"] = round(o["amount"] + e.amount, 4)
        o["purchase"] = True

    def _cancellation(self, e: Cancellation, step: _Step) -> None:
        at, cid = step.at, step.cid
        amount = (
            e.amount
            if e.amount is not None
            else sum((ret.unit_price or 0.0) * ret.qty for ret in e.lines or ())
        )
        step.props.update(order_id=e.order_id, kind=e.kind, amount=amount, currency=e.currency)
        for ret in e.lines or ():
            step.about.append(ret.product_id)
            self.product(ret.product_id, at)
            self.buy(cid, ret.product_id, -ret.qty, -(ret.unit_price or 0.0) * ret.qty, at, 0)
        o = self.order(e.order_id, at, e.currency, cid)
        o["amount"] = round(o["amount"] - amount, 4)
        o["cancelled"] = o["cancelled"] or e.lines is None

    def _chat(self, e: ChatTurn, step: _Step) -> None:
        self._count(step, "chats")
        step.props.update(intent=e.intent, entities=json.dumps(e.entities, sort_keys=True))
        if self.keep_text and e.text is not None:
            step.props["text"] = e.text

    def _consent(self, e: ConsentChanged, step: _Step) -> None:
        self.consents.append(
            {
                "id": e.event_id,
                "purpose": e.purpose,
                "granted": e.granted,
                "at": step.at,
                "source": e.source,
                **step.own,
            }
        )
        step.props.update(purpose=e.purpose, granted=e.granted, source=e.source)

    def _profile(self, e: ProfileUpdated, step: _Step) -> None:
        at, cid, iid = step.at, step.cid, step.iid
        key = cid or iid or ""
        if is_latest(self.profiles.get(key, {}).get("at"), at):
            owners = {"customer": [cid] if cid else [], "identity": [iid] if iid else []}
            self.profiles[key] = {"fields": dict(e.fields), "at": at, **owners}
        step.props.update(fields=sorted(e.fields))

    def _loyalty(self, e: LoyaltyUpdated, step: _Step) -> None:
        at, cid = step.at, step.cid
        self.tiers.add(e.tier)
        if cid is not None and is_latest(self.loyalty.get(cid, {}).get("at"), at):
            old = [t for t in self.stored_tiers.get(cid, []) if t != e.tier]
            self.loyalty[cid] = {
                "customer": cid,
                "points": e.points,
                "tier": e.tier,
                "at": at,
                "old_tiers": old,
            }
        step.props.update(points=e.points, tier=e.tier)

    # -- rows shared by several event types -------------------------------------------------

    def product(
        self,
        pid: str,
        at: int,
        category: str | None = None,
        name: str | None = None,
        price: float | None = None,
        currency: str | None = None,
    ) -> None:
        """Each attribute from the latest event carrying it; the statement compares times."""
        row = self.products.get(pid)  # runs per order line: no throwaway default row
        if row is None:
            row = self.products[pid] = {
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

    def order(self, oid: str, at: int, currency: str | None, cid: str | None) -> Row:
        o = self.orders.setdefault(
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
        self, customer: str | None, pid: str, qty: int, amount: float, at: int, count: int
    ) -> None:
        """Add to the customer's PURCHASED aggregate of a product, carried by the event being
        planned when it is the first of the batch to touch the pair."""
        if customer is None:
            return
        pair = (customer, pid)
        row = self.purchased.get(pair)
        if row is None:  # the aggregate rides on the first line that has it
            self.buy_at[pair] = len(self.events)
            # [count, qty, amount, last_at]: a list, not a map, as there is one per line
            self.purchased[pair] = [count, qty, round(0.0 + amount, 4), at]
        else:
            row[0] += count
            row[1] += qty
            row[2] = round(row[2] + amount, 4)
            row[3] = max(row[3], at)

    # -- the parameters ---------------------------------------------------------------------

    def _event_row(self, e: Event, step: _Step) -> Row:
        sid, about = step.sid, step.about
        return {
            "id": e.event_id,
            "type": e.type,
            "at": step.at,
            "session": [sid] if sid else [],
            "first": False,
            # an event in a session reaches its owner through the session
            "customer": step.own["customer"] if not sid else [],
            "identity": step.own["identity"] if not sid else [],
            # one entry per distinct product (ABOUT), and beside the first ones the
            # PURCHASED aggregates the event carries: flat lists keep the parameters small
            "buyer": step.cid,
            "products": sorted(set(about)) if len(about) > 1 else about,
            "bought": [],
            "props": {k: v for k, v in step.props.items() if v is not None},
        }

    def _carry_purchases(self) -> None:
        """Put each PURCHASED aggregate on the event that carries it, its product first."""
        carriers: dict[int, dict[str, list[Any]]] = defaultdict(dict)
        for pair, row in self.purchased.items():
            carriers[self.buy_at[pair]][pair[1]] = row
        for index, rows in carriers.items():
            ev = self.events[index]
            carried = [pid for pid in ev["products"] if pid in rows]
            ev["products"] = carried + [pid for pid in ev["products"] if pid not in rows]
            ev["bought"] = [rows[pid] for pid in carried]

    def params(self, stored_chains: list[Row]) -> dict[str, list[Any]]:
        self._carry_purchases()
        links, unlinks, firsts = _chain_rows(stored_chains, self.events)
        return {
            "customers": list(self.customers.values()),
            "identities": list(self.identities.values()),
            "sessions": [s.row() for s in self.sessions.values()],
            "products": list(self.products.values()),
            "events": self.events,
            "links": links,
            "unlinks": unlinks,
            "firsts": firsts,
            "viewed": list(self.viewed.values()),
            "searched": list(self.searched.values()),
            "cart": list(self.cart.values()),
            "orders": list(self.orders.values()),
            "consents": self.consents,
            "profiles": list(self.profiles.values()),
            "tiers": sorted(self.tiers),
            "loyalty": list(self.loyalty.values()),
        }


def _chain_rows(stored: list[Row], new_events: list[Row]) -> tuple[list[Row], list[Row], list[Row]]:
    """The NEXT links to add and remove, and the FIRST links to move, so that every touched
    session's chain runs in (time, id) order; new first events get `first` set instead."""
    by_session: dict[str, list[tuple[int, str]]] = defaultdict(list)
    old_pairs: set[tuple[str, str]] = set()
    old_first: dict[str, list[str]] = defaultdict(list)
    for r in stored:
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
