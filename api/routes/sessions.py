"""GET /v1/sessions/{id}/context: the chatbot's one call per turn."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from api.context import InvalidParameter, Popular, build_context, context_text, zone
from api.deps import DirectRoute, authorize, documented, path_id, query_model, store_of
from api.schemas import ContextPublic, ContextQuery
from graph.errors import SessionNotFound
from graph.queries import Queries
from graph.records import SessionContextRecord, parse_record

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


async def session_context(request: Request) -> Response:
    """Who is this, what are they doing, what should I say: consent-filtered, one store read.

    The declared purpose is `personalization`: without that consent in force the answer holds
    the session's cart, time and non-personal suggestions only, and says so.
    """
    # The hottest route parses its own request (see api.deps): no FastAPI parameter solving.
    authorize(request, "chatbot:read")
    session_id = path_id(request, "session_id")
    params = query_model(request, ContextQuery)
    ctx = await load_context(request, session_id, params)
    if params.format == "text":
        return PlainTextResponse(context_text(ctx, params.max_tokens))
    # already a validated ContextPublic: serialise once instead of re-validating it
    return Response(ctx.model_dump_json(), media_type="application/json")


async def load_context(request: Request, session_id: str, params: ContextQuery) -> ContextPublic:
    """The session's context as of now (or `params.at`): what this route answers, and what
    the bot integrations (api.routes.integrations) turn into their platform's shape."""
    store, settings = store_of(request), request.app.state.settings
    tz, at = params.tz, params.at
    if tz is not None:
        zone(tz)  # 422 before any store work
    if at is not None and at.tzinfo is None:
        raise InvalidParameter("`at` needs a UTC offset, e.g. 2011-12-01T10:00:00Z")
    at_ms = int(at.timestamp() * 1000) if at is not None else None
    now_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    q: Queries = request.app.state.queries
    popular: Popular = request.app.state.popular
    rows = await store.aread(
        q.session_context,
        {"session_id": session_id, "purpose": "personalization", "recs": 20, "at": at_ms},
    )
    top = await popular.top(20)
    if not rows:
        raise SessionNotFound(f"no session {session_id!r}")
    return build_context(
        parse_record(SessionContextRecord, rows[0], q.session_context.name),
        rules=request.app.state.rules,
        purpose="personalization",
        now_ms=now_ms,
        popular=top,
        tz=tz,
        default_tz=settings.default_timezone,
        device=params.device,
        verbosity=params.verbosity,
        replay=at_ms is not None,
    )


router.add_api_route(
    "/{session_id}/context",
    session_context,
    methods=["GET"],
    route_class_override=DirectRoute,
    response_model=ContextPublic,
    responses={
        200: {
            "content": {"text/plain": {}},
            "description": "JSON, or with format=text a prompt snippet within max_tokens.",
        },
        404: {"description": "Unknown session (reason session_not_found)."},
        503: {"description": "Store unavailable; retry after the Retry-After seconds."},
    },
    openapi_extra=documented(("session_id",), ContextQuery, ("chatbot:read",)),
)
