"""The privacy policy at ingestion: which incoming events are refused, and why.

Two rules (README, "Privacy"): no event of an erased subject is stored (the suppression list
holds keyed hashes of every erased id and alias), and behavioural events, tracking as opposed to
the account itself (orders, returns, consent, profile, loyalty), are stored only while the
owner's analytics consent is in force. A batch's own consent events and id links count for every
event in it, whatever its position, so the answer does not depend on input order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from graph.queries import Queries
from graph.store import Store
from ingest.events import (
    AddToCart,
    ChatTurn,
    CheckoutStarted,
    ConsentChanged,
    Event,
    PageView,
    ProductView,
    RemoveFromCart,
    Search,
    identity_id,
)
from ingest.normalize import epoch_ms
from privacy.consent import ConsentRecord, in_force
from privacy.errors import ErasedSubject
from privacy.suppression import suppressed
from privacy.tokens import subject_hash

BEHAVIOURAL = (ProductView, PageView, Search, AddToCart, RemoveFromCart, CheckoutStarted, ChatTurn)
ERASED = (ErasedSubject.reason, "this subject was erased; its events are refused")
NO_CONSENT = ("no_analytics_consent", "behavioural events need analytics consent in force")

History = dict[str, list[ConsentRecord]]  # owner key -> its analytics consent records


def owner_keys(e: Event) -> tuple[str, ...]:
    """The owners whose consent decides about an event: its customer and its visitor id."""
    keys = [f"c:{e.customer_id}"] if e.customer_id else []
    if e.anonymous_id:
        keys.append(f"i:{identity_id(e.anonymous_id)}")
    return tuple(keys)


class IngestPolicy:
    """The policy for one load. The suppression list is read once, when the load starts: the
    caller holds the ingestion lock, so no erasure lands while the load runs."""

    def __init__(
        self,
        store: Store,
        q: Queries,
        *,
        key: bytes,
        suppressed: set[str],
        analytics_default: bool,
    ) -> None:
        self.store = store
        self.q = q
        self.key = key
        self.suppressed = suppressed
        self.analytics_default = analytics_default  # analytics granted without a decision

    @classmethod
    def read(cls, store: Store, q: Queries, *, key: bytes, analytics_default: bool) -> IngestPolicy:
        return cls(
            store, q, key=key, suppressed=suppressed(store, q), analytics_default=analytics_default
        )

    def refused(self, events: list[Event], synthesized: list[Event]) -> dict[str, tuple[str, str]]:
        """Event id -> (reason, message) for the events refused: any event of an erased subject,
        and behavioural events of an owner whose analytics consent is not in force once this
        batch's own consent events (`synthesized` ones included) are applied."""
        refused = self._erased(events)
        behavioural = [
            e for e in events if isinstance(e, BEHAVIOURAL) and e.event_id not in refused
        ]
        if not behavioural:
            return refused
        history = self._stored_history(behavioural)
        self._add_batch_consents(history, [*synthesized, *events], refused)
        linked = _links(events)
        for e in behavioural:
            owners = set(owner_keys(e))
            owners |= {k for o in list(owners) for k in linked.get(o, ())}
            records = [r for owner in sorted(owners) for r in history.get(owner, [])]
            decided = in_force(records).get("analytics")
            if not (decided.granted if decided is not None else self.analytics_default):
                refused[e.event_id] = NO_CONSENT
        return refused

    def _erased(self, events: list[Event]) -> dict[str, tuple[str, str]]:
        refused: dict[str, tuple[str, str]] = {}
        if not self.suppressed:
            return refused
        for e in events:
            subjects = [e.customer_id] if e.customer_id else []
            if e.anonymous_id:
                subjects.append(identity_id(e.anonymous_id))
            if any(subject_hash(self.key, x) in self.suppressed for x in subjects):
                refused[e.event_id] = ERASED
        return refused

    def _stored_history(self, behavioural: Sequence[Event]) -> History:
        customers = sorted({e.customer_id for e in behavioural if e.customer_id})
        anons = sorted({identity_id(e.anonymous_id) for e in behavioural if e.anonymous_id})
        history: History = {}
        for row in self.store.read(
            self.q.owner_consents,
            {"customers": customers, "identities": anons, "purpose": "analytics"},
        ):
            history.setdefault(row["owner"], []).extend(
                ConsentRecord.model_validate(r) for r in row["consents"] or []
            )
        return history

    @staticmethod
    def _add_batch_consents(
        history: History, events: Iterable[Event], refused: dict[str, tuple[str, str]]
    ) -> None:
        for c in events:
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
                for owner in owner_keys(c):
                    history.setdefault(owner, []).append(record)


def _links(events: list[Event]) -> dict[str, set[str]]:
    """Owner key -> the owner keys it is linked to by an event of this batch carrying both ids."""
    linked: dict[str, set[str]] = defaultdict(set)
    for e in events:
        keys = owner_keys(e)
        if len(keys) == 2:
            linked[keys[0]].add(keys[1])
            linked[keys[1]].add(keys[0])
    return linked
