"""`ckg mcp`: the MCP tool server for LLM agents, a client of a running ckg API."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from graph.errors import ConfigError, StoreUnavailable

Transport = Literal["stdio", "http"]


def mcp_cmd(
    api_url: Annotated[
        str, typer.Option(envvar="CKG_MCP_API_URL", help="The ckg API the tools call.")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="CKG_MCP_API_KEY",
            help="The API key the tools act with; its scopes decide which tools are offered. "
            "Prefer the environment variable: a command line is visible to every local user.",
        ),
    ] = None,
    transport: Annotated[
        str, typer.Option(help="stdio (the agent starts this process) or http (streamable).")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="Address for --transport http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for --transport http.")] = 8765,
) -> None:
    """Serve ckg's tools to LLM agents over MCP (Model Context Protocol)."""
    from api.client import AsyncCkgClient, AuthError, CkgClient, Unavailable
    from api.mcp_server import build_server

    if transport not in ("stdio", "http"):
        raise ConfigError(f"--transport must be stdio or http, not {transport!r}")
    if not api_key:
        raise ConfigError("an API key is required: set CKG_MCP_API_KEY")
    try:
        with CkgClient(api_url, api_key, retries=2) as probe:
            scopes = frozenset(probe.key().scopes)
    except AuthError as exc:
        raise ConfigError(f"the API refused the key: {exc.message}") from None
    except Unavailable as exc:
        raise StoreUnavailable(f"the API at {api_url} does not answer: {exc.message}") from None
    server = build_server(AsyncCkgClient(api_url, api_key), scopes)
    if transport == "stdio":
        server.run("stdio")
    else:
        from api.cli.serve import check_port

        check_port(host, port)
        server.run("streamable-http", host=host, port=port)
