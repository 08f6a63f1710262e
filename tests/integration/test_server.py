"""`ckg serve`'s HTTP protocol (api.server) on a live uvicorn over loopback: answers whole,
keep-alive intact, HEAD and errors included."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from api.server import HttpProtocol
from api.settings import Settings


@pytest.fixture
def port(_isolated_env: Path, tmp_path: Path) -> Iterator[int]:
    settings = Settings(
        data_dir=_isolated_env, graph_name="server_protocol", api_keys_file=tmp_path / "keys.json"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=free,
            http=HttpProtocol,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield free
    server.should_exit = True
    thread.join(10)


def test_one_connection_many_answers(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for method, path, status in [
        ("GET", "/healthz", 200),
        ("HEAD", "/healthz", 405),
        ("GET", "/openapi.json", 200),
        ("GET", "/nope", 404),
        ("GET", "/v1/sessions/s/context", 401),
        ("HEAD", "/readyz", 405),
        ("GET", "/readyz", 200),
    ]:
        conn.request(method, path)
        r = conn.getresponse()
        body = r.read()
        assert r.status == status, (method, path, body)
        if method == "HEAD":
            assert body == b""
        else:
            assert len(body) == int(r.headers["content-length"]) > 0
    assert conn.sock is not None  # still the same keep-alive connection
    conn.close()
