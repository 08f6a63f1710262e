"""One writer at a time across processes, on each engine (`Store.exclusive()`: a file lock on the
embedded store's data directory, a lease in the graph on Neo4j).

An erasure asked for in one process while another process loads waits for the load: then no
trace of the subject is left (events of the subject come first and last in the file, so an
erasure in the middle of the load would leave the later ones behind) and none of the load is
lost. A writer that dies holding the lock does not keep the others out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.queries import get_queries
from graph.store import Store, open_store
from tests.helpers import event_builder

CKG = [sys.executable, "-m", "api.cli"]
SUBJECT = "c-7"
CUSTOMERS, VIEWS = 300, 40
PRIVACY_KEY = "writer-lock-test-key"


def _env(settings: Settings) -> dict[str, str]:
    """The settings the test's store runs on, for a `ckg` process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKG_")}
    for name, value in settings.model_dump(exclude_unset=True).items():
        secret = getattr(value, "get_secret_value", None)
        env[f"CKG_{name.upper()}"] = str(secret() if secret else value)
    env |= {"CKG_PRIVACY_KEY": PRIVACY_KEY, "CKG_LOG_FORMAT": "json", "CKG_LOG_LEVEL": "info"}
    return env


def _events(path: Path) -> int:
    """Views of every customer, the subject's first and last in the file; returns its count."""
    ev = event_builder("wl-")
    rows: list[dict[str, Any]] = []
    order = [SUBJECT] + [f"c-{i}" for i in range(CUSTOMERS) if f"c-{i}" != SUBJECT]
    for n in range(VIEWS):
        for cid in order if n % 2 == 0 else order[1:]:
            rows.append(
                ev(
                    "product_view",
                    f"2011-12-01T{8 + n // 10:02d}:{n % 10 * 5:02d}:00Z",
                    customer_id=cid,
                    session_id=f"{cid}-s{n // 20}",
                    product_id=f"p-{(n + int(cid[2:])) % 50}",
                    category_id=f"cat-{n % 5}",
                )
            )
    second = [i for i, r in enumerate(rows) if r["customer_id"] == SUBJECT][1]
    rows.append(rows.pop(second))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return sum(r["customer_id"] == SUBJECT for r in rows)


def _logged(stderr: str, logger: str, starts: str) -> dict[str, Any]:
    records: list[dict[str, Any]] = [
        json.loads(line) for line in stderr.splitlines() if line.startswith("{")
    ]
    found = [r for r in records if r["logger"] == logger and r["message"].startswith(starts)]
    assert len(found) == 1, stderr
    return found[0]


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def _wait_busy(store: Store, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not store.writer_busy():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the load never took the writer lock"
        time.sleep(0.01)


def test_an_erasure_during_another_process_load_waits_and_leaves_no_trace(
    store: Store, engine_settings: Settings, test_queries: QueryCatalog, tmp_path: Path
) -> None:
    subject_events = _events(tmp_path / "events.jsonl")
    total = CUSTOMERS * VIEWS // 2 + (CUSTOMERS - 1) * VIEWS // 2
    assert subject_events == VIEWS // 2
    env = _env(engine_settings)
    load = subprocess.Popen(
        [
            *CKG,
            "ingest",
            str(tmp_path / "events.jsonl"),
            "--consent",
            "personalization,analytics",
            "--batch-size",
            "500",
            "--dead-letter",
            str(tmp_path / "dead.jsonl"),
            "--quiet",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_busy(store, load)
    erasure = subprocess.run(
        [*CKG, "erase", SUBJECT], env=env, capture_output=True, text=True, timeout=300
    )
    loaded_out, loaded_err = load.communicate(timeout=300)
    assert load.returncode == 0, loaded_err
    assert erasure.returncode == 0, erasure.stderr
    report = json.loads(loaded_out)
    assert (report["accepted"], report["rejected"], report["duplicates"]) == (total, 0, 0), report
    receipt = json.loads(erasure.stdout)
    assert receipt["verified"] is True
    # the subject's views and the consent records `--consent` gave each customer
    per_customer_consents = receipt["nodes"]["Event"] - subject_events
    assert per_customer_consents in (1, 2), receipt

    # the erasure began only once the load had finished (both record it under the lock)
    finished = _ms(_logged(loaded_err, "ingest.loader", "ingested ")["time"])
    audited = _logged(erasure.stderr, "privacy.audit", "erasure request by cli")
    took_ms = int(audited["message"].rsplit(" in ", 1)[1].split()[0])
    assert _ms(audited["time"]) - took_ms >= finished - 1, (audited, finished)

    nodes = store.read(test_queries.get("test_nodes_snapshot"))
    counts = {r["label"]: r["nodes"] for r in store.read(get_queries().node_counts)}
    others = total - subject_events + (CUSTOMERS - 1) * per_customer_consents
    assert counts["Event"] == others  # none of the load lost
    assert counts["Customer"] == CUSTOMERS - 1
    text = json.dumps([n for n in nodes if n["label"] not in ("Erasure", "Audit")])
    assert f'"{SUBJECT}"' not in text and f"{SUBJECT}-s" not in text
    assert not store.writer_busy()


HOLDER = """
import sys, time
from api.settings import get_settings
from graph.store import open_store
with open_store(get_settings()) as store, store.exclusive():
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_writer_that_dies_holding_the_lock_keeps_nobody_out(
    store: Store, engine_settings: Settings
) -> None:
    env = _env(engine_settings) | {"CKG_NEO4J_WRITER_LEASE_S": "2"}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert store.writer_busy()
        got = threading.Event()

        def writer() -> None:
            with open_store(engine_settings) as other, other.exclusive():
                got.set()

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        assert not got.wait(1.0)  # held: the writer waits
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        assert got.wait(30), "the lock of a dead writer was never freed"
        # the embedded lock goes with the process; a Neo4j lease within its time to live
        assert time.monotonic() - started < 2 + 3
        t.join(10)
        assert not store.writer_busy()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
