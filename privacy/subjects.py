"""Data-subject operations: consent records, personal data, export, erasure, retention.

Shared by the HTTP routes and the CLI. Erasure and retention run under the same lock as
ingestion (the caller passes it), so a load can neither interleave with an erasure nor write an
event for a subject between its deletion and its suppression.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graph.errors import CkgError, CustomerNotFound
from graph.model import Purpose
from graph.queries import Queries
from graph.store import Store
from privacy.consent import PURPOSES, ConsentRecord, in_force
from privacy.tokens import normalize_email, normalize_phone, subject_hash, token

DAY_MS = 86_400_000
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


class ErasureIncomplete(CkgError):
    """The verification query found data of an erased subject; the receipt says unverified."""

    reason = "erasure_unverified"


def now_ms() -> int:
    return int(time.time() * 1000)


# --- consent -----------------------------------------------------------------------------------


class ConsentState(BaseModel):
    """Per purpose: the decision in force, or the configured default when there is none."""

    model_config = ConfigDict(frozen=True)

    purpose: Purpose
    granted: bool
    at: int | None = None
    source: str | None = None
    default: bool = False


def consent_history(store: Store, q: Queries, customer_id: str) -> list[ConsentRecord]:
    row = store.read_one(q.consent_history, {"id": customer_id})
    if row is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    records = [ConsentRecord.model_validate(r) for r in row["consents"] or []]
    return sorted(records, key=lambda r: (r.at, r.purpose, r.granted))


def consent_state(history: Iterable[ConsentRecord], defaults: Iterable[str]) -> list[ConsentState]:
    decided = in_force(history)
    granted_by_default = set(defaults)
    out = []
    for purpose in PURPOSES:
        rec = decided.get(purpose)
        if rec is None:
            out.append(
                ConsentState(purpose=purpose, granted=purpose in granted_by_default, default=True)
            )
        else:
            out.append(
                ConsentState(purpose=purpose, granted=rec.granted, at=rec.at, source=rec.source)
            )
    return out


def record_consents(
    store: Store,
    q: Queries,
    customer_id: str,
    decisions: Mapping[Purpose, bool],
    source: str,
    at: int | None = None,
) -> list[ConsentRecord]:
    """Append one record per decision; history is never rewritten."""
    at = at if at is not None else now_ms()
    rows = [
        {
            "id": f"consent:{uuid.uuid4().hex}",
            "purpose": p,
            "granted": g,
            "at": at,
            "source": source,
        }
        for p, g in sorted(decisions.items())
    ]
    res = store.write(q.record_consents, {"id": customer_id, "consents": rows})
    if not res.returned:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    return [ConsentRecord.model_validate(r) for r in rows]


# --- customers and personal data ---------------------------------------------------------------


# Not `@` and not white space, spelled out: `\s` means other characters in JSON Schema's
# (ECMA-262) regexes than in the one that checks them here.
_EMAIL_PART = r"[^@\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"


class PiiFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(
        default=None, max_length=254, pattern=f"^{_EMAIL_PART}@{_EMAIL_PART}$"
    )
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[\d ()./-]{5,40}$")
    name: str | None = Field(default=None, max_length=200)


def create_customer(
    store: Store,
    q: Queries,
    key: bytes,
    customer_id: str,
    country: str | None,
    pii: PiiFields | None,
    consents: Mapping[Purpose, bool],
    defaults: Iterable[Purpose],
    source: str,
) -> bool:
    """Create (or find) a customer; with no consent given, the configured defaults are
    recorded as decisions of source `default`, so the history shows why."""
    at = now_ms()
    res = store.write(q.create_customer, {"id": customer_id, "at": at, "country": country})
    created = res.counters.get("nodes_created", 0) > 0
    if pii is not None:
        set_pii(store, q, key, customer_id, pii)
    if consents:
        record_consents(store, q, customer_id, consents, source, at)
    elif created:
        record_consents(
            store, q, customer_id, {p: p in set(defaults) for p in PURPOSES}, "default", at
        )
    return created


def set_pii(store: Store, q: Queries, key: bytes, customer_id: str, pii: PiiFields) -> None:
    email = normalize_email(pii.email) if pii.email else None
    phone = normalize_phone(pii.phone) if pii.phone else None
    res = store.write(
        q.upsert_pii,
        {
            "id": customer_id,
            "email": email,
            "phone": phone,
            "name": pii.name,
            "email_token": token(key, "email", email) if email else None,
            "phone_token": token(key, "phone", phone) if phone else None,
            "at": now_ms(),
        },
    )
    if not res.returned:
        raise CustomerNotFound(f"no customer {customer_id!r}")


def find_customer(
    store: Store, q: Queries, key: bytes, *, email: str | None = None, phone: str | None = None
) -> list[str]:
    if email:
        tok = token(key, "email", normalize_email(email))
    elif phone:
        tok = token(key, "phone", normalize_phone(phone))
    else:
        raise CkgError("give an e-mail address or a phone number")
    return sorted({r["id"] for r in store.read(q.customer_by_token, {"token": tok})})


# --- export ------------------------------------------------------------------------------------


def export(store: Store, q: Queries, customer_id: str) -> dict[str, Any]:
    row = store.read_one(q.export_customer, {"id": customer_id})
    if row is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    out = dict(row)
    out["consents"] = sorted(out.get("consents") or [], key=lambda r: r.get("at") or 0)
    out["exported_at"] = now_ms()
    out["labels"] = sorted(_labels(out))
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


# --- erasure -----------------------------------------------------------------------------------


class ErasureReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_hash: str
    at: int
    nodes: dict[str, int]
    relationships: dict[str, int]
    verified: bool
    already_erased: bool = False
    stale_models: int = 0


def erase(store: Store, q: Queries, key: bytes, customer_id: str) -> ErasureReceipt:
    """Delete one person's whole subgraph; idempotent (a second call returns the receipt)."""
    h = subject_hash(key, customer_id)
    old = store.read_one(q.erasure_receipt, {"hash": h})
    if old is not None:
        return _stored_receipt(h, old)
    row = store.read_one(q.erasure_collect, {"id": customer_id})
    if row is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    ids = _erased_ids(store, q, row)
    nodes = {label: len(ids[param]) for label, param in ERASED if ids[param]}
    relationships = _relationship_counts(store, q, ids)
    at = now_ms()
    counts = json.dumps({"nodes": nodes, "relationships": relationships}, sort_keys=True)
    aliases = sorted(subject_hash(key, i) for i in ids["identities"])
    res = store.write(
        q.erase_subject,
        {
            **ids,
            "segments": sorted(set(row["segments"] or [])),
            "hash": h,
            "aliases": aliases,
            "at": at,
            "counts": counts,
        },
    )
    stale = int(res.returned[0]["stale_models"]) if res.returned else 0
    remaining = sum(int(r["remaining"]) for r in store.read(q.erasure_verify, ids))
    deleted = res.counters.get("relationships_deleted")
    verified = remaining == 0 and (deleted is None or deleted >= sum(relationships.values()))
    store.write(q.erasure_mark_verified, {"hash": h, "verified": verified})
    if not verified:
        raise ErasureIncomplete(f"erasure of subject {h[:12]}… left {remaining} nodes")
    return ErasureReceipt(
        subject_hash=h,
        at=at,
        nodes=nodes,
        relationships=relationships,
        verified=verified,
        stale_models=stale,
    )


def _stored_receipt(subject: str, row: Mapping[str, Any]) -> ErasureReceipt:
    counts = json.loads(row["counts"] or "{}")
    return ErasureReceipt(
        subject_hash=subject,
        at=row["at"],
        nodes=counts.get("nodes", {}),
        relationships=counts.get("relationships", {}),
        verified=bool(row["verified"]),
        already_erased=True,
    )


def _erased_ids(store: Store, q: Queries, row: Mapping[str, Any]) -> dict[str, list[str]]:
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


# --- retention ---------------------------------------------------------------------------------


class RetentionReport(BaseModel):
    cutoff: int
    sessions: int = 0
    events: int = 0
    carts: int = 0


def retention(
    store: Store, q: Queries, max_age_days: int, as_of: int | None = None, batch: int = 500
) -> RetentionReport:
    """Delete sessions (with their context graph) and loose events older than the cut-off.

    Purchases, orders and customer facts stay: they are the customer's account, not tracking.
    """
    if max_age_days < 1:
        raise CkgError("the retention age must be at least one day")
    cutoff = (as_of if as_of is not None else now_ms()) - max_age_days * DAY_MS
    report = RetentionReport(cutoff=cutoff)
    while True:
        rows = store.read(q.retention_sessions, {"before": cutoff, "limit": batch})
        loose = [
            r["id"] for r in store.read(q.retention_events, {"before": cutoff, "limit": batch * 10})
        ]
        if not rows and not loose:
            return report
        sessions = [r["session"] for r in rows]
        carts = sorted({k for r in rows for k in r["carts"] or []})
        events = sorted({e for r in rows for e in r["events"] or []} | set(loose))
        store.write(q.retention_delete, {"sessions": sessions, "carts": carts, "events": events})
        report.sessions += len(sessions)
        report.carts += len(carts)
        report.events += len(events)
