"""`ckg query` and `ckg queries`: read-only Cypher from the catalog or an analyst's file."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import settings
from graph.errors import CkgError


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`k=v` gives the string v; `k:=json` gives a typed value (number, bool, list, map, null)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.rstrip(":"):
            raise CkgError(f"--param takes k=v or k:=json, got {pair!r}")
        if key.endswith(":"):
            key = key[:-1]
            try:
                params[key.strip()] = json.loads(raw)
            except json.JSONDecodeError:
                raise CkgError(f"--param {key}:= needs JSON, got {raw!r}") from None
        else:
            params[key.strip()] = raw
    return params


FORMATS = ("table", "markdown", "json", "csv")


def _cell(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as a person reads them: stored times (`at`, `since`, `*_at`, epoch ms) in ISO 8601
    UTC. json and csv keep the raw values, which another program reads."""
    from privacy.times import iso_times

    return [iso_times(row) for row in rows]


def _record_layout(cols: list[str], width: int) -> bool:
    """A table whose headers alone do not fit reads worse than one block per row."""
    return sum(len(c) + 3 for c in cols) + 1 > width


def _print_table(cols: list[str], table_rows: list[list[Any]]) -> None:
    """Cells fold onto more lines instead of being cut; headers are never shortened."""
    console = Console()
    cells = [["" if v is None else _cell(v) for v in r] for r in table_rows]
    if _record_layout(cols, console.width):
        for i, row in enumerate(cells):
            record = Table(title=f"row {i + 1}", show_header=False, expand=False)
            record.add_column(no_wrap=True, style="bold")
            record.add_column(overflow="fold")
            for col, value in zip(cols, row, strict=True):
                record.add_row(col, value)
            console.print(record)
        return
    table = Table(show_lines=False)
    for col in cols:
        table.add_column(col, overflow="fold", min_width=len(col), no_wrap=False)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _markdown(cols: list[str], table_rows: list[list[Any]]) -> str:
    """A GitHub-flavoured table: pipes escaped, line breaks as <br>, so every row is one line."""

    def md(value: Any) -> str:
        text = "" if value is None else _cell(value)
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(md(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(md(v) for v in r) + " |" for r in table_rows]
    return "\n".join(lines)


def _print_rows(rows: list[dict[str, Any]], fmt: str) -> None:
    from graph.store import rows_to_table

    if fmt == "json":
        for row in rows:
            typer.echo(json.dumps(row, default=str))
        return
    if fmt == "csv":
        cols, table_rows = rows_to_table(rows)
        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows([["" if v is None else _cell(v) for v in r] for r in table_rows])
        return
    cols, table_rows = rows_to_table(_shown(rows))
    if fmt == "markdown":
        if rows:
            typer.echo(_markdown(cols, table_rows))
        return
    if rows:
        _print_table(cols, table_rows)
    typer.echo(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


def query_cmd(
    query: Annotated[
        str, typer.Argument(help="A catalog query name, or a path to a .cypher file.")
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="k=v (string) or k:=json.")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="table or markdown (times as ISO 8601 UTC), json (lines) or csv (raw values).",
        ),
    ] = "table",
) -> None:
    """Run a read-only named or analyst query and print its rows."""
    from graph.catalog import load_query_file
    from graph.queries import get_queries
    from graph.store import open_store

    if fmt not in FORMATS:
        raise CkgError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    path = Path(query)
    q = (
        load_query_file(path)
        if query.endswith(".cypher") or path.is_file()
        else get_queries().get(query)
    )
    if not q.is_read:
        raise CkgError(f"query {q.name!r} writes; `ckg query` runs read-only queries")
    with open_store(settings()) as store:
        rows = store.read(q, parse_params(param or []))
    _print_rows(rows, fmt)


def queries_cmd() -> None:
    """List the named queries in cypher/ with their purpose and parameters."""
    from graph.queries import get_queries

    table = Table("name", "mode", "params", "purpose")
    for d in get_queries().describe():
        table.add_row(d["name"], d["mode"], ", ".join(d["params"]), d["purpose"])
    Console().print(table)
