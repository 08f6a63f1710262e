"""The `ckg` command line.

Every command turns a `CkgError` (or a settings error) into one line on stderr and a non-zero exit
code; a traceback means a bug, never bad input or configuration. The commands live in one module
per area; this module names them, wraps each in that error mapping and builds the command tree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from api.cli import agents, browser, ingest, keys, models, privacy, queries, serve, store
from api.cli.common import ExitCode, settings
from graph.errors import CkgError, ConfigError, StoreAuthError, StoreUnavailable

P = ParamSpec("P")
T = TypeVar("T")

app = typer.Typer(
    help="ckg: the customer knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _fail(message: str, code: ExitCode) -> typer.Exit:
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
                f"invalid setting CKG_{where.upper()}: {first['msg']}", ExitCode.CONFIG
            ) from None
        except ConfigError as exc:
            raise _fail(str(exc), ExitCode.CONFIG) from None
        except (StoreUnavailable, StoreAuthError) as exc:
            raise _fail(str(exc), ExitCode.UNAVAILABLE) from None
        except CkgError as exc:
            raise _fail(str(exc), ExitCode.ERROR) from None

    return wrapper


Commands = tuple[tuple[str, Callable[..., None]], ...]

# In the order `ckg --help` lists them.
COMMANDS: Commands = (
    ("query", queries.query_cmd),
    ("queries", queries.queries_cmd),
    ("ingest", ingest.ingest_cmd),
    ("export", privacy.export_cmd),
    ("erase", privacy.erase_cmd),
    ("retention", privacy.retention_cmd),
    ("embed", models.embed_cmd),
    ("evaluate", models.evaluate_cmd),
    ("recommend", models.recommend_cmd),
    ("segment", models.segment_cmd),
    ("serve", serve.serve_cmd),
    ("mcp", agents.mcp_cmd),
)
GROUPS: tuple[tuple[str, str, Commands], ...] = (
    (
        "store",
        "Run the embedded store (FalkorDB on loopback).",
        (
            ("start", store.store_start),
            ("stop", store.store_stop),
            ("status", store.store_status),
            ("backup", store.store_backup),
            ("restore", store.store_restore),
        ),
    ),
    ("keys", "API keys with scopes.", (("create", keys.keys_create),)),
    (
        "browser",
        "The Neo4j Browser kit: guide, favourites, style.",
        (("export", browser.export_cmd),),
    ),
    (
        "privacy",
        "Suppression list and privacy requests report.",
        (("unsuppress", privacy.unsuppress_cmd), ("report", privacy.report_cmd)),
    ),
)


def _add_commands(group: typer.Typer, commands: Commands) -> None:
    for name, fn in commands:
        group.command(name)(cli_errors(fn))


def _build() -> None:
    _add_commands(app, COMMANDS)
    for name, help_text, commands in GROUPS:
        group = typer.Typer(help=help_text, no_args_is_help=True)
        _add_commands(group, commands)
        app.add_typer(group, name=name)


_build()


def main() -> None:
    _configure_logging()
    app()


def _configure_logging() -> None:
    """Commands log to stderr in the configured format, warnings and worse unless a level is
    set (their report is their output); `ckg serve` hands uvicorn its own configuration."""
    from api.logs import configure

    try:
        s = settings()
    except ValidationError:
        return  # the command itself reports the bad setting, with its exit code
    configure(s.log_format, s.log_level if "log_level" in s.model_fields_set else "warning")
