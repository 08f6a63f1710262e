"""The audit trail of privacy requests: one `(:Audit)` node per export, erasure, consent
change and lifted suppression, whatever its outcome.

A record names the subject only by its keyed hash, so it holds no personal data and an
erasure (which deletes by id) leaves it standing: the trail outlives the person, as the
requests report needs it to.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from graph.errors import NotFound
from graph.queries import Queries
from graph.store import Store
from privacy import metrics
from privacy.errors import ErasedSubject
from privacy.times import now_ms

logger = logging.getLogger(__name__)

Action = Literal["export", "erasure", "consent_change", "suppression_lifted"]
Outcome = Literal["complied", "denied", "not_found", "failed"]
CLI_ACTOR = "cli"


@dataclass
class AuditEntry:
    """What the audited block adds to its record while it runs."""

    receipt: str | None = None
    purposes_granted: list[str] = field(default_factory=list)
    purposes_withdrawn: list[str] = field(default_factory=list)


def outcome_of(exc: BaseException | None) -> Outcome:
    """A refusal of the caller's request (an erased subject) is `denied`; an unknown subject
    `not_found`; anything else that went wrong `failed`."""
    if exc is None:
        return "complied"
    if isinstance(exc, ErasedSubject):
        return "denied"
    if isinstance(exc, NotFound):
        return "not_found"
    return "failed"


@contextmanager
def audited(
    store: Store, q: Queries, action: Action, subject: str, actor: str
) -> Iterator[AuditEntry]:
    """Record the block as one request: received when it starts, its outcome when it ends.

    When the block fails, a failure to write the record is logged and the block's own error
    goes on; when it succeeds, a failure to record it is an error of the request."""
    entry = AuditEntry()
    at = now_ms()
    try:
        yield entry
    except BaseException as exc:
        try:
            _record(store, q, action, subject, actor, at, outcome_of(exc), entry)
        except Exception:
            logger.exception("could not record the %s request in the audit trail", action)
        raise
    _record(store, q, action, subject, actor, at, "complied", entry)


def _record(
    store: Store,
    q: Queries,
    action: Action,
    subject: str,
    actor: str,
    at: int,
    outcome: Outcome,
    entry: AuditEntry,
) -> None:
    done = now_ms()
    metrics.count(action, outcome, (done - at) / 1000)
    # the subject by its keyed hash only, as in the audit trail itself
    logger.info(
        "%s request by %s for subject %s: %s in %d ms", action, actor, subject, outcome, done - at
    )
    store.write(
        q.audit_record,
        {
            "id": f"audit:{uuid.uuid4().hex}",
            "action": action,
            "hash": subject,
            "actor": actor,
            "at": at,
            "completed_at": done,
            "duration_ms": done - at,
            "outcome": outcome,
            "receipt": entry.receipt,
            "purposes_granted": sorted(entry.purposes_granted),
            "purposes_withdrawn": sorted(entry.purposes_withdrawn),
        },
    )
