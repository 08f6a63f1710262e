"""`ckg keys create`: API keys with scopes, kept as hashes in the keys file."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.cli.common import settings


def keys_create(
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            "-s",
            help="chatbot:read, ingest:write, analyst:read or privacy:admin; repeat for several.",
        ),
    ],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "default",
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    from api.auth import create_key

    path = settings().api_keys_file
    key = create_key(path, name, scope)
    typer.echo(key)
    sys.stderr.write(f"stored the hash in {path}; the key is not shown again\n")
