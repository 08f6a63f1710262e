"""`ckg ingest`: load an events file and report the reconciliation; the exit code says how
much of it loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import ExitCode, Quiet, progress, settings
from graph.errors import CkgError


def ingest_cmd(
    file: Annotated[Path, typer.Argument(help="JSONL or CSV events, or a bundled dataset file.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="jsonl, csv, online-retail or eshop-clickstream (default: by name).",
        ),
    ] = None,
    consent: Annotated[
        str | None,
        typer.Option(
            help="Purposes the imported history was collected under, e.g. "
            "'personalization,analytics', or 'none'. Default: the dataset's "
            "documented consent (see README), none for jsonl/csv."
        ),
    ] = None,
    dead_letter: Annotated[
        Path | None, typer.Option(help="Where rejected records go (JSONL, appended).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, max=100_000)] = None,
    keep_chat_text: Annotated[bool, typer.Option(help="Store raw chat text.")] = False,
    quiet: Quiet = False,
) -> None:
    """Load events; print the reconciliation. Exit 0 all loaded, 4 partial, 5 nothing loaded."""
    from graph.store import open_store
    from ingest.formats import FORMATS
    from ingest.run import ingest_file

    if fmt is not None and fmt not in FORMATS:
        raise CkgError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with open_store(settings()) as store, progress(quiet, counted="records") as bar:
        task = bar.add_task(f"ingesting {file.name}", total=None)
        result, dl_path = ingest_file(
            store,
            file,
            fmt=fmt,
            consent=consent,
            dead_letter=dead_letter,
            batch_size=batch_size,
            keep_text=keep_chat_text,
            progress=lambda n: bar.advance(task, n),
        )
    report = result.reconciliation.as_dict()
    report["dead_letter"] = str(dl_path) if report["rejected"] else None
    report["outliers_marked"] = result.outliers
    typer.echo(json.dumps(report))
    if report["status"] == "partial":
        raise typer.Exit(ExitCode.PARTIAL)
    if report["status"] == "failed":
        raise typer.Exit(ExitCode.NOTHING_LOADED)
