"""/explore in headless Chromium, driven over the DevTools protocol.

A live server holds the small sample; the browser enters a key, picks customer_360 for a
customer and runs it: the drawing (cytoscape's model, read from the page) holds that customer's
node and its neighbours, the table shows the rows, and no request of the page leaves 127.0.0.1
(every other host is unresolvable, and the protocol's network events are checked too).
Locally the browser tests skip without Chromium; in CI (CI=true) they must run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import create_key
from api.settings import Settings
from tests.helpers import chromium, live_server, offline_chromium

SMALL = Path(__file__).resolve().parents[1] / "data" / "events_small.jsonl"
CUSTOMER = "cust-1"


@pytest.fixture(scope="module")
def served(module_api_settings: Settings) -> Iterator[tuple[str, str]]:
    """(base URL, a key with analyst:read), the sample loaded."""
    settings = module_api_settings
    key = create_key(settings.api_keys_file, "analyst", ["analyst:read", "ingest:write"])
    with live_server(settings, protocol=False) as port:
        base = f"http://127.0.0.1:{port}"
        events = [json.loads(line) for line in SMALL.read_text().splitlines()]
        r = httpx.post(
            f"{base}/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code in (200, 422), r.text
        yield base, key


class DevTools:
    """Chromium's DevTools protocol over `--remote-debugging-pipe` (fds 3 and 4, messages
    ending in NUL): no WebSocket client needed."""

    def __init__(self, profile: str) -> None:
        self.log_path = Path(profile) / "chromium.log"
        self._log = self.log_path.open("wb")
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()

        # the browser reads the protocol on its fd 3 and writes on its fd 4; its ends are moved
        # above both first, so one dup2 cannot overwrite the other's source
        for fd in (to_child, from_child):
            high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(fd)
            if fd == to_child:
                to_child = high
            else:
                from_child = high
        # a small Python trampoline does the two dup2 calls and execs the browser
        trampoline = (
            "import os, sys; a, b = int(sys.argv[1]), int(sys.argv[2]);"
            " os.dup2(a, 3); os.dup2(b, 4); os.execv(sys.argv[3], sys.argv[3:])"
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                trampoline,
                str(to_child),
                str(from_child),
                *offline_chromium(profile),
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_child, from_child),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session is not None and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next:
                assert "error" not in reply, (method, reply["error"])
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._in], [], [], max(left, 0))
            assert ready, "Chromium did not answer in time"
            chunk = os.read(self._in, 1 << 16)
            assert chunk, "Chromium closed the DevTools pipe: " + self._tail()
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    def _tail(self) -> str:
        self._log.flush()
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(line for line in lines if "dbus" not in line)[-3000:]

    def attach(self) -> None:
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)[
            "sessionId"
        ]

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The expression's value (awaited when it is a promise), as JSON."""
        result = self.call(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout_s: float = 20) -> None:
        """Until `condition` (JavaScript) is true in the page."""
        ms = int(timeout_s * 1000)
        ok = self.evaluate(
            "new Promise(done => { const t0 = Date.now(); const t = setInterval(() => {"
            f" if ({condition}) {{ clearInterval(t); done(true); }}"
            f" else if (Date.now() - t0 > {ms}) {{ clearInterval(t); done(false); }}"
            "}, 50); })",
            timeout=timeout_s + 10,
        )
        assert ok, f"page never reached: {condition}"

    def type_into(self, selector: str, text: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def close(self) -> None:
        """Browser.close first: its helper processes go with it, then the profile can go."""
        with contextlib.suppress(AssertionError, OSError):  # it may go before it answers
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own group (start_new_session)
            self.process.wait(10)
        os.close(self._in)
        os.close(self._out)
        self._log.close()


@pytest.fixture
def browser() -> Iterator[DevTools]:
    chromium()  # skip (or, in CI, fail) before anything starts
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        devtools = DevTools(profile)
        try:
            devtools.attach()
            for domain in ("Page", "Runtime", "Network"):
                devtools.call(f"{domain}.enable")
            yield devtools
        finally:
            devtools.close()


def test_explore_assets_are_built_into_the_package() -> None:
    static = files("api") / "static"
    assert (static / "explore" / "cytoscape.min.js").is_file(), "run `make setup`"
    assert "permission" in (static / "explore" / "LICENSE").read_text().lower()


def test_page_is_public_and_loads_only_this_origin(served: tuple[str, str]) -> None:
    base, _ = served
    r = httpx.get(base + "/explore")
    assert r.status_code == 200 and "//" not in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for name in ("explore.js", "explore.css", "cytoscape.min.js"):
        assert httpx.get(f"{base}/explore/assets/{name}").status_code == 200, name
    assert httpx.get(f"{base}/explore/assets/LICENSE").status_code == 404
    assert httpx.get(f"{base}/v1/analyst/queries").status_code == 401


def test_customer_360_is_drawn_and_tabled(served: tuple[str, str], browser: DevTools) -> None:
    base, key = served
    browser.call("Page.navigate", url=base + "/explore")
    browser.wait_for("window.ckgExplore && document.readyState === 'complete'")
    browser.type_into("#key", key)
    browser.evaluate("document.querySelector('#key-form button').click()")
    browser.wait_for("document.querySelectorAll('#query option').length > 0")
    names = browser.evaluate("[...document.querySelectorAll('#query option')].map(o => o.value)")
    assert "customer_360" in names
    browser.evaluate(
        "const s = document.getElementById('query'); s.value = 'customer_360';"
        "s.dispatchEvent(new Event('change'))"
    )
    browser.type_into("#params input[name=id]", CUSTOMER)
    browser.evaluate("document.querySelector('#query-form button').click()")
    browser.wait_for("window.ckgExplore.last !== null && window.ckgExplore.cy !== null")

    expected = httpx.post(
        f"{base}/v1/analyst/queries/customer_360/run",
        json={"params": {"id": CUSTOMER}},
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    drawn = browser.evaluate(
        "({nodes: ckgExplore.cy.nodes().map(n => n.id()),"
        " keys: ckgExplore.cy.nodes().map(n => n.data('key')),"
        " edges: ckgExplore.cy.edges().map(e => [e.data('source'), e.data('label'),"
        " e.data('target')]),"
        " count: document.getElementById('graph').dataset.nodes,"
        " rows: document.querySelectorAll('#rows tbody tr').length,"
        " headers: [...document.querySelectorAll('#rows th')].map(th => th.textContent),"
        " firstCell: document.querySelector('#rows tbody td').textContent})"
    )
    assert CUSTOMER in drawn["keys"]
    assert sorted(drawn["nodes"]) == sorted(n["id"] for n in expected["nodes"])
    assert len(drawn["nodes"]) > 1 and drawn["count"] == str(len(drawn["nodes"]))
    assert sorted(drawn["edges"]) == sorted(
        [r["start"], r["type"], r["end"]] for r in expected["relationships"]
    )
    assert drawn["headers"] == ["c", "r", "n"]
    assert drawn["rows"] == len(expected["rows"]) > 0
    assert CUSTOMER in drawn["firstCell"]

    sent = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert any(u.endswith("/v1/analyst/queries/customer_360/run") for u in sent)
    assert any(u.endswith("/explore/assets/cytoscape.min.js") for u in sent)
    elsewhere = [u for u in sent if not u.startswith(base + "/")]
    assert not elsewhere, f"the page requested {elsewhere}"
