"""Times: epoch milliseconds (UTC) in the store, ISO 8601 UTC strings in every answer."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, overload


def now_ms() -> int:
    return int(time.time() * 1000)


@overload
def iso(ms: int) -> str: ...
@overload
def iso(ms: None) -> None: ...
def iso(ms: int | None) -> str | None:
    """The same form as the history and context answers: `2011-12-01T08:00:00Z`."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def is_time_key(key: str) -> bool:
    """Stored times are named `at`, `since` or `*_at` (graph/model.py)."""
    return key in ("at", "since") or key.endswith("_at")


def iso_times(value: Any) -> Any:
    """`value` with every stored time in it (nested maps and lists too) as an ISO string."""
    if isinstance(value, Mapping):
        return {k: iso(v) if _is_ms(k, v) else iso_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [iso_times(v) for v in value]
    return value


def _is_ms(key: object, value: object) -> bool:
    return (
        isinstance(key, str)
        and is_time_key(key)
        and isinstance(value, int)
        and not isinstance(value, bool)
    )
