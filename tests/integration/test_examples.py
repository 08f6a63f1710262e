"""examples/bot_turn_loop.py as a user runs it: a subprocess against a live API over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.bot_data import PLAIN_SESSION, VIP_SESSION, LiveApi, live_fixture

ROOT = Path(__file__).resolve().parents[2]
LOOP = ROOT / "examples" / "bot_turn_loop.py"


live = live_fixture()


def loop(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CKG_")}
    return subprocess.run(
        [sys.executable, str(LOOP), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def say_line(live: LiveApi, session: str, max_tokens: int = 400) -> str:
    snippet: str = live.context(session, format="text", max_tokens=max_tokens)
    return next(ln.removeprefix("Say: ") for ln in snippet.splitlines() if ln.startswith("Say: "))


def test_each_turn_says_the_triggers_and_offers_the_first_suggestion(live: LiveApi) -> None:
    env = {"CKG_API_URL": live.url, "CKG_API_KEY": live.key}
    done = loop("--session", VIP_SESSION, "--turns", "hi", "any offers?", env=env)
    assert done.returncode == 0, done.stderr
    say = say_line(live, VIP_SESSION)
    assert say.startswith(live.context(VIP_SESSION)["triggers"][0]["say"])
    first = live.context(VIP_SESSION)["recommendations"][0]
    offer = f"offer: {first['name'].capitalize()} ({first['product_id']})"
    assert done.stdout.splitlines() == [
        "you: hi",
        f"bot: Hello! {say}",
        offer,
        "you: any offers?",
        f"bot: {say}",
        offer,
    ]


def test_turns_from_stdin_with_flags_and_no_consent(live: LiveApi) -> None:
    done = loop(
        "--url",
        live.url,
        "--key",
        live.key,
        "--session",
        PLAIN_SESSION,
        "--max-tokens",
        "120",
        "--show-snippet",
        stdin="hello\n\nwhere is my order?\n",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [ln for ln in lines if ln.startswith("you: ")] == [
        "you: hello",
        "you: where is my order?",
    ]
    bot = [ln for ln in lines if ln.startswith("bot: ")]
    assert bot[0] == f"bot: Hello! {say_line(live, PLAIN_SESSION, 120)}"
    assert "Their cart still holds 2 item(s)" in bot[1]
    snippet = [ln for ln in lines if ln.startswith("  | ")]
    assert snippet and any("no personalization consent" in ln for ln in snippet)
    assert "Gold" not in done.stdout


def test_an_unknown_session_is_greeted_and_a_refused_key_stops(live: LiveApi) -> None:
    env = {"CKG_API_URL": live.url, "CKG_API_KEY": live.key}
    unknown = loop("--session", "bot-no-such-session", "--turns", "hi", env=env)
    assert unknown.returncode == 0, unknown.stderr
    assert unknown.stdout.splitlines() == ["you: hi", "bot: Hello! How can I help you today?"]
    refused = loop("--session", VIP_SESSION, "--turns", "hi", env={**env, "CKG_API_KEY": "nope"})
    assert refused.returncode == 1 and "401" in refused.stderr
    keyless = loop("--url", live.url, "--session", VIP_SESSION, "--turns", "hi")
    assert keyless.returncode == 2 and "CKG_API_KEY" in keyless.stderr
