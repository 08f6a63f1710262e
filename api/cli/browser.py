"""`ckg browser export DIR`: the Neo4j Browser kit as files, for a Neo4j Browser without the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graph.errors import CkgError


def export_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Where to write guide.html, favorites.zip and style.grass.")
    ],
) -> None:
    """Write the guide, the favourites and the graph style the API serves under /browser."""
    from api.browser_kit import kit
    from graph.queries import get_queries

    files = kit(get_queries())
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            (directory / name).write_bytes(body)
    except OSError as exc:
        raise CkgError(f"cannot write the kit to {directory}: {exc.strerror or exc}") from None
    for name in files:
        typer.echo(str(directory / name))
