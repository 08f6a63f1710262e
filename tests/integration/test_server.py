"""`ckg serve`'s HTTP protocol (api.server) on a live uvicorn over loopback: answers whole,
keep-alive intact, HEAD and errors included."""

from __future__ import annotations

import contextlib
import http.client
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.auth import create_key
from api.settings import Settings
from tests.helpers import live_server


def serving(settings: Settings) -> contextlib.AbstractContextManager[int]:
    """The app under uvicorn with ckg's protocol on a free loopback port, for the block."""
    return live_server(settings, log_level="warning")


@pytest.fixture
def port(_isolated_env: Path, tmp_path: Path) -> Iterator[int]:
    settings = Settings(
        data_dir=_isolated_env, graph_name="server_protocol", api_keys_file=tmp_path / "keys.json"
    )
    with serving(settings) as free:
        yield free


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


def test_lone_surrogates_are_a_422_and_the_connection_lives_on(
    _isolated_env: Path, tmp_path: Path
) -> None:
    """JSON's `\\ud800` escape decodes to text the store's client cannot encode: refused as the
    caller's mistake, and the keep-alive connection serves the next request."""
    settings = Settings(
        data_dir=_isolated_env, graph_name="server_surrogates", api_keys_file=tmp_path / "k.json"
    )
    key = create_key(settings.api_keys_file, "loader", ["ingest:write", "chatbot:read"])
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with (
        serving(settings) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client,
    ):

        def local_port(r: httpx.Response) -> int:
            return int(r.extensions["network_stream"].get_extra_info("client_addr")[1])

        first = client.get("/healthz")
        for body in (rb'{"id": "\ud800"}', rb'{"id": "cust-\udc00-1", "country": "DE"}'):
            r = client.post("/v1/customers", content=body)
            assert r.status_code == 422, r.text
            detail = r.json()["detail"]
            assert detail["reason"] == "invalid_request"
            assert detail["errors"][0]["loc"] == ["body", "id"]
            after = client.get("/healthz")
            assert after.status_code == 200
            assert local_port(after) == local_port(r) == local_port(first)  # same connection
        events = client.post("/v1/events", content=rb'{"events": ["\ud800"]}')
        assert events.status_code == 422, events.text
        assert events.json()["items"][0]["reason"] == "not_an_object"
        assert local_port(client.get("/healthz")) == local_port(first)
        ok = client.post("/v1/customers", content=rb'{"id": "cust-\u00e9"}')
        assert ok.status_code == 201 and ok.json()["id"] == "cust-é"
        # percent-escapes of a surrogate in a path or query decode to U+FFFD: plain text
        r = client.get("/v1/customers/cust-%C3%A9/recommendations?category=%ED%A0%80")
        assert r.status_code == 200, r.text
        r = client.get("/v1/customers/%ED%A0%80/recommendations")
        assert r.status_code == 404 and r.json()["detail"]["reason"] == "customer_not_found"
        assert local_port(r) == local_port(first)
