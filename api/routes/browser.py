"""/browser: the Neo4j Browser kit (guide, favourites, graph style), open and read-only.

The files carry no data, only the saved analyst queries and the graph model, generated from the
catalog the app loaded (`api/browser_kit.py`). Neo4j Browser fetches the guide and the style
from its own origin (docker compose: http://localhost:7474), so the answers allow any origin,
and the guide's fetch, which sends `Cache-Control` and `Pragma` headers, gets its CORS preflight
answered. Like the docs and explore pages, these routes stay out of the OpenAPI document.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import browser_kit
from api.routes.docs import POLICY
from graph.catalog import QueryCatalog

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/browser", include_in_schema=False)

CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Allow-Headers": "Cache-Control, Pragma",
    "Access-Control-Max-Age": "86400",
}


def _answer(request: Request, name: str, headers: dict[str, str] | None = None) -> Response:
    catalog: QueryCatalog = request.app.state.queries
    return Response(
        browser_kit.build(name, catalog),
        media_type=browser_kit.MEDIA_TYPES[name],
        headers={**CORS, "Cache-Control": "no-cache", **(headers or {})},
    )


@router.get("/" + browser_kit.GUIDE)
async def guide(request: Request) -> Response:
    """The guide Neo4j Browser plays (`:play URL`): the model, then one slide per query."""
    return _answer(request, browser_kit.GUIDE, {"Content-Security-Policy": POLICY})


@router.get("/" + browser_kit.FAVORITES)
async def favorites(request: Request) -> Response:
    """The analyst queries as favourites: a zip to drop on Neo4j Browser."""
    disposition = f'attachment; filename="{browser_kit.FAVORITES}"'
    return _answer(request, browser_kit.FAVORITES, {"Content-Disposition": disposition})


@router.get("/" + browser_kit.STYLE)
async def style(request: Request) -> Response:
    """The graph style Neo4j Browser loads (`:style URL`)."""
    return _answer(request, browser_kit.STYLE)


async def preflight() -> Response:
    """A browser's CORS preflight for a kit file."""
    return Response(status_code=204, headers=PREFLIGHT)


for _name in browser_kit.MEDIA_TYPES:
    router.add_api_route("/" + _name, preflight, methods=["OPTIONS"])
