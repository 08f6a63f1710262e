"""GET /v1/sessions/{id}/context: the chatbot's one call per turn."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from api.context import InvalidParameter, Popular, build_context, context_text, zone
from api.deps import ChatbotKey, PathId, SettingsDep, StoreDep
from api.schemas import ContextPublic, DeviceName, Verbosity
from graph.errors import SessionNotFound
from graph.queries import Queries
from graph.records import SessionContextRecord

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])



@router.get(
    "/{session_id}/context",
    response_model=ContextPublic,
    responses={
        200: {"content": {"text/plain": {}},
              "description": "JSON, or with format=text a prompt snippet within max_tokens."},
        404: {"description": "Unknown session (reason session_not_found)."},
        503: {"description": "Store unavailable; retry after the Retry-After seconds."},
    },
)
async def session_context(
    session_id: PathId,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _key: ChatbotKey,
    format: Annotated[Literal["json", "text"], Query()] = "json",
    max_tokens: Annotated[int, Query(ge=16, le=8192,
                                     description="Budget for format=text.")] = 400,
    device: Annotated[DeviceName | None,
                      Query(description="Overrides the session's device.")] = None,
    verbosity: Annotated[Verbosity | None, Query()] = None,
    tz: Annotated[str | None, Query(max_length=64, description="IANA time zone.")] = None,
    at: Annotated[datetime | None,
                  Query(description="Evaluate as of this instant (ISO 8601 with offset); "
                                    "default now.")] = None,
) -> Response:
    """Who is this, what are they doing, what should I say: consent-filtered, one store read.

    The declared purpose is `personalization`: without that consent in force the answer holds
    the session's cart, time and non-personal suggestions only, and says so.
    """
    if tz is not None:
        zone(tz)  # 422 before any store work
    if at is not None and at.tzinfo is None:
        raise InvalidParameter("`at` needs a UTC offset, e.g. 2011-12-01T10:00:00Z")
    now_ms = int((at.timestamp() if at is not None else time.time()) * 1000)
    q: Queries = request.app.state.queries
    popular: Popular = request.app.state.popular
    rows = await store.aread(q.session_context, {"session_id": session_id,
                                                 "purpose": "personalization", "recs": 20})
    top = await popular.atop(20)
    if not rows:
        raise SessionNotFound(f"no session {session_id!r}")
    ctx = build_context(
        SessionContextRecord.model_validate(rows[0]), rules=request.app.state.rules,
        purpose="personalization", now_ms=now_ms,
        popular=top, tz=tz, default_tz=settings.default_timezone, device=device,
        verbosity=verbosity)
    if format == "text":
        return PlainTextResponse(context_text(ctx, max_tokens))
    # already a validated ContextPublic: serialise once instead of re-validating it
    return Response(ctx.model_dump_json(), media_type="application/json")
