"""Which consents are in force: the one rule every read that declares a purpose goes through.

Consent history is append-only; the latest decision per purpose is in force. When two decisions
for one purpose carry the same time, the withdrawal wins: doubt must never widen what we may do.
No decision at all means "not granted" (opt-in). The context query applies the same rule inside
Cypher (cypher/context/session_context.cypher) so that personal data never leaves the store
without consent; this module reports which decisions a response relied on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict

from graph.model import Purpose

PURPOSES: tuple[Purpose, ...] = get_args(Purpose)


class ConsentRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    purpose: Purpose
    granted: bool
    at: int
    source: str | None = None
    id: str | None = None


def _supersedes(new: ConsentRecord, old: ConsentRecord) -> bool:
    return new.at > old.at or (new.at == old.at and old.granted and not new.granted)


def in_force(records: Iterable[ConsentRecord | Mapping[str, Any]]) -> dict[Purpose, ConsentRecord]:
    """The decisive record per purpose; purposes never decided are absent."""
    latest: dict[Purpose, ConsentRecord] = {}
    for raw in records:
        rec = raw if isinstance(raw, ConsentRecord) else ConsentRecord.model_validate(raw)
        old = latest.get(rec.purpose)
        if old is None or _supersedes(rec, old):
            latest[rec.purpose] = rec
    return latest


def allows(records: Iterable[ConsentRecord | Mapping[str, Any]], purpose: Purpose) -> bool:
    rec = in_force(records).get(purpose)
    return rec is not None and rec.granted
