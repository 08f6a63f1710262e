"""The privacy requests report (CCPA metrics), from the audit trail.

Per kind of request: how many were received in the window, how many were complied with and
how many were not (`denied`, with the outcomes behind it), and the median time to complete a
complied one, in milliseconds. Requests to know are exports, requests to delete erasures,
and requests to opt out of sale consent changes that withdraw `sale_of_data`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from statistics import median
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graph.queries import Queries
from graph.store import Store
from privacy.times import iso

Row = Mapping[str, Any]


class RequestCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    received: int
    complied: int
    denied: int  # received and not complied with: refused, unknown subject, or failed
    outcomes: dict[str, int]  # every outcome but `complied`, by name
    median_ms: float | None  # median time to complete a complied request


class RequestsReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: str = Field(serialization_alias="from")  # ISO 8601 UTC, inclusive
    end: str = Field(serialization_alias="to")  # ISO 8601 UTC, exclusive
    to_know: RequestCounts
    to_delete: RequestCounts
    to_opt_out_of_sale: RequestCounts


def requests_report(store: Store, q: Queries, start: int, end: int) -> RequestsReport:
    """The report for requests received from `start` (inclusive) to `end` (exclusive), both
    epoch milliseconds."""
    # a window that does not end after it starts holds no requests
    rows = store.read(q.audit_window, {"start": start, "end": end}) if end > start else []
    opt_outs = [
        r
        for r in rows
        if r["action"] == "consent_change" and "sale_of_data" in (r["purposes_withdrawn"] or [])
    ]
    return RequestsReport(
        start=iso(start),
        end=iso(end),
        to_know=_counts(r for r in rows if r["action"] == "export"),
        to_delete=_counts(r for r in rows if r["action"] == "erasure"),
        to_opt_out_of_sale=_counts(opt_outs),
    )


def _counts(rows: Iterable[Row]) -> RequestCounts:
    outcomes: Counter[str] = Counter()
    durations: list[int] = []
    for r in rows:
        outcomes[str(r["outcome"])] += 1
        if r["outcome"] == "complied" and r["duration_ms"] is not None:
            durations.append(int(r["duration_ms"]))
    received = sum(outcomes.values())
    complied = outcomes.pop("complied", 0)
    return RequestCounts(
        received=received,
        complied=complied,
        denied=received - complied,
        outcomes=dict(sorted(outcomes.items())),
        median_ms=float(median(durations)) if durations else None,
    )
