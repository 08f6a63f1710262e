"""`ckg serve`: the HTTP API under uvicorn, with ckg's own HTTP protocol class."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from typing import Annotated

import typer

from api.cli.common import settings
from api.logs import log_config
from api.metrics import MULTIPROC_ENV
from graph.errors import ConfigError


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    s = settings()  # fail on bad settings before binding a port
    check_port(host, port)
    with _metrics_dir(workers):
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http="api.server:HttpProtocol",
            log_config=log_config(s.log_format, s.log_level),
            log_level=s.log_level,
        )


@contextlib.contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """Several workers share their metrics through files in a fresh directory (Prometheus'
    multiprocess mode; a directory left from an earlier run would add its counts in). The
    workers are new interpreters and read it from the environment when they start."""
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    path = tempfile.mkdtemp(prefix="ckg-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(path, ignore_errors=True)


def check_port(host: str, port: int) -> None:
    """Bind and release the address as uvicorn will bind it, so a port in use is one line and a
    configuration error: uvicorn starts the app (and the store) before it binds, and when the
    bind fails it logs and exits 3, the code of an unavailable store."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} on {host} is already in use") from None
            raise ConfigError(
                f"cannot listen on {host} port {port}: {exc.strerror or exc}"
            ) from None
        except OverflowError:
            raise ConfigError(f"port {port} is not a TCP port (0-65535)") from None
