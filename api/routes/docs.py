"""/docs (Swagger UI) and /redoc (ReDoc), served whole from the package: no CDN, no web fonts.

The viewers are vendored under api/static/ (versions and licences beside them, refreshed by
`make docs-assets`); the pages here only load them and point them at the OpenAPI document.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

router = APIRouter(include_in_schema=False)

STATIC = files("api") / "static"
ASSET_PREFIX = "/docs/assets"
# the files a page may load, by the name in its URL
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui/swagger-ui.css", "text/css"),
    "swagger-init.js": ("swagger-init.js", "text/javascript"),
    "favicon.png": ("swagger-ui/favicon-32x32.png", "image/png"),
    "redoc.standalone.js": ("redoc/redoc.standalone.js", "text/javascript"),
}

# Whatever a viewer would fetch from elsewhere (ReDoc's footer logo, say), the browser refuses:
# the pages load files of this origin only. Inline styles: both viewers set them from script.
POLICY = "; ".join(
    [
        "default-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
    ]
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
{head}
</head>
<body style="margin: 0">
{body}
</body>
</html>
"""


def _page(request: Request, suffix: str, head: str, body: str) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    fields = {
        "assets": escape(root + ASSET_PREFIX),
        "openapi": escape(root + (request.app.openapi_url or "")),
    }
    html = PAGE.format(
        title=escape(f"{request.app.title} - {suffix}"),
        assets=fields["assets"],
        head=head.format(**fields),
        body=body.format(**fields),
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": POLICY})


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return _page(
        request,
        "Swagger UI",
        '<link rel="stylesheet" href="{assets}/swagger-ui.css">',
        '<div id="swagger-ui" data-openapi-url="{openapi}"></div>\n'
        '<script src="{assets}/swagger-ui-bundle.js"></script>\n'
        '<script src="{assets}/swagger-init.js"></script>',
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return _page(
        request,
        "ReDoc",
        "",
        '<redoc spec-url="{openapi}"></redoc>\n'
        '<script src="{assets}/redoc.standalone.js"></script>',
    )


@router.get(ASSET_PREFIX + "/{name}")
async def asset(name: str) -> Response:
    return asset_response(ASSETS, name)


def asset_response(assets: dict[str, tuple[str, str]], name: str) -> Response:
    """One of a page's files by its URL name. They are part of the release, so a browser may
    keep them for a day; a file copied in from npm by `make setup` may be missing (404)."""
    if name not in assets:
        raise HTTPException(404, f"no asset {name!r}")
    path, media_type = assets[name]
    body = _read(path)
    if body is None:
        raise HTTPException(404, f"asset {name!r} is not built; run `make setup`")
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


@cache
def _read(path: str) -> bytes | None:
    file = STATIC / path
    return file.read_bytes() if file.is_file() else None
