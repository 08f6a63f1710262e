"""Export: everything held on one person, as JSON (a data subject access request).

Times are ISO 8601 UTC strings, as in every answer; the store keeps epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
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
        out = dict(row)
        out["consents"] = sorted(out.get("consents") or [], key=lambda r: r.get("at") or 0)
        out["labels"] = sorted(_labels(out))
        doc: dict[str, Any] = iso_times(out)
        doc["exported_at"] = iso(now_ms())
        return doc


def _labels(doc: Mapping[str, Any]) -> set[str]:
    """Which node labels of the model the export holds data from."""
    present = {"Customer"}
    for key, label in (
        ("pii", "PII"),
        ("identities", "Identity"),
        ("consents", "Consent"),
        ("tiers", "LoyaltyTier"),
        ("segments", "Segment"),
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
