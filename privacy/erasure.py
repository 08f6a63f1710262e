"""Erasure: one person's whole subgraph deleted in one statement, with a verified receipt.

The receipt, an `(:Erasure)` node, holds keyed hashes and counts only; the hashes of the
subject and its aliases are the suppression list (privacy/suppression.py), so nothing is
stored for them again. Erasing a subject of whom nothing exists returns the receipt in force
(`already_erased`); when something does exist again (data restored from a backup), it is
erased again under a new receipt that refers to the one before (`previous`).

Erasure runs under the same lock as ingestion (the caller holds it), so a load can neither
interleave with an erasure nor write an event for a subject between its deletion and its
suppression.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.errors import CustomerNotFound
from graph.queries import Queries
from graph.store import Store
from privacy.audit import audited
from privacy.errors import ErasureIncomplete
from privacy.times import iso, now_ms
from privacy.tokens import subject_hash

# id lists the erasure collects, by the label they belong to (also the statement's parameters)
ERASED: tuple[tuple[str, str], ...] = (
    ("Customer", "customers"),
    ("Identity", "identities"),
    ("PII", "pii"),
    ("Consent", "consents"),
    ("Session", "sessions"),
    ("Cart", "carts"),
    ("Event", "events"),
    ("Order", "orders"),
    ("Query", "queries"),
)
Row = Mapping[str, Any]


class ReceiptRef(BaseModel):
    """An earlier receipt of the same subject."""

    model_config = ConfigDict(frozen=True)

    id: str
    at: str


class ErasureReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    subject_hash: str
    at: str  # ISO 8601 UTC
    nodes: dict[str, int]
    relationships: dict[str, int]
    verified: bool
    already_erased: bool = False
    stale_models: int = 0
    previous: ReceiptRef | None = None


def erase(store: Store, q: Queries, key: bytes, customer_id: str, *, actor: str) -> ErasureReceipt:
    """Erase the person (see the module's docstring); the request goes to the audit trail."""
    h = subject_hash(key, customer_id)
    with audited(store, q, "erasure", h, actor) as entry:
        receipt = _erase(store, q, key, customer_id, h)
        entry.receipt = receipt.id
        return receipt


def _erase(store: Store, q: Queries, key: bytes, customer_id: str, h: str) -> ErasureReceipt:
    history = store.read(q.erasure_receipts, {"hash": h})
    row = store.read_one(q.erasure_collect, {"id": customer_id})
    if row is not None:
        return _erase_found(store, q, key, h, row, history[-1] if history else None)
    in_force = [r for r in history if r["lifted_at"] is None]
    if not in_force:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    return _stored_receipt(h, in_force[-1], history)


def _erase_found(
    store: Store, q: Queries, key: bytes, h: str, row: Row, previous: Row | None
) -> ErasureReceipt:
    ids = _erased_ids(store, q, row)
    nodes = {label: len(ids[param]) for label, param in ERASED if ids[param]}
    relationships = _relationship_counts(store, q, ids)
    at = now_ms()
    receipt = f"erasure:{uuid.uuid4().hex}"
    counts = json.dumps({"nodes": nodes, "relationships": relationships}, sort_keys=True)
    res = store.write(
        q.erase_subject,
        {
            **ids,
            "segments": sorted(set(row["segments"] or [])),
            "receipt": receipt,
            "hash": h,
            "aliases": sorted(subject_hash(key, i) for i in ids["identities"]),
            "at": at,
            "counts": counts,
            "previous": previous["id"] if previous else None,
        },
    )
    stale = int(res.returned[0]["stale_models"]) if res.returned else 0
    remaining = sum(int(r["remaining"]) for r in store.read(q.erasure_verify, ids))
    deleted = res.counters.get("relationships_deleted")
    verified = remaining == 0 and (deleted is None or deleted >= sum(relationships.values()))
    store.write(q.erasure_mark_verified, {"receipt": receipt, "verified": verified})
    if not verified:
        raise ErasureIncomplete(f"erasure of subject {h[:12]}… left {remaining} nodes")
    return ErasureReceipt(
        id=receipt,
        subject_hash=h,
        at=iso(at),
        nodes=nodes,
        relationships=relationships,
        verified=verified,
        stale_models=stale,
        previous=_ref(previous),
    )


def _ref(row: Row | None) -> ReceiptRef | None:
    return None if row is None else ReceiptRef(id=row["id"], at=iso(int(row["at"])))


def _stored_receipt(subject: str, row: Row, history: Sequence[Row]) -> ErasureReceipt:
    counts = json.loads(row["counts"] or "{}")
    before = next((r for r in history if r["id"] == row["previous"]), None)
    return ErasureReceipt(
        id=row["id"],
        subject_hash=subject,
        at=iso(int(row["at"])),
        nodes=counts.get("nodes", {}),
        relationships=counts.get("relationships", {}),
        verified=bool(row["verified"]),
        already_erased=True,
        previous=_ref(before),
    )


def _erased_ids(store: Store, q: Queries, row: Row) -> dict[str, list[str]]:
    """The ids of every node the erasure deletes, by kind."""
    ids: dict[str, list[str]] = {
        "customers": [row["customer"]],
        **{
            k: sorted(set(row[k] or []))
            for k in ("identities", "pii", "consents", "sessions", "carts", "events", "orders")
        },
    }
    # a search query goes only when every session that searched it is this person's
    searched = Counter(row["queries"] or [])
    totals = {
        r["id"]: int(r["searchers"])
        for r in store.read(q.query_searchers, {"ids": sorted(searched)})
    }
    ids["queries"] = sorted(qid for qid, n in searched.items() if totals.get(qid, 0) <= n)
    return ids


def _relationship_counts(store: Store, q: Queries, ids: Mapping[str, list[str]]) -> dict[str, int]:
    """Exact per-type counts: rows come once from each subject end, so a relationship between
    two subject nodes is seen twice and one to a shared node once."""
    subject = {(label, i) for label, param in ERASED for i in ids[param]}
    halves: Counter[str] = Counter()
    for r in store.read(q.erasure_relationships, ids):
        inside = (r["other_label"], r["other_id"]) in subject
        halves[r["type"]] += 1 if inside else 2
    return {t: n // 2 for t, n in sorted(halves.items())}
