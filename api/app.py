"""The FastAPI application: start-up state, routes, and how every error leaves the API.

One store client per process, created in the lifespan. Errors get one envelope,
`{"detail": {"reason", "message"}}`, and one table (`ANSWERS`) decides their status and what
the caller reads: a client error its own reason and message, an unavailable store its reason
and a retry hint, a fault of ours a generic 500 while the cause goes to the log.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette._utils import get_route_path
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import contract
from api.auth import AuthError, KeyStore, ScopeError
from api.context import InvalidParameter, Popular
from api.errors import PayloadTooLarge
from api.logs import RequestId
from api.metrics import RequestMetrics, StateCollector
from api.routes import (
    analyst,
    browser,
    consents,
    customers,
    docs,
    events,
    explore,
    graphql,
    health,
    integrations,
    keys,
    metrics,
    privacy,
    recommendations,
    sessions,
)
from api.rules import load_rules
from api.settings import Settings, get_settings
from graph.errors import (
    CkgError,
    ClientError,
    NotFound,
    StoreAuthError,
    StoreUnavailable,
    Unavailable,
)
from graph.queries import get_queries
from graph.store import Store, open_store
from privacy.errors import ErasedSubject, ErasureIncomplete
from privacy.masking import MaskingFilter, install_log_masking
from privacy.tokens import privacy_key

logger = logging.getLogger(__name__)

INTERNAL_REASON = "internal_error"
INTERNAL_MESSAGE = "the server failed to answer; the cause is in its log"
UNAVAILABLE_MESSAGE = "the store is unavailable; retry after the Retry-After seconds"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing touches the store until the lifespan starts."""
    app = FastAPI(
        title="ckg — customer knowledge graph",
        version="0.1.0",
        lifespan=_lifespan(settings),
        docs_url=None,  # served from the package by api.routes.docs
        redoc_url=None,
    )
    # routes match in order: the chatbot's per-turn context route is looked at first
    routers = (sessions, health, events, customers, consents, recommendations, privacy, analyst)
    for module in (*routers, integrations, graphql, keys, metrics, docs, explore, browser):
        app.include_router(module.router)
    contract.install(app)
    app.exception_handler(CkgError)(_domain_error)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(Exception)(_unexpected_error)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestMetrics)  # it times and labels every answer
    app.add_middleware(RequestId)  # outermost: whatever is logged for a request carries its id
    return app


def _lifespan(
    settings: Settings | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _start(app, settings or get_settings())
        try:
            yield
        finally:
            store: Store | None = app.state.store
            if store is not None:
                await store.aclose()
                store.close()

    return lifespan


def _start(app: FastAPI, s: Settings) -> None:
    """Read everything a request needs once: a missing query file, a bad rules file or an
    unusable privacy key stops start-up here, not at the first request."""
    _mask_logs()
    app.state.settings = s
    app.state.queries = get_queries()
    app.state.rules = load_rules(s.context_rules_file)
    app.state.keys = KeyStore(s.api_keys_file, s.api_keys)
    app.state.privacy_key = privacy_key(s)
    app.state.ingest_lock = threading.Lock()
    app.state.store = _open_store(s)
    app.state.metrics_state = StateCollector(app.state.store, app.state.queries)
    if app.state.store is not None:
        app.state.popular = Popular(
            app.state.store, app.state.queries, s.popular_window_days, s.popular_cache_s
        )
    # Start-up objects live as long as the process: take them out of the collector's
    # scans, and collect less often, so full collections stop showing up as p99 spikes.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _open_store(s: Settings) -> Store | None:
    try:
        return open_store(s)
    except (StoreUnavailable, StoreAuthError) as exc:
        # Start anyway: /readyz says not ready and store-backed routes answer 503.
        logger.warning("starting without a store: %s", exc)
        return None


def _mask_logs() -> None:
    """The masking filter on every handler the API's records pass: `install_log_masking`
    covers the root's, uvicorn's and `ckg`'s; handlers set on the `api` loggers get it here."""
    install_log_masking()
    for name in ("api", __name__):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())


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


@dataclass(frozen=True)
class Answer:
    """How one kind of error leaves the API: status, headers, and the reason and message the
    caller reads (None: the error's own)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None
    message: str | None = None

    def response(self, exc: CkgError) -> JSONResponse:
        reason, message = self.reason or exc.reason, self.message or str(exc)
        return error_response(self.status, reason, message, self.headers)


# Errors -> HTTP, in one place; the most specific class in an error's MRO wins. Which side is
# at fault is the error's class (graph/errors.py); this table only says how that is answered.
ANSWERS: dict[type[CkgError], Answer] = {
    # the caller's to correct: the reason and message as raised
    AuthError: Answer(401, {"WWW-Authenticate": "Bearer"}),
    ScopeError: Answer(403),
    NotFound: Answer(404),
    ErasedSubject: Answer(409),
    PayloadTooLarge: Answer(413),
    InvalidParameter: Answer(422),
    ClientError: Answer(400),
    # retry later: the reason, while the detail (addresses, driver text) goes to the log
    Unavailable: Answer(503, {"Retry-After": "5"}, message=UNAVAILABLE_MESSAGE),
    StoreAuthError: Answer(503, {"Retry-After": "30"}, message=UNAVAILABLE_MESSAGE),
    # faults of ours; an unverified erasure says so (its message holds no store text), any
    # other fault (configuration, query catalog, a query the store refused) is told apart
    # in the log only
    ErasureIncomplete: Answer(500),
    CkgError: Answer(500, reason=INTERNAL_REASON, message=INTERNAL_MESSAGE),
}


def answer_for(exc: CkgError) -> Answer:
    """The bare root is a usage error (see graph/errors.py), answered as a client error."""
    cls = ClientError if type(exc) is CkgError else type(exc)
    return next(ANSWERS[c] for c in cls.__mro__ if c in ANSWERS)


def problem(exc: CkgError) -> JSONResponse:
    return answer_for(exc).response(exc)


async def _domain_error(request: Request, exc: CkgError) -> JSONResponse:
    answer = answer_for(exc)
    if answer.status == 503:
        logger.warning("%s %s: %s", request.method, request.url.path, exc)
    elif answer.status >= 500:
        logger.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return answer.response(exc)


async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
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


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    reason = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return error_response(exc.status_code, reason, str(exc.detail), headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method of the path: Starlette's 405 names only the first route that matched it.
    A path that fits both a literal and a templated route (`/v1/customers/lookup`) is the
    literal one's, as in the OpenAPI document."""
    path = get_route_path(request.scope)
    matching = [
        route
        for route in contract.routes(request.app)
        if getattr(route, "methods", None) and route.path_regex.match(path)
    ]
    fewest = min((len(route.param_convertors) for route in matching), default=0)
    return sorted({m for r in matching if len(r.param_convertors) == fewest for m in r.methods})


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    """Any other exception: the same 500 as a fault. Starlette raises the exception again
    once this answer is sent, so the server logs it with its traceback."""
    return error_response(500, INTERNAL_REASON, INTERNAL_MESSAGE)


def error_response(
    status: int, reason: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Every error the API sends has this one shape: `{"detail": {"reason", "message"}}`."""
    return JSONResponse(
        {"detail": {"reason": reason, "message": message, **extra}},
        status_code=status,
        headers=headers or None,
    )
