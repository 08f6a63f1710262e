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
    from api.settings import get_settings

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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Load events; print the reconciliation. Exit 0 all loaded, 4 partial, 5 nothing loaded."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from graph.store import open_store
    from ingest.formats import FORMATS
    from ingest.run import ingest_file

    if fmt is not None and fmt not in FORMATS:
        raise CkgError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with (
        open_store(_settings()) as store,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f} records"),
            TimeElapsedColumn(),
            disable=quiet,
            transient=True,
            console=Console(stderr=True),
        ) as bar,
    ):
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
        raise typer.Exit(EXIT_PARTIAL)
    if report["status"] == "failed":
        raise typer.Exit(EXIT_NOTHING_LOADED)


@app.command("export")
@cli_errors
def export_cmd(
    customer_id: Annotated[str, typer.Argument(help="The customer id.")],
    out: Annotated[Path | None, typer.Option(help="Write the JSON here instead of stdout.")] = None,
) -> None:
    """Everything held on one person, as JSON (data subject access request)."""
    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.subjects import export

    with open_store(_settings()) as store:
        doc = export(store, get_queries(), customer_id)
    text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


@app.command("erase")
@cli_errors
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

    if (customer_id is None) == (file is None):
        raise CkgError("give one customer id or --file, not both")
    # (line number, id): the report points at the line of the file, blank lines included
    ids = (
        [(1, customer_id)]
        if customer_id
        else [
            (n, line.strip())
            for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)  # type: ignore[union-attr]
            if line.strip()
        ]
    )
    settings = _settings()
    key, q, missing = privacy_key(settings), get_queries(), 0
    with open_store(settings) as store, store.exclusive():
        for n, cid in ids:
            try:
                typer.echo(erase(store, q, key, cid).model_dump_json())
            except NotFound:
                missing += 1
                typer.echo(json.dumps({"error": "customer_not_found", "line": n}))
    if missing:
        raise typer.Exit(EXIT_PARTIAL)


@app.command("retention")
@cli_errors
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
    from datetime import UTC, datetime

    from graph.queries import get_queries
    from graph.store import open_store
    from privacy.subjects import retention

    settings = _settings()
    max_age = days or settings.retention_days
    if max_age is None:
        raise ConfigError("set --days or CKG_RETENTION_DAYS")
    ref = None
    if as_of is not None:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            raise CkgError(f"--as-of {as_of!r} is not an ISO date") from None
        ref = int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)
    with open_store(settings) as store, store.exclusive():
        report = retention(store, get_queries(), max_age, ref)
    typer.echo(report.model_dump_json())


def _embed_params(seed: int, workers: int, epochs: int | None) -> Any:
    from embeddings.train import EmbedParams

    base = EmbedParams(seed=seed, workers=workers)
    return EmbedParams(**{**base.as_dict(), "epochs": epochs or base.epochs})


def _cutoff_ms(cutoff: str | None) -> int | None:
    from datetime import UTC, datetime

    if cutoff is None:
        return None
    try:
        day = datetime.fromisoformat(cutoff)
    except ValueError:
        raise CkgError(f"--cutoff takes a date like 2011-07-01, not {cutoff!r}") from None
    return int((day if day.tzinfo else day.replace(tzinfo=UTC)).timestamp() * 1000)


def _progress(quiet: bool) -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        disable=quiet,
        transient=True,
        console=Console(stderr=True),
    )


def _print_evaluation(table: list[dict[str, Any]]) -> None:
    t = Table("recommender", "HR@10", "precision@10", "recall@10", "NDCG@10", "cases")
    for row in table:
        t.add_row(
            row["recommender"],
            *(f"{row[k]:.4f}" for k in ("hr@10", "precision@10", "recall@10", "ndcg@10")),
            str(row["cases"]),
        )
    Console(stderr=True).print(t)


Seed = Annotated[int, typer.Option(help="Random seed (walks, Word2Vec, ALS).")]
Workers = Annotated[
    int, typer.Option(min=1, help="Word2Vec threads; only 1 is bit-for-bit reproducible.")
]
Epochs = Annotated[int | None, typer.Option(min=1, help="Word2Vec epochs (default 5).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]


@app.command("embed")
@cli_errors
def embed_cmd(
    cutoff: Annotated[
        str | None,
        typer.Option(help="Evaluation split date (default: the last 90 days are the test period)."),
    ] = None,
    seed: Seed = 42,
    workers: Workers = 1,
    epochs: Epochs = None,
    similar_k: Annotated[int, typer.Option(min=1, max=100, help="SIMILAR edges per node.")] = 10,
    recommend_k: Annotated[
        int,
        typer.Option(
            min=1,
            max=100,
            help="RECOMMENDED edges per customer (the API serves up to this many "
            "from the evaluated recommender, then fallbacks).",
        ),
    ] = 100,
    force: Annotated[
        bool, typer.Option(help="Promote even if worse than the current model.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Project, walk, train, evaluate, write back and promote; print the report as JSON."""
    from embeddings.pipeline import run_embed
    from embeddings.recommender import BlendParams
    from graph.store import open_store

    with open_store(_settings()) as store, _progress(quiet) as bar:
        task = bar.add_task("embedding", total=None)
        report = run_embed(
            store,
            _embed_params(seed, workers, epochs),
            BlendParams(),
            cutoff_ms=_cutoff_ms(cutoff),
            force=force,
            similar_k=similar_k,
            recommend_k=recommend_k,
            progress=lambda m: bar.update(task, description=m),
        )
    if not quiet:
        _print_evaluation(report.evaluation.table())
    typer.echo(json.dumps(report.as_dict()))


@app.command("evaluate")
@cli_errors
def evaluate_cmd(
    cutoff: Annotated[
        str,
        typer.Option(help="Train strictly before this date (UTC), test after, e.g. 2011-07-01."),
    ],
    seed: Seed = 42,
    workers: Workers = 1,
    epochs: Epochs = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    quiet: Quiet = False,
) -> None:
    """HR, precision, recall and NDCG at 10 on new-item purchases after the cutoff, for ckg's
    recommender and the baselines (popularity, item-kNN, implicit ALS)."""
    from embeddings.pipeline import evaluate
    from embeddings.projection import load_interactions
    from embeddings.recommender import BlendParams
    from graph.store import open_store

    cut = _cutoff_ms(cutoff)
    assert cut is not None
    with open_store(_settings()) as store, _progress(quiet) as bar:
        task = bar.add_task("reading purchases", total=None)
        inter = load_interactions(store)
        result = evaluate(
            inter,
            cut,
            _embed_params(seed, workers, epochs),
            BlendParams(),
            progress=lambda m: bar.update(task, description=m),
        )
    if as_json:
        for row in result.table():
            typer.echo(json.dumps(row))
    else:
        _print_evaluation(result.table())
        Console().print(
            f"cutoff {cutoff}: {result.split['train_purchases']:,} purchases "
            f"before, {result.split['test_purchases']:,} after"
        )


@app.command("recommend")
@cli_errors
def recommend_cmd(
    customers: Annotated[Path, typer.Option(help="Customer ids, one per line.")],
    out: Annotated[Path, typer.Option(help="Where the JSON lines go.")],
    k: Annotated[int, typer.Option(min=1, max=100, help="Items per customer.")] = 10,
    include_purchased: Annotated[bool, typer.Option(help="Allow already bought products.")] = False,
) -> None:
    """Write `{"customer_id", "items"}` per customer: the same consent-gated recommendations
    as GET /v1/customers/{id}/recommendations (unknown ids get popular products)."""
    from embeddings import serving
    from graph.errors import NotFound
    from graph.store import open_store

    if not customers.is_file():
        raise CkgError(f"no such file: {customers}")
    ids = [
        line.strip() for line in customers.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    done = 0
    with open_store(_settings()) as store, out.open("w", encoding="utf-8") as f:
        for cid in ids:
            try:
                items = [
                    i.product_id
                    for i in serving.for_customer(store, cid, k, include_purchased).items
                ]
            except NotFound:
                items = [i.product_id for i in serving.popular(store, k)]
            f.write(json.dumps({"customer_id": cid, "items": items}) + "\n")
            done += 1
    sys.stderr.write(f"wrote {done} lines to {out}\n")


@app.command("segment")
@cli_errors
def segment_cmd(
    report: Annotated[
        Path | None,
        typer.Option(help="Also write PNG plots here (elbow and silhouette, 2-D map, profiles)."),
    ] = None,
    seed: Seed = 42,
    quiet: Quiet = False,
) -> None:
    """RFM segments, behavioural clusters and co-purchase communities, written as IN_SEGMENT
    to (:Segment) nodes; prints segment sizes as JSON."""
    from embeddings.segments import run_segments
    from graph.store import open_store

    with open_store(_settings()) as store, _progress(quiet) as bar:
        task = bar.add_task("segmenting", total=None)
        result = run_segments(
            store, seed, report, progress=lambda m: bar.update(task, description=m)
        )
    typer.echo(json.dumps(result))


@keys_app.command("create")
@cli_errors
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
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="api.server:HttpProtocol",
        log_level="info",
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
