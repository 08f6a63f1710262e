"""Ingestion as Prometheus metrics: every record's outcome per source, and batch latency.

Counted from the run's reconciliation, so the metrics add up the way the run does:
accepted + duplicate + rejected = input. The rejected share (data completeness) is a ratio of
these counters, computed where it is read (the Grafana dashboard, the alert rules).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from graph.metrics import BUCKETS
from ingest.report import Reconciliation

RECORDS = Counter(
    "ckg_ingest_records_total",
    "Input records by source and outcome (accepted, duplicate, rejected) and rejection reason.",
    ["source", "outcome", "reason"],
)
BATCH_SECONDS = Histogram(
    "ckg_ingest_batch_duration_seconds",
    "Store time of one written ingestion batch.",
    ["source"],
    buckets=BUCKETS,
)
LOAD_SECONDS = Histogram(
    "ckg_ingest_load_duration_seconds",
    "One load from start to reconciliation: a file, an HTTP request, a stream's batch.",
    ["source"],
    buckets=BUCKETS,
)


def count(source: str, rec: Reconciliation, seconds: float) -> None:
    RECORDS.labels(source, "accepted", "").inc(rec.accepted)
    RECORDS.labels(source, "duplicate", "").inc(rec.duplicates)
    for reason, n in rec.by_reason.items():
        RECORDS.labels(source, "rejected", reason).inc(n)
    LOAD_SECONDS.labels(source).observe(seconds)
