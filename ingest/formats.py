"""Input formats: which reader (and, for a bundled dataset, which delimiter) a file is read with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from graph.errors import CkgError
from ingest.adapters import ADAPTERS
from ingest.sources import SourceRecord, read_csv, read_jsonl

Format = Literal["jsonl", "csv", "online-retail", "eshop-clickstream"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "online-retail", "eshop-clickstream")


def guess_format(path: Path) -> Format:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise CkgError(f"cannot tell the format of {path.name}; pass --format")


def records(path: Path, fmt: Format) -> Iterator[SourceRecord]:
    if not path.is_file():
        raise CkgError(f"no such file: {path}")
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "csv":
        return read_csv(path)
    return read_csv(path, delimiter=ADAPTERS[fmt][1])
