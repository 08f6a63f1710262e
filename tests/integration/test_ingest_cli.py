"""`ckg ingest` as a process: exit codes, dead-letter, real data twice, and kill -9 mid-load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.embedded import EmbeddedServer
from graph.queries import get_queries
from graph.store import open_store
from ingest.datasets import RETAIL_SAMPLE
from tests.helpers import SMALL, snapshot


def ckg(data: Path, *args: str, wait: bool = True) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKG_")}
    env["CKG_DATA_DIR"] = str(data)
    cmd = [sys.executable, "-m", "api.cli", *args]
    if not wait:
        return subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def report(p: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def test_exit_codes_and_dead_letter(tmp_path: Path) -> None:
    data = tmp_path / "data"
    try:
        ok = ckg(data, "ingest", str(SMALL), "-q")
        assert ok.returncode == 0, ok.stderr
        assert report(ok)["accepted"] == 18

        mixed = tmp_path / "mixed.jsonl"
        mixed.write_text(SMALL.read_text().replace('"ev-0', '"ev-1') + "{oops\n")
        dl = tmp_path / "rejects.jsonl"
        partial = ckg(data, "ingest", str(mixed), "-q", "--dead-letter", str(dl))
        assert partial.returncode == 4, partial.stderr
        assert report(partial)["rejected_by_reason"] == {"invalid_json": 1}
        assert json.loads(dl.read_text())["position"] == 19

        junk = tmp_path / "junk.jsonl"
        junk.write_text("nope\n[]\n")
        nothing = ckg(data, "ingest", str(junk), "-q")
        assert nothing.returncode == 5 and report(nothing)["accepted"] == 0

        unknown = ckg(data, "ingest", str(tmp_path / "absent.jsonl"), "-q")
        assert unknown.returncode == 1 and unknown.stderr.startswith("ckg: error: no such file")
    finally:
        EmbeddedServer(data).stop()


def graph_snapshot(data: Path, tq: QueryCatalog) -> tuple[Any, Any, Any]:
    q = get_queries()
    with open_store(Settings(data_dir=data)) as store:
        return (store.read(q.node_counts), *snapshot(store, tq))


def test_real_sample_twice_and_kill_9_mid_load(tmp_path: Path, test_queries: QueryCatalog) -> None:
    """Uninterrupted vs killed-and-rerun loads of real data end in the same graph."""
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    args = ("ingest", str(RETAIL_SAMPLE), "--format", "online-retail", "-q", "--batch-size", "2000")
    try:
        first = ckg(clean, *args)
        assert first.returncode == 4, first.stderr  # service codes and stock adjustments
        r1 = report(first)
        assert r1["balanced"] and r1["accepted"] > 40_000
        assert set(r1["rejected_by_reason"]) == {"not_customer_activity"}
        counts = graph_snapshot(clean, test_queries)[0]

        again = report(ckg(clean, *args))
        assert again["balanced"] and again["accepted"] == 0
        assert again["duplicates"] == r1["accepted"] + r1["duplicates"]
        assert graph_snapshot(clean, test_queries)[0] == counts

        # Start the same load, kill the store's process while batches are being written.
        proc = ckg(crashed, *args, wait=False)
        events = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.3)
            state = crashed / "server.json"
            if not state.exists():
                continue
            info = json.loads(state.read_text())
            try:
                with open_store(Settings(data_dir=crashed), autostart=False) as s:
                    events = sum(
                        r["nodes"]
                        for r in s.read(get_queries().node_counts)
                        if r["label"] == "Event"
                    )
            except Exception:  # the store may be busy starting; try again
                continue
            if events >= 800:  # invoices and import consents: a few batches are in
                os.kill(info["pid"], signal.SIGKILL)
                break
        out, err = proc.communicate(timeout=120)
        total_events = sum(r["nodes"] for r in counts if r["label"] == "Event")
        assert 800 <= events < total_events, (events, total_events)
        assert proc.returncode == 3, (proc.returncode, out, err)  # store went away mid-load

        t0 = time.monotonic()
        rerun = ckg(crashed, *args)
        rerun_s = time.monotonic() - t0
        assert rerun.returncode == 4, rerun.stderr
        r3 = report(rerun)
        assert r3["balanced"] and r3["duplicates"] > r1["duplicates"]  # batches before the kill
        print(f"re-run after kill -9 at {events} events: {rerun_s:.1f}s")
        assert graph_snapshot(crashed, test_queries) == graph_snapshot(clean, test_queries)
    finally:
        EmbeddedServer(clean).stop()
        EmbeddedServer(crashed).stop()
