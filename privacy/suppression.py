"""The suppression list: keyed hashes of erased subjects and their aliases, and its guard.

An erasure is final: every path that writes for a subject (customer creation, personal data,
consent, events, id links) refuses one on the list with `ErasedSubject`, and the write
statements repeat the check themselves so that an erasure cannot slip between check and
write. Only an explicit, audited admin action lifts a suppression (`lift`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from graph.queries import Queries
from graph.store import Store
from privacy.audit import audited
from privacy.errors import ErasedSubject, SuppressionNotFound
from privacy.times import iso, now_ms
from privacy.tokens import subject_hash


def suppressed(store: Store, q: Queries) -> set[str]:
    """Keyed hashes of every erased subject id and alias whose suppression is in force."""
    out: set[str] = set()
    for r in store.read(q.suppression_list):
        out.add(r["subject_hash"])
        out.update(r["aliases"] or [])
    return out


def is_suppressed(store: Store, q: Queries, hashes: list[str]) -> bool:
    row = store.read_one(q.suppression_check, {"hashes": hashes})
    return row is not None and int(row["suppressed"]) > 0


def erased(subject_id: str) -> ErasedSubject:
    return ErasedSubject(f"subject {subject_id!r} was erased; nothing is stored for it")


def refuse_erased(store: Store, q: Queries, key: bytes, subject_id: str) -> str:
    """The subject's keyed hash; `ErasedSubject` when it is on the suppression list."""
    h = subject_hash(key, subject_id)
    if is_suppressed(store, q, [h]):
        raise erased(subject_id)
    return h


class SuppressionLifted(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject_hash: str
    at: str
    receipts: list[str]  # the erasure receipts lifted; they stay, marked lifted


def lift(store: Store, q: Queries, key: bytes, subject_id: str, *, actor: str) -> SuppressionLifted:
    """Take the subject off the suppression list, so its id can be created again."""
    h = subject_hash(key, subject_id)
    with audited(store, q, "suppression_lifted", h, actor):
        at = now_ms()
        res = store.write(q.lift_suppression, {"hash": h, "at": at})
        receipts = sorted(str(r["id"]) for r in res.returned)
        if not receipts:
            raise SuppressionNotFound(f"subject {subject_id!r} is not suppressed")
        return SuppressionLifted(subject_hash=h, at=iso(at), receipts=receipts)
