"""The FastAPI application: one store client per process, created in the lifespan."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import AuthError, KeyStore, ScopeError
from api.context import InvalidParameter, Popular
from api.errors import PayloadTooLarge
from api.routes import consents, customers, events, health, recommendations, sessions
from api.rules import load_rules
from api.settings import Settings, get_settings
from graph.errors import CkgError, NotFound, StoreAuthError, StoreUnavailable
from graph.queries import get_queries
from graph.store import open_store
from privacy.masking import install_log_masking
from privacy.subjects import ErasureIncomplete


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the store until the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or get_settings()
        install_log_masking()
        # a missing query file or a bad rules file stops start-up here, not at the first request
        app.state.settings = s
        app.state.queries = get_queries()
        app.state.rules = load_rules(s.context_rules_file)
        app.state.keys = KeyStore(s.api_keys_file, s.api_keys)
        app.state.ingest_lock = threading.Lock()
        app.state.store = None
        try:
            app.state.store = open_store(s)
        except (StoreUnavailable, StoreAuthError):
            # Start anyway: /readyz says not ready and store-backed routes answer 503.
            app.state.store = None
        if app.state.store is not None:
            app.state.popular = Popular(
                app.state.store, app.state.queries, s.popular_window_days, s.popular_cache_s
            )
        # Start-up objects live as long as the process: take them out of the collector's
        # scans, and collect less often, so full collections stop showing up as p99 spikes.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        try:
            yield
        finally:
            if app.state.store is not None:
                await app.state.store.aclose()
                app.state.store.close()

    app = FastAPI(
        title="ckg — customer knowledge graph",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
    )
    # routes match in order: the chatbot's per-turn context route is looked at first
    app.include_router(sessions.router)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(customers.router)
    app.include_router(consents.router)
    app.include_router(recommendations.router)

    @app.exception_handler(CkgError)
    async def _domain_error(_: Request, exc: CkgError) -> JSONResponse:
        return problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(x) for x in first["loc"])
        return error_response(422, "invalid_request", f"{where}: {first['msg']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {404: "route_not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return error_response(exc.status_code, reason, str(exc.detail), exc.headers)

    app.add_middleware(BodyLimit)
    return app


class BodyLimit:
    """Refuse bodies over `api_max_body_bytes`: by Content-Length up front, and by counting
    for chunked uploads that carry none. Plain ASGI, so reads without a body pay nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = scope["app"].state.settings.api_max_body_bytes
        too_large = PayloadTooLarge(f"request body over {limit} bytes")
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await problem(too_large)(scope, receive, send)
                return
        seen = 0
        over = False

        async def counted() -> Message:
            # past the limit, end the body early and let the app fail on it; its answer is
            # then replaced by the 413 below
            nonlocal seen, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                over = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return message

        answered = False

        async def guarded(message: Message) -> None:
            nonlocal answered
            if not over:
                await send(message)
            elif not answered:
                answered = True
                await problem(too_large)(scope, receive, send)

        await self.app(scope, counted, guarded)


# Domain errors -> HTTP, in one place; the most specific class in an error's MRO wins.
HTTP_STATUS: dict[type[CkgError], tuple[int, dict[str, str]]] = {
    AuthError: (401, {"WWW-Authenticate": "Bearer"}),
    ScopeError: (403, {}),
    NotFound: (404, {}),
    PayloadTooLarge: (413, {}),
    InvalidParameter: (422, {}),
    ErasureIncomplete: (500, {}),
    StoreUnavailable: (503, {"Retry-After": "5"}),
    StoreAuthError: (503, {"Retry-After": "30"}),
    CkgError: (400, {}),
}


def problem(exc: CkgError) -> JSONResponse:
    status, headers = next(HTTP_STATUS[c] for c in type(exc).__mro__ if c in HTTP_STATUS)
    return error_response(status, exc.reason, str(exc), headers)


def error_response(
    status: int, reason: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Every error the API sends has this one shape: `{"detail": {"reason", "message"}}`."""
    return JSONResponse(
        {"detail": {"reason": reason, "message": message, **extra}},
        status_code=status,
        headers=headers or None,
    )
