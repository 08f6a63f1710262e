"""Prometheus metrics: the API's own (request latency per route and status), and the exposition.

Each room defines the metrics it measures (graph/metrics.py, ingest/metrics.py,
privacy/metrics.py); `/metrics` (api/routes/metrics.py) writes them all, and the state read at
scrape time: whether the store answers, and the promoted model's age and evaluation. With
several workers (`ckg serve --workers N`) every worker writes its samples to
`PROMETHEUS_MULTIPROC_DIR` and whichever answers the scrape adds them up.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embeddings.serving import MODEL_KIND
from graph.errors import CkgError
from graph.metrics import BUCKETS
from graph.queries import Queries
from graph.store import Store

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # a path no route serves: one label value, not one per path sent
STATE_TTL_S = 10.0

REQUEST_SECONDS = Histogram(
    "ckg_http_request_duration_seconds",
    "HTTP requests by route template, method and status, from the first byte in to the last out.",
    ["route", "method", "status"],
    buckets=BUCKETS,
)


class RequestMetrics:
    """Plain ASGI, outside the routers: it sees every answer, errors and 413s included, and
    labels it with the route's template (`/v1/sessions/{session_id}/context`), never the path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes everything is answered 500 by the server

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            REQUEST_SECONDS.labels(template, scope["method"], str(status)).observe(
                time.perf_counter() - started
            )


class StateCollector(Collector):
    """What the store says at scrape time, read at most every `STATE_TTL_S` seconds."""

    def __init__(self, store: Store | None, queries: Queries) -> None:
        self.store = store
        self.queries = queries
        self._lock = threading.Lock()
        self._at = 0.0
        self._cached: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() - self._at > STATE_TTL_S:
                self._cached = self._read()
                self._at = time.monotonic()
            yield from self._cached

    def _read(self) -> list[Metric]:
        up = GaugeMetricFamily("ckg_store_up", "1 when the store answers a ping, else 0.")
        model: Any = None
        try:
            if self.store is None:
                raise CkgError("the store is not connected")
            self.store.ping()
            model = self.store.read_one(self.queries.promoted_model, {"kind": MODEL_KIND})
            up.add_metric([], 1)
        except CkgError as exc:
            logger.warning("metrics: the store did not answer: %s", exc)
            up.add_metric([], 0)
        return [up, *_model_metrics(model["model"] if model else None)]


def _model_metrics(model: dict[str, Any] | None) -> list[Metric]:
    age = GaugeMetricFamily(
        "ckg_model_age_seconds", "Seconds since the promoted model was trained.", labels=["model"]
    )
    evaluation = GaugeMetricFamily(
        "ckg_model_evaluation",
        "The promoted model's offline evaluation: ckg and each baseline, per metric.",
        labels=["model", "recommender", "metric"],
    )
    if model is not None:
        mid = str(model.get("id"))
        age.add_metric([mid], max(0.0, time.time() - int(model.get("created_at", 0)) / 1000))
        stored = json.loads(model.get("metrics") or "{}")
        results = (stored.get("evaluation") or {}).get("results") or {}
        for recommender, values in sorted(results.items()):
            for metric, value in sorted(values.items()):
                if metric != "cases" and isinstance(value, int | float):
                    evaluation.add_metric([mid, recommender, metric], float(value))
    return [age, evaluation]


def exposition(state: Collector) -> bytes:
    """Every room's metrics (added up across workers when there are several) and the state."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        measured = generate_latest(registry)
    else:
        measured = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(state)
    return measured + generate_latest(scraped)
