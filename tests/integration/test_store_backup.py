"""Backups of the embedded store: taken while it serves, restored into a fresh directory whole.

Real servers and real files: a store is loaded through the ingestion pipeline, backed up (also
while a writer runs), and restored into another data directory, where the graph must be the same.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import Settings
from graph.backup import BackupError, backup, read_manifest, restore
from graph.catalog import QueryCatalog
from graph.embedded import EmbeddedServer
from graph.errors import ConfigError
from graph.store import Store, open_store
from ingest.loader import Loader
from ingest.report import DeadLetter
from ingest.sources import read_jsonl
from tests.helpers import snapshot
from tests.integration.test_cli import assert_one_line_error, run

SMALL = Path(__file__).resolve().parents[1] / "data" / "events_small.jsonl"


def _settings(root: Path, graph: str = "ckg") -> Settings:
    return Settings(data_dir=root / "data", graph_name=graph)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Settings]:
    s = _settings(tmp_path / "a")
    yield s
    EmbeddedServer(s.data_dir).stop()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Settings]:
    s = _settings(tmp_path / "b")
    yield s
    EmbeddedServer(s.data_dir).stop()


def _loaded(s: Settings, tmp: Path) -> Store:
    store = open_store(s)
    with DeadLetter(tmp / "dead.jsonl") as dl:
        assert Loader(store, dl).load(read_jsonl(SMALL)).reconciliation.accepted > 0
    return store


def test_a_restore_holds_the_identical_graph_and_no_snapshot_stays_behind(
    source: Settings, target: Settings, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    store = _loaded(source, tmp_path)
    other = open_store(source.model_copy(update={"graph_name": "second"}))
    other.write(test_queries.get("test_create_chain"), {"rows": [{"id": "x", "prev": None}]})
    before = snapshot(store, test_queries)
    manifest = backup(source, tmp_path / "backups" / "one.tar.gz")
    # the server's own snapshot file is a full copy of the data: it must not stay behind
    assert not (source.data_dir / "dump.rdb").exists()
    assert set(manifest.graphs) == {"ckg", "second"}
    assert manifest.graphs["second"].nodes == 1
    assert manifest.graphs["ckg"].nodes == len(before[0]) > 0
    assert manifest.graphs["ckg"].relationships == len(before[1]) > 0
    assert oct((tmp_path / "backups" / "one.tar.gz").stat().st_mode & 0o777) == "0o600"
    store.close()
    other.close()

    assert restore(target, tmp_path / "backups" / "one.tar.gz") == manifest
    with open_store(target) as restored:
        assert snapshot(restored, test_queries) == before
    # the restored directory starts from its own log afterwards, like any store
    EmbeddedServer(target.data_dir).stop()
    assert not (target.data_dir / "dump.rdb").exists()
    with open_store(target) as again:
        assert snapshot(again, test_queries) == before


def test_a_backup_taken_during_writes_is_one_point_in_time(
    source: Settings, target: Settings, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    """Each write adds a link to a chain; a consistent snapshot holds an unbroken chain of
    some length, and exactly the counts its manifest names."""
    store = open_store(source)
    chain = test_queries.get("test_create_chain")
    store.write(chain, {"rows": [{"id": "n0", "prev": None}]})
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            i = written[0] + 1
            store.write(chain, {"rows": [{"id": f"n{i}", "prev": f"n{i - 1}"}]})
            written[0] = i

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 20:
            threading.Event().wait(0.01)
        manifest = backup(source, tmp_path / "live.tar.gz")
    finally:
        stop.set()
        thread.join()
    store.close()
    assert written[0] > 20
    EmbeddedServer(source.data_dir).stop()

    restore(target, tmp_path / "live.tar.gz")
    with open_store(target) as restored:
        nodes, rels = snapshot(restored, test_queries)
    ids = sorted(int(n["id"][1:]) for n in nodes)
    assert ids == list(range(len(ids))) and len(ids) >= 21
    assert sorted((r["a"], r["b"]) for r in rels) == sorted(
        (f"n{i - 1}", f"n{i}") for i in range(1, len(ids))
    )
    assert manifest.graphs["ckg"].nodes == len(ids)
    assert manifest.graphs["ckg"].relationships == len(ids) - 1


def test_restore_refuses_a_directory_that_holds_a_store(
    source: Settings, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    store = _loaded(source, tmp_path)
    before = snapshot(store, test_queries)
    backup(source, tmp_path / "b.tar.gz")
    with pytest.raises(BackupError, match="running"):
        restore(source, tmp_path / "b.tar.gz")
    store.close()
    EmbeddedServer(source.data_dir).stop()
    with pytest.raises(BackupError, match="holds a store"):
        restore(source, tmp_path / "b.tar.gz")
    with open_store(source) as kept:
        assert snapshot(kept, test_queries) == before


def test_a_damaged_or_foreign_file_is_refused_and_leaves_the_target_empty(
    source: Settings, target: Settings, tmp_path: Path
) -> None:
    _loaded(source, tmp_path).close()
    good = tmp_path / "good.tar.gz"
    backup(source, good)
    # a snapshot that does not match its manifest
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(good) as tar_in, tarfile.open(damaged, "w:gz") as tar_out:
        for member in tar_in.getmembers():
            data = tar_in.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name == "graphs.rdb":
                body = body[:-8] + b"\0" * 8
            member.size = len(body)
            tar_out.addfile(member, io.BytesIO(body))
    with pytest.raises(BackupError, match="does not match"):
        restore(target, damaged)
    foreign = tmp_path / "foreign.tar.gz"
    foreign.write_bytes(b"not a backup")
    with pytest.raises(BackupError, match="not a readable backup"):
        restore(target, foreign)
    assert not EmbeddedServer(target.data_dir).has_data()
    assert not (target.data_dir / "dump.rdb").exists()
    assert read_manifest(good).graphs["ckg"].nodes > 0


def test_neo4j_is_backed_up_with_its_own_tools(tmp_path: Path) -> None:
    s = Settings(neo4j_uri="bolt://127.0.0.1:1", data_dir=tmp_path / "data")
    with pytest.raises(ConfigError, match="neo4j-admin database dump"):
        backup(s, tmp_path / "x.tar.gz")


def test_the_cli_backs_up_and_restores(tmp_path: Path, test_queries: QueryCatalog) -> None:
    a, b = tmp_path / "a" / "data", tmp_path / "b" / "data"
    try:
        _loaded(Settings(data_dir=a), tmp_path).close()
        logged = {"CKG_LOG_FORMAT": "json", "CKG_LOG_LEVEL": "info"}
        made = run(
            "store", "backup", str(tmp_path / "cli.tar.gz"), env={"CKG_DATA_DIR": str(a), **logged}
        )
        assert made.returncode == 0, made.stderr
        assert "graph ckg:" in made.stdout
        records = [json.loads(line) for line in made.stderr.splitlines()]
        assert any(
            r["logger"] == "graph.backup" and r["message"].startswith("backup of ") for r in records
        ), made.stderr
        manifest = json.loads(read_manifest(tmp_path / "cli.tar.gz").to_json())
        done = run("store", "restore", str(tmp_path / "cli.tar.gz"), env={"CKG_DATA_DIR": str(b)})
        assert done.returncode == 0, done.stderr
        assert f"{manifest['graphs']['ckg']['nodes']} nodes" in done.stdout
        again = run("store", "restore", str(tmp_path / "cli.tar.gz"), env={"CKG_DATA_DIR": str(b)})
        assert_one_line_error(again, 1, "running")
    finally:
        EmbeddedServer(a).stop()
        EmbeddedServer(b).stop()
