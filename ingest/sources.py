"""Reading input files record by record, keeping each record's position in its source.

Nothing is dropped here: a line that cannot even be decoded (bad JSON, bad encoding, a CSV row
with the wrong number of fields) comes out as a `SourceRecord` with `error` set, so the loader can
dead-letter it with its position and count it in the reconciliation.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

# A record larger than this is refused rather than parsed (protects memory on hostile input).
MAX_RECORD_BYTES = 1_000_000


class SourceRecord(NamedTuple):
    """One input record: its parsed fields, or the raw text and why it could not be parsed.

    A named tuple rather than a frozen dataclass: a file load makes one per line, and a frozen
    dataclass's `__init__` cost a second of the retail file's load.
    """

    source: str
    position: int  # 1-based line number (JSONL) or data row number (CSV, header excluded)
    data: dict[str, Any] | None
    raw: str | None = None
    error: str | None = None  # a reason code: "invalid_json", "not_an_object", ...
    message: str | None = None


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(
            gzip.open(path, "rb"), encoding="utf-8", errors="strict", newline=""
        )
    return path.open("r", encoding="utf-8", errors="strict", newline="")


def read_jsonl(path: Path) -> Iterator[SourceRecord]:
    """One JSON object per line; blank lines are skipped and not counted as input."""
    source = str(path)
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
        for lineno, raw_bytes in enumerate(fh, start=1):
            if not raw_bytes.strip():
                continue
            if len(raw_bytes) > MAX_RECORD_BYTES:
                yield SourceRecord(
                    source,
                    lineno,
                    None,
                    raw_bytes[:200].decode("utf-8", "replace"),
                    "record_too_large",
                    f"line is {len(raw_bytes)} bytes",
                )
                continue
            try:
                text = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield SourceRecord(
                    source,
                    lineno,
                    None,
                    raw_bytes.decode("utf-8", "replace"),
                    "bad_encoding",
                    str(exc),
                )
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield SourceRecord(
                    source, lineno, None, text.rstrip("\r\n"), "invalid_json", exc.msg
                )
                continue
            if not isinstance(value, dict):
                yield SourceRecord(
                    source,
                    lineno,
                    None,
                    text.rstrip("\r\n"),
                    "not_an_object",
                    f"a JSON {type(value).__name__}, not an object",
                )
                continue
            yield SourceRecord(source, lineno, value)


def read_csv(path: Path, delimiter: str = ",") -> Iterator[SourceRecord]:
    """Rows as dicts keyed by the header; a row with the wrong field count is an error record."""
    source = str(path)
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            yield SourceRecord(source, 0, None, None, "bad_header", str(exc))
            return
        position = 0
        while True:
            position += 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                yield SourceRecord(source, position, None, None, "bad_csv_row", str(exc))
                continue
            # no fields, or only blank ones (a non-blank first field settles it cheaply)
            if not (row and row[0].strip()) and not "".join(row).strip():
                position -= 1
                continue
            if len(row) != len(header):
                yield SourceRecord(
                    source,
                    position,
                    None,
                    delimiter.join(row),
                    "bad_csv_row",
                    f"{len(row)} fields, header has {len(header)}",
                )
                continue
            yield SourceRecord(source, position, dict(zip(header, row, strict=True)))
