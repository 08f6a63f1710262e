"""Retention: sessions (with their context graph) and loose events older than a cut-off go.

Purchases, orders and customer facts stay: they are the customer's account, not tracking.
"""

from __future__ import annotations

from pydantic import BaseModel

from graph.errors import CkgError
from graph.queries import Queries
from graph.store import Store
from privacy.times import iso, now_ms

DAY_MS = 86_400_000


class RetentionReport(BaseModel):
    cutoff: str  # ISO 8601 UTC
    sessions: int = 0
    events: int = 0
    carts: int = 0


def retention(
    store: Store, q: Queries, max_age_days: int, as_of: int | None = None, batch: int = 500
) -> RetentionReport:
    """Delete in batches until nothing older than the cut-off is left."""
    if max_age_days < 1:
        raise CkgError("the retention age must be at least one day")
    cutoff = (as_of if as_of is not None else now_ms()) - max_age_days * DAY_MS
    report = RetentionReport(cutoff=iso(cutoff))
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
