"""`ckg serve`: the HTTP API under uvicorn, with ckg's own HTTP protocol class."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import settings


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    settings()  # fail on bad settings before binding a port
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="api.server:HttpProtocol",
        log_level="info",
    )
