"""Store round trips as Prometheus metrics: latency per named query, and failures by kind.

Defined where they are measured, like every ckg metric; the API's `/metrics` exposes them
(api/metrics.py). Query names come from the catalog, so the label set is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

# from a cached read (~0.3 ms) to a large batch write (seconds)
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

QUERY_SECONDS = Histogram(
    "ckg_store_query_duration_seconds",
    "Store round trip of one named query (a batch of a batched write).",
    ["query", "mode"],
    buckets=BUCKETS,
)
QUERY_ERRORS = Counter(
    "ckg_store_query_errors_total",
    "Named queries that failed, by the error's class (StoreUnavailable, QueryError, ...).",
    ["query", "error"],
)


def took(query: str, mode: str, seconds: float) -> None:
    QUERY_SECONDS.labels(query, mode).observe(seconds)


@contextmanager
def observed(query: str, mode: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        QUERY_ERRORS.labels(query, type(exc).__name__).inc()
        raise
    finally:
        QUERY_SECONDS.labels(query, mode).observe(time.perf_counter() - started)
