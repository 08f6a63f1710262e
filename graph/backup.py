"""Backups of the embedded store: a consistent snapshot taken while it serves, and its restore.

A backup is one `.tar.gz` holding the server's RDB snapshot (`BGSAVE`: a forked, point-in-time
copy of every graph, so writers never pause) and a manifest naming each graph with its node and
relationship counts and the snapshot's SHA-256. The snapshot file the server writes into its data
directory is moved out at once: it is a full copy of the data, and an erasure must not survive
in a file nobody looks at.

The store runs on its append-only log, which ignores an RDB at start. A restore therefore starts
the server on the snapshot with the log off and switches the log on (Redis then rewrites the log
from memory, the documented way from RDB to AOF); the store is left running and its counts are
checked against the manifest. It refuses a data directory that holds a store already.

Neo4j is backed up with its own tools (`neo4j-admin database dump/load`, see the README).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis

from graph.embedded import EmbeddedServer, ServerInfo
from graph.errors import ClientError, ConfigError, StoreUnavailable
from graph.queries import get_queries
from graph.settings import StoreSettings

logger = logging.getLogger(__name__)

FORMAT = "ckg-embedded-backup"
VERSION = 1
SNAPSHOT = "graphs.rdb"
MANIFEST = "manifest.json"
SAVE_TIMEOUT_S = 600.0


class BackupError(ClientError):
    """A backup file that cannot be restored (not one, damaged), or a target that is not free."""

    reason = "backup_refused"


@dataclass(frozen=True)
class GraphCounts:
    nodes: int
    relationships: int


@dataclass(frozen=True)
class Manifest:
    created_at: float
    sha256: str
    size: int
    graphs: dict[str, GraphCounts] = field(default_factory=dict)
    format: str = FORMAT
    version: int = VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw: dict[str, Any] = json.loads(text)
        if raw.get("format") != FORMAT or raw.get("version") != VERSION:
            raise BackupError(f"not a {FORMAT} version {VERSION} file")
        graphs = {name: GraphCounts(**c) for name, c in raw.pop("graphs", {}).items()}
        return cls(graphs=graphs, **raw)


def _server(settings: StoreSettings) -> EmbeddedServer:
    if settings.resolved_engine != "falkordb":
        raise ConfigError(
            "backups here are of the embedded store; back Neo4j up with "
            "`neo4j-admin database dump` (see the README)"
        )
    return EmbeddedServer(
        settings.data_dir,
        settings.embedded_host,
        settings.embedded_port,
        settings.embedded_start_timeout_s,
    )


def _running(settings: StoreSettings) -> tuple[EmbeddedServer, ServerInfo]:
    server = _server(settings)
    info = server.status()
    if info is None:
        raise StoreUnavailable(f"no embedded store is running for {server.data_dir}")
    return server, info


def _names(listed: Any) -> list[str]:
    return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in listed)


def _total(reply: Any) -> int:
    """The sum of the count column of a non-compact GRAPH.RO_QUERY reply."""
    return sum(int(row[-1]) for row in reply[1])


def _counting(pipe: Any, names: list[str]) -> None:
    q = get_queries()
    for name in names:
        for query in (q.node_counts, q.relationship_counts):
            pipe.execute_command("GRAPH.RO_QUERY", name, query.text_for("falkordb"))


def _graph_counts(server: EmbeddedServer, info: ServerInfo) -> dict[str, GraphCounts]:
    r = server.client(info, timeout=None)
    try:
        names = _names(r.execute_command("GRAPH.LIST"))  # type: ignore[no-untyped-call]
        pipe: Any = r.pipeline(transaction=False)
        _counting(pipe, names)
        replies = pipe.execute()
    finally:
        r.close()
    return {
        name: GraphCounts(_total(replies[2 * i]), _total(replies[2 * i + 1]))
        for i, name in enumerate(names)
    }


def graph_counts(settings: StoreSettings) -> dict[str, GraphCounts]:
    """Every graph the running store holds, with its node and relationship counts."""
    return _graph_counts(*_running(settings))


def backup(settings: StoreSettings, path: Path) -> Manifest:
    """Write a snapshot of the running store to `path` (a .tar.gz), atomically.

    The snapshot is loaded into a scratch server before it is archived: its counts in the
    manifest are those of the snapshot itself (not of the live store, which moves on while
    writers run), and a snapshot that does not load is never written as a backup."""
    server, info = _running(settings)
    path = path.expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".ckg-backup-", dir=path.parent))
    try:
        dump = scratch / "data" / "dump.rdb"
        dump.parent.mkdir()
        shutil.move(_save(server, info), dump)
        digest, size = _sha256(dump)
        manifest = Manifest(time.time(), digest, size, _snapshot_counts(settings, dump.parent))
        _write_archive(path, dump, manifest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info("backup of %s written to %s (%d bytes)", server.data_dir, path, size)
    return manifest


def _snapshot_counts(settings: StoreSettings, data_dir: Path) -> dict[str, GraphCounts]:
    loader = EmbeddedServer(data_dir, settings.embedded_host, 0, settings.embedded_start_timeout_s)
    info = loader.start_from_snapshot()
    try:
        return _graph_counts(loader, info)
    finally:
        loader.stop()


def _save(server: EmbeddedServer, info: ServerInfo) -> Path:
    """BGSAVE (a forked, point-in-time copy) and wait for it; the file is the server's."""
    r = server.client(info, timeout=None)
    try:
        before = int(r.info("persistence").get("rdb_saves", 0))
        _start_bgsave(r)
        _wait_saved(r, before)
        dbfile = str(r.config_get("dbfilename").get("dbfilename", "dump.rdb"))
    finally:
        r.close()
    return server.data_dir / dbfile


def _start_bgsave(r: redis.Redis) -> None:
    """A log rewrite in progress makes Redis refuse a BGSAVE for a moment: wait it out."""
    deadline = time.monotonic() + SAVE_TIMEOUT_S
    while True:
        try:
            r.bgsave()
            return
        except redis.exceptions.ResponseError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _wait_saved(r: redis.Redis, before: int) -> None:
    deadline = time.monotonic() + SAVE_TIMEOUT_S
    while True:
        p = r.info("persistence")
        if not p.get("rdb_bgsave_in_progress"):
            if int(p.get("rdb_saves", 0)) > before and p.get("rdb_last_bgsave_status") == "ok":
                return
            if p.get("rdb_last_bgsave_status") != "ok":
                raise StoreUnavailable("the embedded store could not write its snapshot")
        if time.monotonic() > deadline:
            raise StoreUnavailable(f"the snapshot took over {SAVE_TIMEOUT_S:.0f}s")
        time.sleep(0.05)


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _write_archive(path: Path, dump: Path, manifest: Manifest) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".backup-", dir=path.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(dump, arcname=SNAPSHOT)
            data = manifest.to_json().encode()
            entry = tarfile.TarInfo(MANIFEST)
            entry.size, entry.mtime, entry.mode = len(data), int(manifest.created_at), 0o600
            tar.addfile(entry, io.BytesIO(data))
        os.chmod(tmp, 0o600)  # it is the whole customer graph
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise BackupError(f"{path}: no {MANIFEST}")
            return Manifest.from_json(member.read().decode())
    except (OSError, tarfile.TarError, KeyError, ValueError, TypeError) as exc:
        raise BackupError(f"{path}: not a readable backup ({exc})") from exc


def restore(settings: StoreSettings, path: Path) -> Manifest:
    """Restore `path` into the settings' data directory, which must hold no store yet; the
    store is left running there."""
    manifest = read_manifest(path)
    server = _server(settings)
    _check_target(server)
    server.data_dir.mkdir(parents=True, exist_ok=True)
    dump = server.data_dir / "dump.rdb"
    _extract_snapshot(path, dump, manifest)
    try:
        info = server.serve_snapshot()
    except BaseException:
        _clear(server.data_dir)
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            dump.unlink()
    found = _graph_counts(server, info)
    if found != manifest.graphs:
        raise StoreUnavailable(
            f"restored graphs {found} differ from the backup's {manifest.graphs}"
        )
    logger.info("restored %s into %s", path, server.data_dir)
    return manifest


def _check_target(server: EmbeddedServer) -> None:
    if server.status() is not None:
        raise BackupError(f"a store is running for {server.data_dir}; stop it first")
    if server.has_data():
        raise BackupError(
            f"{server.data_dir} holds a store already; restore into an empty data directory"
        )


def _extract_snapshot(path: Path, dump: Path, manifest: Manifest) -> None:
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.extractfile(SNAPSHOT)
            if member is None:
                raise BackupError(f"{path}: no {SNAPSHOT}")
            with dump.open("wb") as out:
                shutil.copyfileobj(member, out)
    except (OSError, tarfile.TarError, KeyError) as exc:
        raise BackupError(f"{path}: not a readable backup ({exc})") from exc
    digest, size = _sha256(dump)
    if (digest, size) != (manifest.sha256, manifest.size):
        dump.unlink()
        raise BackupError(f"{path}: the snapshot does not match its manifest (damaged file?)")


def _clear(data_dir: Path) -> None:
    """Undo a failed restore: the directory held nothing of value before it."""
    for child in data_dir.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                child.unlink()
