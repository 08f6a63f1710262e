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


def _cell(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _print_rows(rows: list[dict[str, Any]], fmt: str) -> None:
    from graph.store import rows_to_table

    cols, table_rows = rows_to_table(rows)
    if fmt == "json":
        for row in rows:
            typer.echo(json.dumps(row, default=str))
    elif fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows([["" if v is None else _cell(v) for v in r] for r in table_rows])
    else:
        if rows:
            table = Table(*cols, show_lines=False)
            for r in table_rows:
                table.add_row(*[_cell(v) for v in r])
            Console().print(table)
        typer.echo(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")


def query_cmd(
    query: Annotated[
        str, typer.Argument(help="A catalog query name, or a path to a .cypher file.")
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="k=v (string) or k:=json.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json (lines) or csv.")
    ] = "table",
) -> None:
    """Run a read-only named or analyst query and print its rows."""
    from graph.catalog import load_query_file
    from graph.queries import get_queries
    from graph.store import open_store

    if fmt not in ("table", "json", "csv"):
        raise CkgError(f"--format must be table, json or csv, not {fmt!r}")
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
