"""`ckg export`, `ckg erase` and `ckg retention`: the data-subject operations, from a shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import ExitCode, iso_ms, settings
from graph.errors import CkgError, ConfigError


def export_cmd(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of stdout.")] = None,
) -> None:
    """Everything held on one person, as JSON (data subject access request)."""
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.subjects import export

    with open_store(settings()) as store:
        doc = export(store, get_queries(), customer_id)
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


def _numbered_ids(customer_id: str | None, file: Path | None) -> list[tuple[int, str]]:
    """(line number, id) pairs: a report points at the line of the file, blank lines counted."""
    if (customer_id is None) == (file is None):
        raise CkgError("give one customer id or --file, not both")
    return (
        [(1, customer_id)]
        if customer_id
        else [
            (n, line.strip())
            for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)  # type: ignore[union-attr]
            if line.strip()
        ]
    )


def erase_cmd(
    customer_id: Annotated[str | None, typer.Argument(help="The customer id.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="One customer id per line.")] = None,
) -> None:
    """Erase people's whole subgraphs; one JSON receipt per line. Idempotent; unknown ids are
    reported and the rest go on (exit 4 if any was unknown)."""
    from graph.errors import NotFound
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.subjects import erase
    from privacy.tokens import privacy_key

    ids = _numbered_ids(customer_id, file)
    s = settings()
    key, q, missing = privacy_key(s), get_queries(), 0
    with open_store(s) as store, store.exclusive():
        for n, cid in ids:
            try:
                typer.echo(erase(store, q, key, cid).model_dump_json())
            except NotFound:
                missing += 1
                typer.echo(json.dumps({"error": "customer_not_found", "line": n}))
    if missing:
        raise typer.Exit(ExitCode.PARTIAL)


def retention_cmd(
    days: Annotated[
        int | None, typer.Option(min=1, help="Maximum age; default CKG_RETENTION_DAYS.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="ISO date to measure age from (default now), e.g. for historical data."),
    ] = None,
) -> None:
    """Delete sessions (with their events and carts) and loose events older than the limit."""
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.subjects import retention

    s = settings()
    max_age = days or s.retention_days
    if max_age is None:
        raise ConfigError("set --days or CKG_RETENTION_DAYS")
    ref = None if as_of is None else iso_ms(as_of, "--as-of {value!r} is not an ISO date")
    with open_store(s) as store, store.exclusive():
        report = retention(store, get_queries(), max_age, ref)
    typer.echo(report.model_dump_json())
