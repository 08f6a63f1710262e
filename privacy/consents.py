"""Consent records: the history of one customer, the state in force, and new decisions.

The rule deciding which decision is in force is privacy/consent.py; this module reads and
appends the records. History is append-only, and nothing is appended for an erased subject.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from graph.errors import CustomerNotFound
from graph.model import Purpose
from graph.queries import Queries
from graph.store import Store
from privacy.audit import audited
from privacy.consent import PURPOSES, ConsentRecord, in_force
from privacy.suppression import refuse_erased
from privacy.times import iso, now_ms
from privacy.tokens import subject_hash


class ConsentState(BaseModel):
    """Per purpose: the decision in force, or the configured default when there is none."""

    model_config = ConfigDict(frozen=True)

    purpose: Purpose
    granted: bool
    at: str | None = None  # ISO 8601 UTC
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
                ConsentState(
                    purpose=purpose, granted=rec.granted, at=iso(rec.at), source=rec.source
                )
            )
    return out


def record_consents(
    store: Store,
    q: Queries,
    key: bytes,
    customer_id: str,
    decisions: Mapping[Purpose, bool],
    source: str,
    at: int | None = None,
) -> list[ConsentRecord]:
    """Append one record per decision; history is never rewritten. `ErasedSubject` for a
    subject on the suppression list, checked again by the write itself."""
    h = refuse_erased(store, q, key, customer_id)
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
    res = store.write(q.record_consents, {"id": customer_id, "hash": h, "consents": rows})
    if not res.returned:
        refuse_erased(store, q, key, customer_id)  # erased between the check and the write
        raise CustomerNotFound(f"no customer {customer_id!r}")
    return [ConsentRecord.model_validate(r) for r in rows]


def change_consents(
    store: Store,
    q: Queries,
    key: bytes,
    customer_id: str,
    decisions: Mapping[Purpose, bool],
    source: str,
    *,
    actor: str,
) -> list[ConsentRecord]:
    """`record_consents` as a data subject's request, in the audit trail; a withdrawn
    `sale_of_data` is an opt-out of sale for the requests report."""
    with audited(store, q, "consent_change", subject_hash(key, customer_id), actor) as entry:
        entry.purposes_granted = sorted(p for p, g in decisions.items() if g)
        entry.purposes_withdrawn = sorted(p for p, g in decisions.items() if not g)
        return record_consents(store, q, key, customer_id, decisions, source)
