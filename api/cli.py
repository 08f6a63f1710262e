"""The `ckg` command line.

Every command turns a `CkgError` (or a settings error) into one line on stderr and a non-zero exit
code; a traceback means a bug, never bad input or configuration.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from graph.errors import CkgError, ConfigError, StoreAuthError, StoreUnavailable

P = ParamSpec("P")
T = TypeVar("T")

app = typer.Typer(
    help="ckg: the customer knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
store_app = typer.Typer(help="Run the embedded store (FalkorDB on loopback).", no_args_is_help=True)
app.add_typer(store_app, name="store")
keys_app = typer.Typer(help="API keys with scopes.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

EXIT_ERROR, EXIT_CONFIG, EXIT_UNAVAILABLE, EXIT_NOT_RUNNING = 1, 2, 3, 3


def _fail(message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"ckg: error: {message}\n")
    return typer.Exit(code)


def cli_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Map domain errors to one line and an exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "settings"
            raise _fail(
                f"invalid setting CKG_{where.upper()}: {first['msg']}", EXIT_CONFIG
            ) from None
        except ConfigError as exc:
            raise _fail(str(exc), EXIT_CONFIG) from None
        except (StoreUnavailable, StoreAuthError) as exc:
            raise _fail(str(exc), EXIT_UNAVAILABLE) from None
        except CkgError as exc:
            raise _fail(str(exc), EXIT_ERROR) from None

    return wrapper


def _settings() -> Any:
    from graph.settings import get_settings

    return get_settings()


def _embedded_server() -> Any:
    from graph.embedded import EmbeddedServer

    s = _settings()
    if s.resolved_engine != "falkordb":
        raise ConfigError("`ckg store` manages the embedded store; CKG_NEO4J_URI points elsewhere")
    return EmbeddedServer(s.data_dir, s.embedded_host, s.embedded_port, s.embedded_start_timeout_s)


@store_app.command("start")
@cli_errors
def store_start() -> None:
    """Start the embedded store for the data directory (or reuse it) and apply the schema."""
    from graph.store import open_store

    server = _embedded_server()
    info, started = server.ensure_running(detach=True)
    with open_store(_settings()) as store:
        store.ping()  # opening applies the schema
    verb = f"started in {info.startup_seconds:.2f}s" if started else "already running"
    typer.echo(
        f"embedded store {verb}: pid {info.pid}, {info.host}:{info.port}, data {info.data_dir}"
    )


@store_app.command("stop")
@cli_errors
def store_stop() -> None:
    """Compact the log and stop the embedded store cleanly."""
    server = _embedded_server()
    if server.stop():
        typer.echo(f"embedded store stopped (data {server.data_dir})")
    else:
        typer.echo(f"embedded store was not running (data {server.data_dir})")


@store_app.command("status")
@cli_errors
def store_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say whether the embedded store runs, where, and what it holds; exit 3 when it does not."""
    from graph.queries import get_queries
    from graph.store import open_store

    server = _embedded_server()
    info = server.status()
    if info is None:
        if as_json:
            typer.echo(json.dumps({"running": False, "data_dir": str(server.data_dir)}))
        else:
            typer.echo(f"embedded store not running (data {server.data_dir})")
        raise typer.Exit(EXIT_NOT_RUNNING)
    with open_store(_settings(), autostart=False) as store:
        nodes = {r["label"]: r["nodes"] for r in store.read(get_queries().node_counts)}
        rels = {
            r["type"]: r["relationships"] for r in store.read(get_queries().relationship_counts)
        }
    report = {
        "running": True,
        "pid": info.pid,
        "address": f"{info.host}:{info.port}",
        "data_dir": info.data_dir,
        "nodes": sum(nodes.values()),
        "relationships": sum(rels.values()),
        "by_label": nodes,
    }
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(
            f"embedded store running: pid {info.pid}, {report['address']}, data {info.data_dir}"
        )
        typer.echo(f"  {report['nodes']} nodes, {report['relationships']} relationships")


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


@app.command("query")
@cli_errors
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
    with open_store(_settings()) as store:
        rows = store.read(q, parse_params(param or []))
    _print_rows(rows, fmt)


@app.command("queries")
@cli_errors
def queries_cmd() -> None:
    """List the named queries in cypher/ with their purpose and parameters."""
    from graph.queries import get_queries

    table = Table("name", "mode", "params", "purpose")
    for d in get_queries().describe():
        table.add_row(d["name"], d["mode"], ", ".join(d["params"]), d["purpose"])
    Console().print(table)


EXIT_PARTIAL, EXIT_NOTHING_LOADED = 4, 5


@app.command("ingest")
@cli_errors
def ingest_cmd(
    file: Annotated[Path, typer.Argument(help="JSONL or CSV events, or a bundled dataset file.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f",
                     help="jsonl, csv, online-retail or eshop-clickstream (default: by name)."),
    ] = None,
    consent: Annotated[
        str | None,
        typer.Option(help="Purposes the imported history was collected under, e.g. "
                     "'personalization,analytics', or 'none'. Default: the dataset's "
                     "documented consent (see README), none for jsonl/csv."),
    ] = None,
    dead_letter: Annotated[
        Path | None, typer.Option(help="Where rejected records go (JSONL, appended).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, max=100_000)] = None,
    keep_chat_text: Annotated[bool, typer.Option(help="Store raw chat text.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Load events; print the reconciliation. Exit 0 all loaded, 4 partial, 5 nothing loaded."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from graph.store import open_store
    from ingest.run import FORMATS, ingest_file

    if fmt is not None and fmt not in FORMATS:
        raise CkgError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with open_store(_settings()) as store, Progress(
        SpinnerColumn(), TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} records"), TimeElapsedColumn(),
        disable=quiet, transient=True, console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(f"ingesting {file.name}", total=None)
        result, dl_path = ingest_file(
            store, file, fmt=fmt, consent=consent, dead_letter=dead_letter,
            batch_size=batch_size, keep_text=keep_chat_text,
            progress=lambda n: bar.advance(task, n),
        )
    report = result.reconciliation.as_dict()
    report["dead_letter"] = str(dl_path) if report["rejected"] else None
    report["outliers_marked"] = result.outliers
    typer.echo(json.dumps(report))
    if report["status"] == "partial":
        raise typer.Exit(EXIT_PARTIAL)
    if report["status"] == "failed":
        raise typer.Exit(EXIT_NOTHING_LOADED)


@keys_app.command("create")
@cli_errors
def keys_create(
    scope: Annotated[list[str], typer.Option("--scope", "-s",
                                             help="chatbot:read, ingest:write, analyst:read "
                                                  "or privacy:admin; repeat for several.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "default",
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    from api.auth import create_key

    path = _settings().api_keys_file
    key = create_key(path, name, scope)
    typer.echo(key)
    sys.stderr.write(f"stored the hash in {path}; the key is not shown again\n")


@app.command("serve")
@cli_errors
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    _settings()  # fail on bad settings before binding a port
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
