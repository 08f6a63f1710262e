"""`ckg mcp`: the tools an LLM agent calls, served over MCP (stdio or streamable HTTP).

The server is a client of the HTTP API (api.client) with one API key: it offers only the
tools that key's scopes allow (read once at start-up from `GET /v1/keys/self`), and every
call still goes through the API, so consent gating, suppression and validation are the API's
own. A refusal reaches the agent as a tool error that carries the API's reason code.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from api.client import (
    AsyncCkgClient,
    CkgApiError,
    ContextOptions,
    EventResult,
    Recommendations,
)

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "ckg knows the shop's customers and their live sessions. Call get_session_context once per "
    "conversational turn and follow its triggers; recommend_* and similar_products give "
    "products with the reason each is offered; record_event stores what happened (idempotent "
    "by event_id). Answers are already filtered by the customer's consent."
)

SessionId = Annotated[str, Field(min_length=1, max_length=256, description="The ckg session id.")]
CustomerId = Annotated[str, Field(min_length=1, max_length=256, description="The customer id.")]
HowMany = Annotated[int, Field(ge=1, le=100, description="How many products.")]
READ_ONLY = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)


@dataclass(frozen=True)
class Tool:
    """One tool: the scope its key needs and a factory binding it to a client."""

    name: str
    scope: str
    make: Callable[[AsyncCkgClient], Callable[..., Awaitable[Any]]]
    annotations: ToolAnnotations


async def _call(answer: Awaitable[Any]) -> Any:
    """The API's refusal as the agent reads it: reason first, then the message."""
    try:
        return await answer
    except CkgApiError as exc:
        raise ToolError(f"{exc.reason}: {exc.message}") from exc


def _session_context(client: AsyncCkgClient) -> Callable[..., Awaitable[str]]:
    async def get_session_context(
        session_id: SessionId,
        max_tokens: Annotated[int, Field(ge=16, le=8192)] = 400,
        tz: Annotated[str | None, Field(description="IANA time zone of the shopper.")] = None,
        at: Annotated[
            datetime | None, Field(description="Replay as of this instant (ISO 8601 with offset).")
        ] = None,
    ) -> str:
        """Who this shopper is, what they are doing now and what to offer: a prompt snippet
        within `max_tokens`, consent-filtered, with the triggers the bot should act on."""
        opts = ContextOptions(max_tokens=max_tokens, tz=tz, at=at)
        text: str = await _call(client.context_text(session_id, opts))
        return text

    return get_session_context


def _for_customer(client: AsyncCkgClient) -> Callable[..., Awaitable[Recommendations]]:
    async def recommend_for_customer(
        customer_id: CustomerId, k: HowMany = 5, include_purchased: bool = False
    ) -> Recommendations:
        """Products for a known customer, each with the graph path that explains it;
        non-personal fallbacks (`personalized: false`) without personalization consent."""
        answer = client.customer_recommendations(
            customer_id, k=k, include_purchased=include_purchased
        )
        recs: Recommendations = await _call(answer)
        return recs

    return recommend_for_customer


def _for_session(client: AsyncCkgClient) -> Callable[..., Awaitable[Recommendations]]:
    async def recommend_for_session(session_id: SessionId, k: HowMany = 5) -> Recommendations:
        """Products for a live (possibly anonymous) session, from what it is viewing now."""
        recs: Recommendations = await _call(client.session_recommendations(session_id, k=k))
        return recs

    return recommend_for_session


def _similar(client: AsyncCkgClient) -> Callable[..., Awaitable[Recommendations]]:
    async def similar_products(
        sku: Annotated[str, Field(min_length=1, max_length=256, description="A product id.")],
        k: HowMany = 5,
    ) -> Recommendations:
        """A product's nearest products by the promoted model (category fallback)."""
        recs: Recommendations = await _call(client.similar_products(sku, k=k))
        return recs

    return similar_products


def _record_event(client: AsyncCkgClient) -> Callable[..., Awaitable[EventResult]]:
    async def record_event(
        event: Annotated[
            dict[str, Any],
            Field(
                description="One event as in ckg's JSONL format: type, event_id, timestamp, "
                "session_id or customer_id, and the type's fields."
            ),
        ],
    ) -> EventResult:
        """Store one event (a chat turn, a view, a cart change). Safe to repeat: an event_id
        already stored answers `duplicate`; a rejected event says why in `reason`."""
        batch = await _call(client.record_events([event]))
        result: EventResult = batch.items[0]
        return result

    return record_event


TOOLS: tuple[Tool, ...] = (
    Tool("get_session_context", "chatbot:read", _session_context, READ_ONLY),
    Tool("recommend_for_customer", "chatbot:read", _for_customer, READ_ONLY),
    Tool("recommend_for_session", "chatbot:read", _for_session, READ_ONLY),
    Tool("similar_products", "chatbot:read", _similar, READ_ONLY),
    Tool(
        "record_event",
        "ingest:write",
        _record_event,
        ToolAnnotations(readOnlyHint=False, idempotentHint=True, openWorldHint=False),
    ),
)


def build_server(client: AsyncCkgClient, scopes: frozenset[str]) -> MCPServer:
    """The MCP server with the tools `scopes` allow, each calling the API through `client`."""
    server: MCPServer = MCPServer(name="ckg", instructions=INSTRUCTIONS, version="0.1.0")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per tool call otherwise
    for tool in TOOLS:
        if tool.scope in scopes:
            server.add_tool(tool.make(client), name=tool.name, annotations=tool.annotations)
    offered = [t.name for t in TOOLS if t.scope in scopes]
    logger.info("MCP tools offered for scopes %s: %s", sorted(scopes), offered or "none")
    return server
