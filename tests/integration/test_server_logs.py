"""The logs of a live uvicorn set up as `ckg serve` sets it up (ckg's logging configuration at
level info, ckg's protocol): personal identifiers in request paths are masked, and every line
of a request carries the id its answer sends back."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

import pytest

from api.logs import LogFormat
from api.settings import Settings
from tests.helpers import live_server


def _serve_and_request(
    settings: Settings,
    paths: list[str],
    log_format: LogFormat = "text",
    headers: list[dict[str, str]] | None = None,
) -> list[tuple[int, str]]:
    """Status and X-Request-ID of each answer. Config() applies the logging configuration,
    whose handlers write to sys.stdout and sys.stderr: capsys's capture of the block reads the
    log as `ckg serve` writes it."""
    with live_server(settings, log_level="info", log_format=log_format) as free:
        conn = http.client.HTTPConnection("127.0.0.1", free, timeout=10)
        answers = []
        for i, path in enumerate(paths):
            conn.request("GET", path, headers=(headers or [{}] * len(paths))[i])
            r = conn.getresponse()
            r.read()
            answers.append((r.status, r.getheader("X-Request-ID") or ""))
        conn.close()
    return answers


@pytest.fixture
def settings(_isolated_env: Path, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=_isolated_env, graph_name="server_logs", api_keys_file=tmp_path / "keys.json"
    )


def test_access_log_masks_identifiers_in_paths(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _serve_and_request(
        settings,
        [
            "/v1/customers/alice.secret%40example.com",
            "/v1/customers/alice.secret@example.com/export",
            "/v1/customers/%2B44%2020%207946%200958",
            "/v1/customers/C17850?email=bob%40example.org",
            "/healthz",
        ],
    )
    assert [status for status, _ in answers] == [401, 401, 401, 401, 200]
    captured = capsys.readouterr()
    log = captured.out + captured.err
    assert "/healthz HTTP/1.1" in log  # the access log was captured at all
    for secret in ("alice", "example.com", "example.org", "7946"):
        assert secret not in log, log
    assert '"GET /v1/customers/<email> HTTP/1.1" 401' in log
    assert '"GET /v1/customers/<email>/export HTTP/1.1" 401' in log
    assert '"GET /v1/customers/<phone> HTTP/1.1" 401' in log
    assert '"GET /v1/customers/C17850?email=<email> HTTP/1.1" 401' in log


def test_json_lines_tie_each_access_to_the_request_id_of_its_answer(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _serve_and_request(
        settings,
        ["/healthz", "/healthz", "/v1/customers/jo%40example.com", "/nowhere"],
        log_format="json",
        headers=[{"X-Request-ID": "bot-turn-42"}, {"X-Request-ID": "two words"}, {}, {}],
    )
    assert [status for status, _ in answers] == [200, 200, 401, 404]
    ids = [rid for _, rid in answers]
    assert ids[0] == "bot-turn-42"
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids[1:]), ids
    assert len(set(ids)) == 4
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in (captured.out + captured.err).splitlines() if x.strip()]
    assert lines, "nothing was logged"
    access = [x for x in lines if x["logger"] == "uvicorn.access"]
    assert [(x["request_id"], x["status"], x["method"]) for x in access] == [
        (rid, status, "GET") for status, rid in answers
    ]
    assert access[2]["path"] == "/v1/customers/<email>"
    assert "example.com" not in captured.out + captured.err
    started = [x for x in lines if x["logger"] == "uvicorn.error"]
    assert started and all(x["request_id"] == "-" for x in started)  # outside any request
