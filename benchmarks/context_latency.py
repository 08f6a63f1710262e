"""Chatbot context latency: the API over loopback against the same Cypher run directly.

Loads ../shared/datasets (both datasets, in full) into a fresh embedded store unless
`--data-dir` names one already loaded, starts `ckg serve` as its own process, then:

1. runs the context query directly against the store from 32 threads, each pacing itself to
   `--rate / clients` calls per second, for random real sessions (seeded): the floor;
2. drives GET /v1/sessions/{id}/context with the same pattern from 32 concurrent keep-alive
   clients over loopback (open loop: a chatbot fleet, not a flood), and
3. the same clients flat out (closed loop), to show the saturation throughput.

Prints one JSON line: requests, p50_ms, p99_ms, rps, raw_query_p50_ms,
api_overhead_ratio = p50_ms / raw_query_p50_ms (same load pattern), plus the saturation
figures and the query's back-to-back p50 from one caller.
Targets (issue #4): p99 <= 25 ms and api_overhead_ratio <= 2.0 on 2 cores.

    .venv/bin/python benchmarks/context_latency.py [--data-dir DIR] [--rate 200] [--seconds 20]
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/ingest.py would shadow the `ingest` package: keep this folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time

from api.auth import create_key
from graph.catalog import Query
from graph.embedded import EmbeddedServer
from graph.queries import get_queries
from graph.settings import Settings
from graph.store import Store, open_store
from ingest.datasets import ESHOP_FILE, RETAIL_FILE, shared_datasets
from ingest.run import ingest_file


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def client(port: int, key: str, sessions: list[str], rng: random.Random,
                 until: float, interval: float, out: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    next_at = time.perf_counter() + rng.random() * interval
    try:
        while True:
            if interval:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
            if time.perf_counter() >= until:
                return
            sid = rng.choice(sessions)
            req = (f"GET /v1/sessions/{sid}/context HTTP/1.1\r\nHost: bench\r\n"
                   f"Authorization: Bearer {key}\r\n\r\n").encode()
            t0 = time.perf_counter()
            writer.write(req)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            out.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def drive(port: int, key: str, sessions: list[str], clients: int, seconds: float,
          rate: float | None, seed: int) -> tuple[list[float], list[int], float]:
    out: list[float] = []
    errors: list[int] = []
    interval = clients / rate if rate else 0.0

    async def run() -> float:
        t0 = time.perf_counter()
        until = t0 + seconds
        await asyncio.gather(*(client(port, key, sessions, random.Random(seed + i), until,
                                      interval, out, errors) for i in range(clients)))
        return time.perf_counter() - t0

    elapsed = asyncio.run(run())
    return out, errors, elapsed


def drive_raw(store: Store, query: Query, params: list[dict[str, object]], clients: int,
              seconds: float, rate: float, seed: int) -> list[float]:
    """The same load pattern as the HTTP clients, straight at the store (threads)."""
    out: list[float] = []
    interval = clients / rate
    until = time.perf_counter() + seconds

    def worker(i: int) -> None:
        rng = random.Random(seed + i)
        next_at = time.perf_counter() + rng.random() * interval
        while True:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            next_at += interval
            if time.perf_counter() >= until:
                return
            t0 = time.perf_counter()
            store.read(query, rng.choice(params))
            out.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--rate", type=float, default=200.0, help="requests/s, all clients")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--raw-calls", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=1, help="API server processes")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    q = get_queries()

    with tempfile.TemporaryDirectory(prefix="ckg-ctxbench-") as tmp:
        data = args.data_dir or Path(tmp) / "data"
        settings = Settings(data_dir=data, graph_name="ckg",
                            api_keys_file=Path(tmp) / "keys.json")
        try:
            with open_store(settings) as store:
                if args.data_dir is None:
                    root = shared_datasets()
                    for path, fmt in ((RETAIL_FILE, "online-retail"),
                                      (ESHOP_FILE, "eshop-clickstream")):
                        ingest_file(store, root / path, fmt=fmt, dead_letter=Path(tmp) / "dl")
                    store.checkpoint()
                sessions = sorted(r["id"] for r in store.read(q.bench_session_ids))
                sample = rng.sample(sessions, min(2000, len(sessions)))
                params = [{"session_id": s, "purpose": "personalization", "recs": 20}
                          for s in sample]
                for p in params[:100]:  # warm the store's caches
                    store.read(q.session_context, p)
                hot: list[float] = []
                for i in range(args.raw_calls):
                    t0 = time.perf_counter()
                    store.read(q.session_context, params[i % len(params)])
                    hot.append((time.perf_counter() - t0) * 1000)
                raw = drive_raw(store, q.session_context, params, args.clients, args.seconds,
                                args.rate, args.seed)

            key = create_key(settings.api_keys_file, "bench", ["chatbot:read"])
            port = 18000 + rng.randrange(1000)
            env = {**os.environ, "CKG_DATA_DIR": str(data), "CKG_GRAPH_NAME": "ckg",
                   "CKG_API_KEYS_FILE": str(settings.api_keys_file)}
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
                 "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
                 "--no-access-log"], env=env)
            try:
                deadline = time.time() + 60
                while True:
                    try:
                        drive(port, key, sample, 1, 0.2, None, args.seed)
                        break
                    except OSError:
                        if time.time() > deadline:
                            raise
                        time.sleep(0.3)
                drive(port, key, sample, args.clients, 3, None, args.seed)  # warm-up
                paced, err_p, t_p = drive(port, key, sample, args.clients, args.seconds,
                                          args.rate, args.seed)
                flat, err_f, t_f = drive(port, key, sample, args.clients, args.seconds / 2,
                                         None, args.seed + 1000)
            finally:
                server.terminate()
                server.wait(30)
        finally:
            if args.data_dir is None:
                EmbeddedServer(data).stop()

    p50, raw_p50 = statistics.median(paced), statistics.median(raw)
    print(json.dumps({
        "requests": len(paced),
        "p50_ms": round(p50, 2),
        "p99_ms": round(pct(paced, 0.99), 2),
        "rps": round(len(paced) / t_p, 1),
        "raw_query_p50_ms": round(raw_p50, 2),
        "raw_query_p99_ms": round(pct(raw, 0.99), 2),
        "raw_back_to_back_p50_ms": round(statistics.median(hot), 2),
        "api_overhead_ratio": round(p50 / raw_p50, 2),
        "clients": args.clients,
        "workers": args.workers,
        "target_rate": args.rate,
        "errors": len(err_p) + len(err_f),
        "saturated_rps": round(len(flat) / t_f, 1),
        "saturated_p50_ms": round(statistics.median(flat), 2),
        "saturated_p99_ms": round(pct(flat, 0.99), 2),
        "sessions": len(sessions),
    }))


if __name__ == "__main__":
    main()
