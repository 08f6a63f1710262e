"""`ckg export`, `ckg erase`, `ckg retention` and `ckg privacy ...`: the data-subject operations
and their administration, from a shell. Requests made here are audited with the actor `cli`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import ExitCode, iso_ms, settings
from graph.errors import CkgError, ConfigError

BAD_DATE = "--{name} {{value!r}} is not an ISO date"


def _usage(message: str) -> typer.Exit:
    """A usage error: one line, exit 2, as for an unknown option."""
    typer.echo(f"ckg: error: {message}", err=True)
    return typer.Exit(ExitCode.CONFIG)


def export_cmd(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of stdout.")] = None,
) -> None:
    """Everything held on one person, as JSON (data subject access request)."""
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.audit import CLI_ACTOR
    from privacy.export import export
    from privacy.tokens import privacy_key

    s = settings()
    with open_store(s) as store:
        doc = export(store, get_queries(), privacy_key(s), customer_id, actor=CLI_ACTOR)
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


def _numbered_ids(customer_id: str | None, file: Path | None) -> list[tuple[int, str]]:
    """(line number, id) pairs: a report points at the line of the file, blank lines counted."""
    if (customer_id is None) == (file is None):
        raise CkgError("give one customer id or --file, not both")
    if file is None:
        if not customer_id or not customer_id.strip():
            raise _usage("the customer id is empty")
        return [(1, customer_id)]
    return [
        (n, line.strip())
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip()
    ]


def erase_cmd(
    customer_id: Annotated[str | None, typer.Argument(help="The customer id.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="One customer id per line.")] = None,
) -> None:
    """Erase people's whole subgraphs; one JSON receipt per line. A repeat returns the receipt
    in force while nothing of the person exists; unknown ids are reported and the rest go on
    (exit 4 if any was unknown)."""
    from graph.errors import NotFound
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.audit import CLI_ACTOR
    from privacy.erasure import erase
    from privacy.tokens import privacy_key

    ids = _numbered_ids(customer_id, file)
    s = settings()
    key, q, missing = privacy_key(s), get_queries(), 0
    with open_store(s) as store, store.exclusive():
        for n, cid in ids:
            try:
                typer.echo(erase(store, q, key, cid, actor=CLI_ACTOR).model_dump_json())
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
    from privacy.retention import retention

    s = settings()
    max_age = days or s.retention_days
    if max_age is None:
        raise ConfigError("set --days or CKG_RETENTION_DAYS")
    ref = None if as_of is None else iso_ms(as_of, "--as-of {value!r} is not an ISO date")
    with open_store(s) as store, store.exclusive():
        report = retention(store, get_queries(), max_age, ref)
    typer.echo(report.model_dump_json())


def unsuppress_cmd(
    customer_id: Annotated[str, typer.Argument(help="The erased customer id.")],
) -> None:
    """Lift an erased subject's suppression, so its id can be created again (audited)."""
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.audit import CLI_ACTOR
    from privacy.suppression import lift
    from privacy.tokens import privacy_key

    s = settings()
    with open_store(s) as store:
        lifted = lift(store, get_queries(), privacy_key(s), customer_id, actor=CLI_ACTOR)
    typer.echo(lifted.model_dump_json())


def report_cmd(
    start: Annotated[
        str, typer.Option("--from", help="ISO date or date-time the window starts (inclusive).")
    ],
    end: Annotated[
        str, typer.Option("--to", help="ISO date or date-time the window ends (exclusive).")
    ],
) -> None:
    """Privacy requests received in the window, as JSON: to know (exports), to delete
    (erasures), to opt out of sale; received, complied with, denied, median time in ms."""
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.report import requests_report

    window = (
        iso_ms(start, BAD_DATE.format(name="from")),
        iso_ms(end, BAD_DATE.format(name="to")),
    )
    with open_store(settings()) as store:
        report = requests_report(store, get_queries(), *window)
    typer.echo(json.dumps(report.model_dump(by_alias=True), indent=1))
