"""`ckg mcp` driven by the MCP SDK's own client, over stdio and streamable HTTP, against the live
API on the embedded store: the tools a key's scopes allow, answers equal to REST's, refusals as
tool errors carrying the API's reason."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from api.auth import create_key
from api.settings import Settings
from tests.helpers import event_builder, free_port, live_server

ev = event_builder("mcp")
WHO = {"customer_id": "mcp-1"}
SESSION = "mcp-s1"
EVENTS = [
    ev("consent_changed", "2011-12-01T08:00:00Z", purpose=p, granted=True, source="t", **WHO)
    for p in ("analytics", "personalization")
] + [
    ev(
        "product_view",
        f"2011-12-01T09:0{i}:00Z",
        session_id=SESSION,
        product_id=f"mcp-p{i}",
        dwell_ms=500,
        **WHO,
    )
    for i in range(3)
]
CHAT_TOOLS = {
    "get_session_context",
    "recommend_for_customer",
    "recommend_for_session",
    "similar_products",
}


class Live:
    def __init__(self, url: str, keys: dict[str, str]) -> None:
        self.url, self.keys = url, keys

    def rest(self, path: str, key: str = "bot", **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[key]}"}
        return httpx.get(self.url + path, params=params, headers=headers)


@pytest.fixture(scope="module")
def live(module_api_settings: Settings) -> Iterator[Live]:
    settings = module_api_settings
    file = settings.api_keys_file
    keys = {
        "bot": create_key(file, "bot", ["chatbot:read"]),
        "agent": create_key(file, "agent", ["chatbot:read", "ingest:write"]),
        "analyst": create_key(file, "analyst", ["analyst:read"]),
    }
    with live_server(settings) as port:
        live = Live(f"http://127.0.0.1:{port}", keys)
        r = httpx.post(
            live.url + "/v1/events",
            json={"events": EVENTS},
            headers={"Authorization": f"Bearer {keys['agent']}"},
        )
        assert r.status_code == 200, r.text
        yield live


def _env(live: Live, key: str) -> dict[str, str]:
    env = {"CKG_MCP_API_URL": live.url, "CKG_MCP_API_KEY": live.keys[key]}
    if "PYTHONPATH" in os.environ:  # the checkout under test, not an installed copy
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _stdio(live: Live, key: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "api.cli", "mcp"], env=_env(live, key)
    )


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


def test_stdio_tools_answer_as_the_api(live: Live) -> None:
    async def session() -> dict[str, Any]:
        async with Client(_stdio(live, "agent")) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            context = await client.call_tool(
                "get_session_context",
                {"session_id": SESSION, "max_tokens": 80, "at": "2011-12-01T09:05:00Z"},
            )
            recs = await client.call_tool("recommend_for_customer", {"customer_id": "mcp-1"})
            session_recs = await client.call_tool(
                "recommend_for_session", {"session_id": SESSION, "k": 2}
            )
            similar = await client.call_tool("similar_products", {"sku": "mcp-p0", "k": 3})
            event = ev(
                "chat_turn", "2011-12-01T09:06:00Z", session_id=SESSION, intent="gifts", **WHO
            )
            first = await client.call_tool("record_event", {"event": event})
            again = await client.call_tool("record_event", {"event": event})
            bad = await client.call_tool("record_event", {"event": {"type": "nonsense"}})
            return {
                "tools": tools,
                "context": context,
                "recs": recs,
                "session_recs": session_recs,
                "similar": similar,
                "first": first,
                "again": again,
                "bad": bad,
            }

    out = asyncio.run(session())
    assert out["tools"] == CHAT_TOOLS | {"record_event"}
    text = live.rest(
        f"/v1/sessions/{SESSION}/context",
        format="text",
        max_tokens=80,
        at="2011-12-01T09:05:00Z",
    ).text
    assert out["context"].content[0].text == text and "mcp-p" in text
    assert _structured(out["recs"]) == live.rest("/v1/customers/mcp-1/recommendations", k=5).json()
    assert (
        _structured(out["session_recs"])
        == live.rest(f"/v1/sessions/{SESSION}/recommendations", k=2).json()
    )
    assert _structured(out["similar"]) == live.rest("/v1/products/mcp-p0/similar", k=3).json()
    assert _structured(out["first"])["status"] == "accepted"
    assert _structured(out["again"])["status"] == "duplicate"
    bad = _structured(out["bad"])
    assert bad["status"] == "rejected" and bad["reason"]


def test_tools_follow_the_keys_scopes_and_refusals_carry_the_reason(live: Live) -> None:
    async def session(key: str) -> tuple[set[str], Any, Any]:
        async with Client(_stdio(live, key)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            missing = await client.call_tool("get_session_context", {"session_id": "mcp-none"})
            ungranted = await client.call_tool("record_event", {"event": EVENTS[0]})
            return tools, missing, ungranted

    tools, missing, ungranted = asyncio.run(session("bot"))
    assert tools == CHAT_TOOLS  # no record_event without ingest:write
    assert missing.is_error and "session_not_found: no session" in missing.content[0].text
    assert ungranted.is_error and "record_event" in ungranted.content[0].text
    tools, _, _ = asyncio.run(session("analyst"))
    assert tools == set()


def test_a_refused_key_stops_the_server_with_a_configuration_error(live: Live) -> None:
    env = {**os.environ, "CKG_MCP_API_URL": live.url, "CKG_MCP_API_KEY": "wrong"}
    run = subprocess.run(
        [sys.executable, "-m", "api.cli", "mcp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 2, run.stderr
    assert "refused the key" in run.stderr and "Traceback" not in run.stderr


def test_streamable_http_serves_the_same_tools(live: Live) -> None:
    port = free_port()
    env = {**os.environ, **_env(live, "bot")}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "mcp", "--transport", "http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the MCP server did not start"
                time.sleep(0.2)

        async def session() -> tuple[set[str], Any]:
            async with Client(url) as client:
                tools = {t.name for t in (await client.list_tools()).tools}
                recs = await client.call_tool("recommend_for_session", {"session_id": SESSION})
                return tools, recs

        tools, recs = asyncio.run(session())
    finally:
        server.terminate()
        server.wait(10)
    assert tools == CHAT_TOOLS
    expected = live.rest(f"/v1/sessions/{SESSION}/recommendations", k=5).json()
    assert json.loads(json.dumps(_structured(recs))) == expected
