"""`ckg store start|stop|status`: the embedded store's process for the data directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli.common import ExitCode, settings
from graph.errors import ConfigError

if TYPE_CHECKING:
    from graph.backup import Manifest
    from graph.embedded import EmbeddedServer, ServerInfo


def _embedded_server() -> EmbeddedServer:
    from graph.embedded import EmbeddedServer

    s = settings()
    if s.resolved_engine != "falkordb":
        raise ConfigError("`ckg store` manages the embedded store; CKG_NEO4J_URI points elsewhere")
    return EmbeddedServer(s.data_dir, s.embedded_host, s.embedded_port, s.embedded_start_timeout_s)


def store_start() -> None:
    """Start the embedded store for the data directory (or reuse it) and apply the schema."""
    from graph.store import open_store

    server = _embedded_server()
    info, started = server.ensure_running(detach=True)
    with open_store(settings()) as store:
        store.ping()  # opening applies the schema
    verb = f"started in {info.startup_seconds:.2f}s" if started else "already running"
    typer.echo(
        f"embedded store {verb}: pid {info.pid}, {info.host}:{info.port}, data {info.data_dir}"
    )


def store_stop() -> None:
    """Compact the log and stop the embedded store cleanly."""
    server = _embedded_server()
    if server.stop():
        typer.echo(f"embedded store stopped (data {server.data_dir})")
    else:
        typer.echo(f"embedded store was not running (data {server.data_dir})")


def _status_report(info: ServerInfo) -> dict[str, Any]:
    """What the running store holds, counted by label and relationship type."""
    from graph.queries import get_queries
    from graph.store import open_store

    with open_store(settings(), autostart=False) as store:
        nodes = {r["label"]: r["nodes"] for r in store.read(get_queries().node_counts)}
        rels = {
            r["type"]: r["relationships"] for r in store.read(get_queries().relationship_counts)
        }
    return {
        "running": True,
        "pid": info.pid,
        "address": f"{info.host}:{info.port}",
        "data_dir": info.data_dir,
        "nodes": sum(nodes.values()),
        "relationships": sum(rels.values()),
        "by_label": nodes,
    }


def store_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say whether the embedded store runs, where, and what it holds; exit 3 when it does not."""
    server = _embedded_server()
    info = server.status()
    if info is None:
        if as_json:
            typer.echo(json.dumps({"running": False, "data_dir": str(server.data_dir)}))
        else:
            typer.echo(f"embedded store not running (data {server.data_dir})")
        raise typer.Exit(ExitCode.NOT_RUNNING)
    report = _status_report(info)
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(
            f"embedded store running: pid {info.pid}, {report['address']}, data {info.data_dir}"
        )
        typer.echo(f"  {report['nodes']} nodes, {report['relationships']} relationships")


BackupPath = Annotated[Path, typer.Argument(help="The backup file (.tar.gz).")]


def store_backup(path: BackupPath) -> None:
    """Write a consistent snapshot of the running embedded store (every graph) to PATH."""
    from graph.backup import backup

    manifest = backup(settings(), path)
    _echo_manifest(f"backup written to {path}", manifest)


def store_restore(path: BackupPath) -> None:
    """Restore PATH into the configured data directory, which must hold no store yet; the
    restored counts are checked against the backup's before this returns."""
    from graph.backup import restore

    manifest = restore(settings(), path)
    _echo_manifest(f"restored {path} into {settings().data_dir}", manifest)


def _echo_manifest(head: str, manifest: Manifest) -> None:
    typer.echo(head)
    for name, c in manifest.graphs.items():
        typer.echo(f"  graph {name}: {c.nodes} nodes, {c.relationships} relationships")
