"""GET /metrics: Prometheus' scrape target, behind the `metrics:read` scope.

Prometheus sends the key as a bearer token (`authorization: {credentials_file: ...}` in its
scrape configuration), so the figures (route names, query names, rejection reasons, model
scores) are not public and no second port is needed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from api.deps import MetricsKey
from api.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_PLAIN_0_0_4.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format 0.0.4.",
        }
    },
)
def metrics(request: Request, _key: MetricsKey) -> Response:
    """Request latency per route and status, store round trips per named query, ingestion
    outcomes per source and reason, privacy requests, store health, the promoted model's age
    and evaluation."""
    return Response(
        exposition(request.app.state.metrics_state), media_type=CONTENT_TYPE_PLAIN_0_0_4
    )
