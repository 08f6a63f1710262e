"""The FastAPI application: one store client per process, created in the lifespan."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.auth import AuthError, KeyStore, ScopeError
from api.errors import PayloadTooLarge
from api.routes import events, health, recommendations
from graph.errors import CkgError, NotFound, StoreAuthError, StoreUnavailable
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
        app.state.keys = KeyStore(s.api_keys_file)
        app.state.ingest_lock = threading.Lock()
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
    app.include_router(events.router)
    app.include_router(recommendations.router)

    @app.exception_handler(CkgError)
    async def _domain_error(_: Request, exc: CkgError) -> JSONResponse:
        return problem(exc)

    @app.middleware("http")
    async def _body_limit(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        limit = request.app.state.settings.api_max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            return problem(PayloadTooLarge(f"request body over {limit} bytes"))
        return await call_next(request)

    return app


# Domain errors -> HTTP, in one place; the most specific class in an error's MRO wins.
HTTP_STATUS: dict[type[CkgError], tuple[int, dict[str, str]]] = {
    AuthError: (401, {"WWW-Authenticate": "Bearer"}),
    ScopeError: (403, {}),
    NotFound: (404, {}),
    PayloadTooLarge: (413, {}),
    StoreUnavailable: (503, {"Retry-After": "5"}),
    StoreAuthError: (503, {"Retry-After": "30"}),
    CkgError: (400, {}),
}


def problem(exc: CkgError) -> JSONResponse:
    status, headers = next(HTTP_STATUS[c] for c in type(exc).__mro__ if c in HTTP_STATUS)
    return JSONResponse({"detail": {"reason": exc.reason, "message": str(exc)}},
                        status_code=status, headers=headers or None)
