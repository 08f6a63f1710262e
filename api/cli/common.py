"""What several command areas share: exit codes, settings, dates, the progress display.

Heavy or slow modules are imported inside the functions that need them, so `ckg --help` and
`ckg store status` never load them; their types are imported for the type checker only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from graph.errors import CkgError

if TYPE_CHECKING:
    from rich.progress import Progress

    from api.settings import Settings


class ExitCode(IntEnum):
    """The process exit codes scripts rely on (the Makefile accepts 4 from `ckg ingest`)."""

    ERROR = 1
    CONFIG = 2
    UNAVAILABLE = 3
    NOT_RUNNING = 3  # `ckg store status`: the same code as an unreachable store
    PARTIAL = 4
    NOTHING_LOADED = 5


Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]


def settings() -> Settings:
    """The service's settings, read (and validated) only when a command runs."""
    from api.settings import get_settings

    return get_settings()


def iso_ms(value: str, bad: str) -> int:
    """Epoch milliseconds of an ISO date; a time without a zone is UTC.

    `bad` is the error message, formatted with `value`: each option words it its own way.
    """
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CkgError(bad.format(value=value)) from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def progress(quiet: bool, counted: str | None = None) -> Progress:
    """A transient spinner on stderr, so stdout stays the command's JSON; `counted` names what
    the task's completed count counts, if it is shown."""
    from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
    if counted is not None:
        columns.append(TextColumn("{task.completed:,.0f} " + counted))
    columns.append(TimeElapsedColumn())
    return Progress(*columns, disable=quiet, transient=True, console=Console(stderr=True))
