"""/docs and /redoc work offline: every file they load comes from the API itself.

The pages are checked as served (no other host named anywhere, every file they load answered
by the API) and as rendered by headless Chromium with every host but loopback unresolvable:
the operations show, and the browser's network log shows no request of the page's leaving
127.0.0.1. Locally the browser test skips without Chromium; in CI (CI=true) it must run.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from tests.helpers import live_server, offline_chromium

PAGES = ["/docs", "/redoc"]
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def base(_isolated_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=_isolated_env,
        graph_name="docs_browser",
        api_keys_file=tmp_path_factory.mktemp("docs") / "keys.json",
    )
    with live_server(settings, protocol=False) as port:
        yield f"http://127.0.0.1:{port}"


def _loaded(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]*)"', html)


@pytest.mark.parametrize("page", PAGES)
def test_pages_load_only_files_the_api_serves(base: str, page: str) -> None:
    html = httpx.get(base + page).text
    assert "//" not in html, "a page names another host (or a scheme-relative URL)"
    urls = _loaded(html)
    assert any(u.endswith(".js") for u in urls) and "/openapi.json" in urls
    for url in urls:
        assert url.startswith("/"), url
        r = httpx.get(base + url)
        assert r.status_code == 200, url
        kind = CONTENT_TYPES.get(Path(url).suffix, "application/json")
        assert r.headers["content-type"].startswith(kind), url


def test_vendored_viewers_ship_with_their_licences() -> None:
    static = files("api") / "static"
    for viewer in ("swagger-ui", "redoc"):
        assert "permission" in (static / viewer / "LICENSE").read_text().lower(), viewer


def test_unlisted_asset_is_not_found(base: str) -> None:
    for name in ("LICENSE", "..%2Fdocs.py", "swagger-ui%2Fswagger-ui.css"):
        r = httpx.get(f"{base}/docs/assets/{name}")
        assert r.status_code == 404, name
        assert r.json()["detail"]["reason"] == "route_not_found"


def _render(url: str) -> tuple[str, list[dict[str, Any]]]:
    """The page's DOM once its scripts ran, and the browser's requests (network log)."""
    with tempfile.TemporaryDirectory() as profile:
        netlog = Path(profile) / "netlog.json"
        command = [
            *offline_chromium(f"{profile}/user"),
            "--virtual-time-budget=10000",
            f"--log-net-log={netlog}",
            "--dump-dom",
            url,
        ]
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-3000:]
        return run.stdout, _requests(json.loads(netlog.read_text()))


def _requests(log: dict[str, Any]) -> list[dict[str, Any]]:
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"] for e in log["events"] if e["type"] == start and "url" in e.get("params", {})
    ]


@pytest.mark.parametrize("page", PAGES)
def test_docs_render_offline_in_a_browser(base: str, page: str) -> None:
    dom, requests = _render(base + page)
    document = httpx.get(f"{base}/openapi.json").json()
    operations = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    missing = [op for op in operations if op not in dom]
    assert not missing, f"{page} did not render {missing}"
    assert "/v1/sessions/{session_id}/context" in dom
    # the page's own requests (its site is 127.0.0.1), not the browser's background ones
    ours = [
        r
        for r in requests
        if r.get("network_isolation_key", "").startswith("http://127.0.0.1 ")
        or r.get("initiator", "").startswith(base)
    ]
    assert any(r["url"].endswith("/openapi.json") for r in ours)
    elsewhere = [r["url"] for r in ours if not r["url"].startswith(base + "/")]
    assert not elsewhere, f"{page} loaded {elsewhere}"
