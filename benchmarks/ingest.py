"""Load the full online-retail dataset into a fresh embedded store and compare with a bare write.

Prints one JSON line: lines, seconds, lines_per_s, the raw write speed of the same number of
nodes and relationships (`UNWIND ... CREATE`, no lookups) measured in the same run and on the same
server, their ratio, the reconciliation and the outliers marked. Targets:
ratio_to_raw >= 0.5 and lines_per_s >= 20,000 on 2 cores. With `--runs N` every figure is the
median of N complete runs (each with its own raw write), and the per-run times are listed.

    .venv/bin/python benchmarks/ingest.py [--file PATH] [--format online-retail] [--runs 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This script is named like the `ingest` package it measures: keep its folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import statistics
import tempfile
import time
from typing import Any

from api.settings import Settings
from graph.embedded import EmbeddedServer
from graph.queries import get_queries
from graph.store import open_store
from ingest.datasets import RETAIL_FILE, shared_datasets
from ingest.formats import Format
from ingest.run import ingest_file


def one_run(path: Path, fmt: Format, batch_size: int, ingest_batch: int | None) -> dict[str, Any]:
    """Load the file into a fresh store, then write the same graph size bare, same server."""
    q = get_queries()
    with tempfile.TemporaryDirectory(prefix="ckg-bench-") as tmp:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data, graph_name="bench", write_batch_size=batch_size)
        try:
            with open_store(settings) as store:
                t0 = time.perf_counter()
                result, _ = ingest_file(
                    store, path, fmt=fmt, dead_letter=Path(tmp) / "dl", batch_size=ingest_batch
                )
                seconds = time.perf_counter() - t0
                nodes = sum(r["nodes"] for r in store.read(q.node_counts))
                rels = sum(r["relationships"] for r in store.read(q.relationship_counts))

            raw_settings = settings.model_copy(update={"graph_name": "raw", "auto_schema": True})
            with open_store(raw_settings) as raw:
                per, extra = divmod(rels, max(nodes, 1))
                rows = [
                    {"id": f"r{i}", "rels": per + (1 if i < extra else 0)} for i in range(nodes)
                ]
                t0 = time.perf_counter()
                raw.write_rows(q.raw_create, rows, batch_size=batch_size)
                raw_seconds = time.perf_counter() - t0
        finally:
            EmbeddedServer(data).stop()

    rec = result.reconciliation
    lines = rec.input
    return {
        "lines": lines,
        "seconds": round(seconds, 2),
        "lines_per_s": round(lines / seconds),
        "nodes": nodes,
        "relationships": rels,
        "raw_seconds": round(raw_seconds, 2),
        "raw_write_per_s": round((nodes + rels) / raw_seconds),
        # the same graph size written bare vs by the loader: (entities/s) / raw_write_per_s
        "ratio_to_raw": round(raw_seconds / seconds, 3),
        "raw_lines_per_s": round(lines / raw_seconds),
        "accepted": rec.accepted,
        "duplicates": rec.duplicates,
        "rejected": rec.rejected,
        "balanced": rec.balanced,
        "outliers_marked": result.outliers,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--format", default="online-retail")
    ap.add_argument("--batch-size", type=int, default=5000, help="rows per raw-write batch")
    ap.add_argument(
        "--ingest-batch-size",
        type=int,
        default=None,
        help="input lines per loader batch (default: the ingest_batch_size setting)",
    )
    ap.add_argument(
        "--runs",
        type=int,
        default=1,
        help="repeat the whole measurement; report each figure's median",
    )
    args = ap.parse_args()
    path = args.file or shared_datasets() / RETAIL_FILE
    runs = [
        one_run(path, args.format, args.batch_size, args.ingest_batch_size)
        for _ in range(max(args.runs, 1))
    ]
    report = {
        k: (
            statistics.median(r[k] for r in runs)
            if isinstance(v, float | int) and not isinstance(v, bool)
            else v
        )
        for k, v in runs[0].items()
    }
    if len(runs) > 1:
        report["runs"] = len(runs)
        report["seconds_per_run"] = [r["seconds"] for r in runs]
        report["ratio_per_run"] = [r["ratio_to_raw"] for r in runs]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
