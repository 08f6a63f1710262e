"""Erasure speed: `erase` (collect, count, delete, receipt, verify, suppress) vs a bare delete.

Loads the bundled real Online Retail sample (December 2010: customers with their sessions,
events, orders and consents) twice into a fresh embedded store, as two graphs. Then erases the
same seeded random customers: in one graph with `privacy.subjects.erase`, in the other with a
bare `DETACH DELETE` of the same node ids (`cypher/benchmarks/bare_erase.cypher`; the ids are
collected beforehand and that collection is not timed). One JSON line: customers, median
subgraph size, erasures_per_s, bare_per_s, ratio (erase time / bare time).

    .venv/bin/python benchmarks/erase.py [--customers 200] [--seed 7]
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/ingest.py would shadow the `ingest` package: keep this folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import random
import statistics
import tempfile
import time
from typing import Any

from api.settings import Settings
from graph.embedded import EmbeddedServer
from graph.queries import get_queries
from graph.store import Store, open_store
from ingest.datasets import RETAIL_SAMPLE
from ingest.run import ingest_file
from privacy.subjects import ErasureReceipt, erase
from privacy.tokens import privacy_key

PLAN_KEYS = ("identities", "consents", "sessions", "carts", "events", "orders")


def bare_plans(store: Store, chosen: list[str]) -> list[dict[str, Any]]:
    """What `erase` would delete for each customer, collected up front for the bare delete."""
    q = get_queries()
    plans = []
    for cid in chosen:
        row = store.read_one(q.erasure_collect, {"id": cid})
        assert row is not None
        plans.append(
            {
                "customers": [cid],
                "pii": row["pii"],
                **{k: sorted(set(row[k] or [])) for k in PLAN_KEYS},
                "queries": [],
            }
        )
    return plans


def timed_erasures(
    ours: Settings, a: Store, b: Store, chosen: list[str], plans: list[dict[str, Any]]
) -> tuple[list[ErasureReceipt], float, float]:
    """`erase` for each customer in one graph, the bare delete in the other: the receipts and
    both times."""
    q = get_queries()
    key = privacy_key(ours)
    t0 = time.perf_counter()
    receipts = [erase(a, q, key, cid, actor="benchmark") for cid in chosen]
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in plans:
        b.write(q.bare_erase, p)
    bare_s = time.perf_counter() - t0
    return receipts, ours_s, bare_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    q = get_queries()
    with tempfile.TemporaryDirectory(prefix="ckg-erasebench-") as tmp:
        data = Path(tmp) / "data"
        ours = Settings(data_dir=data, graph_name="ours", privacy_key_file=Path(tmp) / "k")
        bare = ours.model_copy(update={"graph_name": "bare"})
        try:
            with open_store(ours) as a, open_store(bare) as b:
                for store in (a, b):
                    ingest_file(
                        store, RETAIL_SAMPLE, fmt="online-retail", dead_letter=Path(tmp) / "dl"
                    )
                ids = sorted(r["id"] for r in a.read(q.bench_customer_ids))
                chosen = random.Random(args.seed).sample(ids, min(args.customers, len(ids)))
                plans = bare_plans(b, chosen)
                sizes = [sum(len(v) for v in p.values()) for p in plans]
                receipts, ours_s, bare_s = timed_erasures(ours, a, b, chosen, plans)
        finally:
            EmbeddedServer(data).stop()
    assert all(r.verified for r in receipts)
    n = len(chosen)
    print(
        json.dumps(
            {
                "customers": n,
                "median_nodes_per_customer": statistics.median(sizes),
                "max_nodes_per_customer": max(sizes),
                "seconds": round(ours_s, 3),
                "erasures_per_s": round(n / ours_s, 1),
                "bare_seconds": round(bare_s, 3),
                "bare_per_s": round(n / bare_s, 1),
                "ratio": round(ours_s / bare_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
