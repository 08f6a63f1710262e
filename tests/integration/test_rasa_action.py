"""The Rasa example's custom action (examples/rasa/actions) in a real rasa-sdk action server.

The action server runs in the example's own venv (`make rasa-venv`: rasa-sdk pins a pydantic
the API's venv does not use), against a live ckg API on the embedded store, and is called as
Rasa calls it: a POST to /webhook with the action's name, the tracker and the domain
(https://rasa.com/docs/action-server/2.x/actions/ shows the payload; the domain is the
example's domain.yml). Its events must set the slots to what the context says.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import free_port
from tests.integration.bot_data import PLAIN_SESSION, VIP_SESSION, LiveApi, live_fixture

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / "examples" / "rasa"
PYTHON = RASA / ".venv" / "bin" / "python"
DOMAIN: dict[str, Any] = yaml.safe_load((RASA / "domain.yml").read_text())
SLOTS = ["segments", "tier", "cart_value", "cart_items", "personalized", "top_trigger"]
GREETING = "Hello! How can I help you today?"


live = live_fixture()


@pytest.fixture(scope="module")
def action_server(live: LiveApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m rasa_sdk --actions actions` on a free port, pointed at the live API."""
    if not PYTHON.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the Rasa example's venv is missing: make rasa-venv")
        pytest.skip("the Rasa example's venv is missing: make rasa-venv")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path_factory.mktemp("rasa-home")),
        "PYTHONPATH": str(ROOT),
        "CKG_API_URL": live.url,
        "CKG_API_KEY": live.key,
    }
    log = tmp_path_factory.mktemp("rasa-log") / "action-server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)],
            cwd=RASA,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _await_health(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def _await_health(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the action server exited:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the action server did not start:\n{log.read_text()}")


def payload(sender: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
    """What Rasa posts to the action server when it predicts action_ckg_context."""
    now = time.time()
    message = {
        "text": "hi",
        "intent": {"name": "greet", "confidence": 0.98},
        "intent_ranking": [{"name": "greet", "confidence": 0.98}],
        "entities": [],
    }
    return {
        "next_action": "action_ckg_context",
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "conversation_id": sender,
            "slots": {name: None for name in DOMAIN["slots"]} | (slots or {}),
            "latest_message": message,
            "latest_event_time": now,
            "followup_action": None,
            "paused": False,
            "events": [
                {"event": "action", "timestamp": now - 2, "name": "action_session_start"},
                {"event": "session_started", "timestamp": now - 2},
                {"event": "action", "timestamp": now - 1, "name": "action_listen"},
                {"event": "user", "timestamp": now, "text": "hi", "parse_data": message},
            ],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": DOMAIN,
        "version": "3.6.20",
    }


def call(url: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    r = httpx.post(f"{url}/webhook", json=body, timeout=30)
    assert r.status_code == 200, r.text
    answer = r.json()
    slots = {e["name"]: e["value"] for e in answer["events"] if e["event"] == "slot"}
    return slots, [m["text"] for m in answer["responses"]]


def test_the_action_fills_the_slots_from_the_context(live: LiveApi, action_server: str) -> None:
    slots, said = call(action_server, payload(VIP_SESSION))
    ctx = live.context(VIP_SESSION)
    assert ctx["personalized"] and ctx["customer"]["segments"]
    assert slots == {
        "segments": [s["name"] for s in ctx["customer"]["segments"]],
        "tier": "Gold",
        "cart_value": 9.0,
        "cart_items": 2,
        "personalized": True,
        "top_trigger": ctx["triggers"][0]["say"],
    }
    assert said == [ctx["triggers"][0]["say"]]
    assert set(SLOTS) <= set(DOMAIN["slots"]) and "action_ckg_context" in DOMAIN["actions"]


def test_the_session_slot_wins_over_the_sender_id(live: LiveApi, action_server: str) -> None:
    slots, said = call(
        action_server, payload("rasa-conversation-1", {"ckg_session_id": PLAIN_SESSION})
    )
    assert (slots["personalized"], slots["tier"], slots["segments"]) == (False, None, None)
    assert (slots["cart_items"], slots["cart_value"]) == (2, 9.0)
    assert said == [live.context(PLAIN_SESSION)["triggers"][0]["say"]]


def test_an_unknown_session_is_answered_with_a_greeting(action_server: str) -> None:
    slots, said = call(action_server, payload("rasa-no-such-session"))
    assert (slots, said) == ({}, [GREETING])
    # an id the API refuses (a control character) is no crash either
    slots, said = call(action_server, payload("bad\x01id"))
    assert (slots, said) == ({}, [GREETING])
