"""Liveness and readiness: the only routes open without an API key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.schemas import HealthPublic
from graph.errors import CkgError

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic, response_model_exclude_none=True)
def healthz() -> HealthPublic:
    """The process is up; says nothing about the store."""
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "Not ready: status store_unavailable."}},
)
def readyz(request: Request) -> HealthPublic | JSONResponse:
    """Ready when the store answers a ping; load balancers route on this."""
    store = request.app.state.store
    engine = request.app.state.settings.resolved_engine
    if store is None:
        return JSONResponse({"status": "store_unavailable", "engine": engine}, status_code=503)
    try:
        store.ping()
    except CkgError:
        return JSONResponse({"status": "store_unavailable", "engine": engine}, status_code=503)
    return HealthPublic(status="ready", engine=engine)
