"""Liveness and readiness: the only routes open without an API key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.schemas import HealthPublic
from graph.errors import CkgError, StoreUnavailable, Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic, response_model_exclude_none=True)
def healthz() -> HealthPublic:
    """The process is up; says nothing about the store."""
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    response_model=HealthPublic,
    responses={
        503: {
            "model": HealthPublic,
            "description": "Not ready; retry after the Retry-After seconds.",
        }
    },
)
def readyz(request: Request) -> HealthPublic | JSONResponse:
    """Ready when the store answers a ping; load balancers route on this."""
    store = request.app.state.store
    engine = request.app.state.settings.resolved_engine
    if store is None:
        return _not_ready(engine, StoreUnavailable("the store is not connected"))
    try:
        store.ping()
    except CkgError as exc:
        return _not_ready(engine, exc)
    return HealthPublic(status="ready", engine=engine)


def _not_ready(engine: str, exc: CkgError) -> JSONResponse:
    """503 with the Retry-After a route answering the same error sends (a fault of ours has
    none: it is retried as an unavailable store)."""
    from api.app import answer_for  # the app imports this module

    retry = exc if isinstance(exc, Unavailable) else StoreUnavailable(str(exc))
    headers = dict(answer_for(retry).headers)
    return JSONResponse(
        {"status": "store_unavailable", "engine": engine}, status_code=503, headers=headers
    )
