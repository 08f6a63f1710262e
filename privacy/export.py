"""Export: everything held on one person, as JSON (a data subject access request).

Times are ISO 8601 UTC strings, as in every answer; the store keeps epoch milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from graph.errors import CustomerNotFound
from graph.queries import Queries
from graph.store import Store
from privacy.audit import audited
from privacy.times import iso, iso_times, now_ms
from privacy.tokens import subject_hash


def export(store: Store, q: Queries, key: bytes, customer_id: str, *, actor: str) -> dict[str, Any]:
    """The person's whole subgraph; the request goes to the audit trail."""
    with audited(store, q, "export", subject_hash(key, customer_id), actor):
        row = store.read_one(q.export_customer, {"id": customer_id})
        if row is None:
            raise CustomerNotFound(f"no customer {customer_id!r}")
        out = _in_order(row)
        out["labels"] = sorted(_labels(out))
        doc: dict[str, Any] = iso_times(out)
        doc["exported_at"] = iso(now_ms())
        return doc


def _sortable(value: Any) -> tuple[int, float, str]:
    """Nulls first, then numbers by value, then text, then anything else as JSON text."""
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, int | float):  # bool too
        return (1, float(value), "")
    if isinstance(value, str):
        return (2, 0.0, value)
    return (3, 0.0, json.dumps(value, sort_keys=True, default=str))


def _key(*fields: str) -> Callable[[Mapping[str, Any]], tuple[tuple[int, float, str], ...]]:
    """Sort key over dotted fields of a collected item."""

    def key(item: Mapping[str, Any]) -> tuple[tuple[int, float, str], ...]:
        out = []
        for field in fields:
            value: Any = item
            for part in field.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            out.append(_sortable(value))
        return tuple(out)

    return key


# Collected lists come back in the order the engine walked the graph, which differs between
# Neo4j and FalkorDB; an export is compared and archived, so it is always in this order.
_ORDER = {
    "pii": _key("id"),
    "identities": _key("id"),
    "consents": _key("at", "purpose", "id"),
    "tiers": _key("since", "tier"),
    "segments": _key("kind", "segment"),
    "segment_history": _key("kind", "until", "segment"),
    "purchases": _key("product"),
    "orders": _key("at", "id"),
    "sessions": _key("started_at", "id"),
    "session_events": _key("session", "event.at", "event.id"),
    "other_events": _key("at", "id"),
    "views": _key("session", "product"),
    "searches": _key("session", "text"),
    "carts": _key("session", "cart", "product"),
    "similar_customers": _key("model", "score"),
}


def _in_order(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name, key in _ORDER.items():
        out[name] = sorted(out.get(name) or [], key=key)
    return out


def _labels(doc: Mapping[str, Any]) -> set[str]:
    """Which node labels of the model the export holds data from."""
    present = {"Customer"}
    for key, label in (
        ("pii", "PII"),
        ("identities", "Identity"),
        ("consents", "Consent"),
        ("tiers", "LoyaltyTier"),
        ("segments", "Segment"),
        ("segment_history", "Segment"),
        ("purchases", "Product"),
        ("orders", "Order"),
        ("sessions", "Session"),
        ("carts", "Cart"),
        ("searches", "Query"),
    ):
        if doc.get(key):
            present.add(label)
    if doc.get("session_events") or doc.get("other_events"):
        present.add("Event")
    return present
