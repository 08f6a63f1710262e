"""/explore: a page that runs the saved analyst queries and draws the nodes and relationships.

The embedded store has no Neo4j Browser; this page stands in for it. The page and its files are
public and hold no data: the page asks for an API key, keeps it in memory only, and sends it as
`Authorization: Bearer` on its calls to /v1/analyst/queries, which need `analyst:read`. Its
script and the drawing library (cytoscape, installed from npm by `make setup` into
api/static/explore/) come from the API itself, under the docs pages' policy: this origin only.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.routes.docs import POLICY, asset_response

router = APIRouter(include_in_schema=False)

ASSET_PREFIX = "/explore/assets"
ASSETS: dict[str, tuple[str, str]] = {
    "explore.js": ("explore.js", "text/javascript"),
    "explore.css": ("explore.css", "text/css"),
    "cytoscape.min.js": ("explore/cytoscape.min.js", "text/javascript"),
}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/explore.css">
</head>
<body>
<header>
  <h1>Explore</h1>
  <form id="key-form" autocomplete="off">
    <label>API key (analyst:read) <input id="key" type="password" required></label>
    <button type="submit">Connect</button>
  </form>
</header>
<main data-api="{api}">
  <section id="query-panel" hidden>
    <form id="query-form">
      <label>Query <select id="query"></select></label>
      <p id="purpose"></p>
      <div id="params"></div>
      <button type="submit">Run</button>
    </form>
  </section>
  <p id="status" role="status"></p>
  <div id="graph" data-nodes="0" data-relationships="0"></div>
  <div id="table-wrap"><table id="rows"></table></div>
</main>
<script src="{assets}/cytoscape.min.js"></script>
<script src="{assets}/explore.js"></script>
</body>
</html>
"""


@router.get("/explore")
async def explore(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    html = PAGE.format(
        title=escape(f"{request.app.title} - Explore"),
        assets=escape(root + ASSET_PREFIX),
        api=escape(root + "/v1/analyst/queries"),
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": POLICY})


@router.get(ASSET_PREFIX + "/{name}")
async def asset(name: str) -> Response:
    return asset_response(ASSETS, name)
