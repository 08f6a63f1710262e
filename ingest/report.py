"""Reconciliation and dead-letter: every input record is accounted for, and every reject is kept.

`input = accepted + duplicates + rejected` must hold for every run; `Reconciliation.check()` says
so or raises, so a loader bug that loses or double-counts a record fails loudly. `Ledger` is the
one place the pipeline's stages settle a record: counted, dead-lettered when rejected, and its
outcome noted when the caller answers per record.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from graph.errors import CkgError
from graph.settings import StoreSettings
from ingest.sources import SourceRecord

_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


class ReconciliationError(CkgError):
    """The counts of a run do not add up: a record was lost or counted twice."""

    reason = "reconciliation_failed"


@dataclass
class Reconciliation:
    input: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)

    def accept(self, n: int = 1) -> None:
        self.accepted += n

    def duplicate(self, n: int = 1) -> None:
        self.duplicates += n

    def reject(self, reason: str, n: int = 1) -> None:
        self.rejected += n
        self.by_reason[reason] += n

    def seen(self, n: int = 1) -> None:
        self.input += n

    @property
    def balanced(self) -> bool:
        return (
            self.input == self.accepted + self.duplicates + self.rejected
            and self.rejected == sum(self.by_reason.values())
        )

    def check(self) -> Self:
        if not self.balanced:
            raise ReconciliationError(
                f"reconciliation failed: input {self.input} != accepted {self.accepted} + "
                f"duplicates {self.duplicates} + rejected {self.rejected}"
            )
        return self

    @property
    def status(self) -> str:
        """`ok`, `partial` (some rejected) or `failed` (nothing accepted out of some input)."""
        if self.rejected == 0:
            return "ok"
        return "partial" if self.accepted + self.duplicates > 0 else "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.by_reason.items())),
            "balanced": self.balanced,
            "status": self.status,
        }


def dead_letter_path(settings: StoreSettings, name: str) -> Path:
    """Where a source's rejects go by default: beside the data directory, one file per source."""
    return Path(settings.data_dir).parent / "dead-letter" / f"{name}.jsonl"


class DeadLetter:
    """Append-only JSONL of rejected records: the original, the reason, and where it came from.

    Each line is flushed and fsynced with its batch (`flush()`), so a crash never leaves a
    rejected record counted but unwritten.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        # A lone surrogate in a rejected record (JSON's "\\ud800") is written as that same JSON
        # escape, so the line still reads back as the record that came in.
        self._fh = path.open("a", encoding="utf-8", errors="backslashreplace")

    def write(
        self, *, source: str, position: int, reason: str, message: str | None, record: Any
    ) -> None:
        line = {
            "source": source,
            "position": position,
            "reason": reason,
            "message": message,
            "record": record,
        }
        text = json.dumps(line, ensure_ascii=False, default=str)
        # readable UTF-8, but with the characters str.splitlines() also breaks on escaped, so
        # any line reader sees one record per line
        for ch in _LINE_BREAKS:
            text = text.replace(ch, f"\\u{ord(ch):04x}")
        self._fh.write(text + "\n")
        self.count += 1

    def flush(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self.flush()
            self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class Outcome:
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: str | None = None
    reason: str | None = None
    message: str | None = None


class Ledger:
    """Settles input records: counts them, dead-letters rejects, notes outcomes when asked.

    `outcomes` is None unless the caller answers per record (the HTTP API), so a file load keeps
    no per-line state.
    """

    def __init__(
        self,
        reconciliation: Reconciliation,
        dead_letter: DeadLetter,
        outcomes: dict[int, Outcome] | None = None,
    ) -> None:
        self.reconciliation = reconciliation
        self.dead_letter = dead_letter
        self.outcomes = outcomes

    def seen(self) -> None:
        self.reconciliation.seen()

    def accept(self, records: list[SourceRecord], event_id: str) -> None:
        self.reconciliation.accept(len(records))
        for record in records:
            self._note(record, Outcome("accepted", event_id))

    def duplicate(self, records: list[SourceRecord], event_id: str) -> None:
        self.reconciliation.duplicate(len(records))
        for record in records:
            self._note(record, Outcome("duplicate", event_id))

    def reject(
        self,
        record: SourceRecord,
        reason: str,
        message: str | None,
        original: Any,
        event_id: str | None = None,
    ) -> None:
        self.reconciliation.reject(reason)
        self.dead_letter.write(
            source=record.source,
            position=record.position,
            reason=reason,
            message=message,
            record=original,
        )
        self._note(record, Outcome("rejected", event_id, reason, message))

    def _note(self, record: SourceRecord, outcome: Outcome) -> None:
        if self.outcomes is not None:
            self.outcomes[record.position] = outcome
