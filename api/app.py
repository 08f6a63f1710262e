"""The FastAPI application: one store client per process, created in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routes import health
from graph.errors import CkgError, StoreAuthError, StoreUnavailable
from graph.queries import get_queries
from graph.settings import Settings, get_settings
from graph.store import open_store


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the store until the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or get_settings()
        get_queries()  # a missing query file stops start-up here, not at the first request
        app.state.settings = s
        app.state.store = None
        try:
            app.state.store = open_store(s)
        except (StoreUnavailable, StoreAuthError):
            # Start anyway: /readyz says not ready and store-backed routes answer 503.
            app.state.store = None
        try:
            yield
        finally:
            if app.state.store is not None:
                app.state.store.close()

    app = FastAPI(
        title="ckg — customer knowledge graph",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
    )
    app.include_router(health.router)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": {"reason": exc.reason, "message": str(exc)}},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(CkgError)
    async def _ckg_error(_: Request, exc: CkgError) -> JSONResponse:
        body = {"detail": {"reason": exc.reason, "message": str(exc)}}
        return JSONResponse(body, status_code=400)

    return app
