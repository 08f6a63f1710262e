"""The embedded FalkorDB server's life cycle, on real processes and real files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.embedded import EmbeddedServer
from graph.errors import ConfigError, StoreUnavailable
from graph.store import FalkorStore, open_store

# Restarting after kill -9 must stay fast whatever was loaded before: the
# store compacts its log, so replay is bounded by the replay budget, not by history.
MAX_RESTART_S = 20.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(tmp_path / "data")
    yield srv
    srv.stop()


def test_start_status_reuse_stop(server: EmbeddedServer) -> None:
    assert server.status() is None
    info, started = server.ensure_running()
    assert started
    assert server.status() == info
    again, started_again = EmbeddedServer(server.data_dir).ensure_running()
    assert (again.pid, started_again) == (info.pid, False)
    state = server.data_dir / "server.json"
    assert oct(state.stat().st_mode & 0o777) == "0o600"  # it holds the password
    assert server.stop() is True
    assert server.status() is None
    assert not state.exists()
    assert server.stop() is False


def test_concurrent_starts_share_one_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = (
        "import sys; from graph.embedded import EmbeddedServer; "
        f"i, s = EmbeddedServer({str(data)!r}).ensure_running(); print(i.pid)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    pids = {p.communicate(timeout=60)[0].strip() for p in procs}
    try:
        assert len(pids) == 1
    finally:
        EmbeddedServer(data).stop()


def test_stale_state_after_kill_is_replaced(server: EmbeddedServer) -> None:
    info, _ = server.ensure_running()
    os.kill(info.pid, signal.SIGKILL)
    time.sleep(0.2)
    assert server.status() is None
    new, started = server.ensure_running()
    assert started and new.pid != info.pid


def _chain(n: int, start: int = 0) -> list[dict[str, str | None]]:
    return [
        {"id": f"c{i:07d}", "prev": f"c{i - 1:07d}" if i else None} for i in range(start, start + n)
    ]


def test_kill_9_keeps_data_and_restarts_fast(tmp_path: Path, test_queries: QueryCatalog) -> None:
    """Load, kill -9 mid-life (after compaction and with an uncompacted tail), restart, compare."""
    data = tmp_path / "data"
    settings = Settings(data_dir=data, graph_name="g", embedded_replay_budget_s=2.0)
    create, ordered = (
        test_queries.get("test_create_chain"),
        test_queries.get("test_customers_ordered"),
    )
    try:
        with open_store(settings) as store:
            store.write_rows(create, _chain(60_000), batch_size=5_000)
            store.write_rows(
                create, _chain(5_000, 60_000), batch_size=1_000
            )  # the uncompacted tail
            before = store.read(ordered)
            assert isinstance(store, FalkorStore) and store.server is not None
            info = store.server.status()
        assert info is not None and len(before) == 65_000
        time.sleep(1.2)  # appendfsync everysec: what was acknowledged a second ago is on disk
        os.kill(info.pid, signal.SIGKILL)

        t0 = time.monotonic()
        with open_store(settings) as store:
            restart_s = time.monotonic() - t0
            after = store.read(ordered)
        print(f"restart after kill -9: {restart_s:.2f}s for {len(after)} customers")
        assert after == before
        assert restart_s < MAX_RESTART_S
    finally:
        EmbeddedServer(data).stop()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is already in use"):
            EmbeddedServer(tmp_path / "data", port=port).ensure_running()


def test_unusable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match=r"data directory .* is not usable"):
        EmbeddedServer(blocker / "data").ensure_running()


def test_non_loopback_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        EmbeddedServer(tmp_path, host="0.0.0.0")


def test_corrupt_data_is_reported_not_hung(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = EmbeddedServer(data, start_timeout_s=20)
    srv.ensure_running()
    srv.stop()
    manifest = data / "appendonlydir" / "appendonly.aof.manifest"
    manifest.write_text("garbage\n")
    with pytest.raises(StoreUnavailable, match="exited during start-up"):
        srv.ensure_running()


def test_a_store_follows_its_server_through_a_crash(tmp_path: Path) -> None:
    """A long-lived client (the API) keeps working after kill -9 and a restart."""
    from graph.queries import get_queries

    data = tmp_path / "data"
    q = get_queries()
    try:
        with open_store(Settings(data_dir=data)) as store:
            store.write_rows(q.upsert_customers, [{"id": "c1", "props": {}}])
            assert isinstance(store, FalkorStore) and store.server is not None
            first = store.server.status()
            assert first is not None
            time.sleep(1.2)
            os.kill(first.pid, signal.SIGKILL)
            time.sleep(0.2)
            with pytest.raises(StoreUnavailable):
                store.read(q.customer_by_id, {"id": "c1"})
            same, _ = EmbeddedServer(data).ensure_running()
            assert same.port == first.port  # it comes back where clients expect it
            assert store.read_one(q.customer_by_id, {"id": "c1"}) is not None

            os.kill(same.pid, signal.SIGKILL)
            time.sleep(0.2)
            with socket.socket() as blocker:  # the old port is taken while it restarts
                blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                blocker.bind(("127.0.0.1", same.port))
                blocker.listen()
                moved, _ = EmbeddedServer(data).ensure_running()
            assert moved.port != same.port
            assert store.read_one(q.customer_by_id, {"id": "c1"}) is not None
            EmbeddedServer(data).stop()
            with pytest.raises(StoreUnavailable):  # nothing to follow: a clear error
                store.write_rows(q.upsert_customers, [{"id": "c2", "props": {}}])
    finally:
        EmbeddedServer(data).stop()
