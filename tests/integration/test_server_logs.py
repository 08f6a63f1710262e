"""The access log of a live uvicorn set up as `ckg serve` sets it up (uvicorn's own logging
config at level info, ckg's protocol): personal identifiers in request paths are masked."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from api.settings import Settings
from tests.helpers import live_server


def _serve_and_request(settings: Settings, paths: list[str]) -> list[int]:
    # Config() installs uvicorn's logging config, whose handlers write to sys.stdout: capsys's
    # capture of the block reads the access log as `ckg serve` writes it.
    with live_server(settings, log_level="info") as free:
        conn = http.client.HTTPConnection("127.0.0.1", free, timeout=10)
        statuses = []
        for path in paths:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            statuses.append(r.status)
        conn.close()
    return statuses


def test_access_log_masks_identifiers_in_paths(
    _isolated_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        data_dir=_isolated_env, graph_name="server_logs", api_keys_file=tmp_path / "keys.json"
    )
    statuses = _serve_and_request(
        settings,
        [
            "/v1/customers/alice.secret%40example.com",
            "/v1/customers/alice.secret@example.com/export",
            "/v1/customers/%2B44%2020%207946%200958",
            "/v1/customers/C17850?email=bob%40example.org",
            "/healthz",
        ],
    )
    assert statuses == [401, 401, 401, 401, 200]
    captured = capsys.readouterr()
    log = captured.out + captured.err
    assert "/healthz HTTP/1.1" in log  # the access log was captured at all
    for secret in ("alice", "example.com", "example.org", "7946"):
        assert secret not in log, log
    assert '"GET /v1/customers/<email> HTTP/1.1" 401' in log
    assert '"GET /v1/customers/<email>/export HTTP/1.1" 401' in log
    assert '"GET /v1/customers/<phone> HTTP/1.1" 401' in log
    assert '"GET /v1/customers/C17850?email=<email> HTTP/1.1" 401' in log
