"""Privacy requests (erasures, exports, consent changes...) as Prometheus metrics.

Counted where the audit trail records them (privacy/audit.py), with the same action and
outcome names, so the metrics and the requests report agree.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "ckg_privacy_requests_total",
    "Privacy requests by action (erasure, export, ...) and outcome (complied, denied, ...).",
    ["action", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "ckg_privacy_request_duration_seconds",
    "Time to carry out one privacy request, erasures included.",
    ["action"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def count(action: str, outcome: str, seconds: float) -> None:
    REQUESTS.labels(action, outcome).inc()
    REQUEST_SECONDS.labels(action).observe(seconds)
