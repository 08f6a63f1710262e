"""The context API answers what the store holds, however the graph's schema grew meanwhile.

One app (TestClient, so the native async read path answers) on one graph. Loads through
POST /v1/events and `ingest_file`, and the embedding and segment write-backs, create
relationship types and property keys after the first context reads had their query planned.
After each step every session touched so far is read through the API, and the answer must be
the one built from the synchronous read of the same query, which in turn must equal a read of a
copy of the graph (GRAPH.COPY: a graph with no cached plans).

The embedded server is also killed and restarted under a running app: the first read after it
is back must be answered promptly.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import SCOPES, create_key
from api.context import build_context
from api.settings import Settings
from embeddings.pipeline import run_embed
from embeddings.recommender import BlendParams
from embeddings.segments import run_segments
from embeddings.train import EmbedParams
from graph.catalog import Query
from graph.embedded import EmbeddedServer
from graph.queries import get_queries
from graph.records import SessionContextRecord
from graph.store import Store, open_store
from ingest.run import ingest_file

AT = "2011-12-31T12:00:00Z"
NOW_MS = int(datetime.fromisoformat(AT).timestamp() * 1000)
FAST = EmbedParams(dimensions=16, num_walks=3, walk_length=10, epochs=1, seed=5)
START = datetime.fromisoformat("2011-08-01T10:00:00+00:00")
_ids = itertools.count()


def ev(kind: str, ts: datetime | str, **fields: Any) -> dict[str, Any]:
    stamp = ts if isinstance(ts, str) else ts.isoformat().replace("+00:00", "Z")
    return {"type": kind, "event_id": f"cc{next(_ids)}", "timestamp": stamp, **fields}


def consents(who: dict[str, str], ts: str = "2011-07-01T00:00:00Z") -> list[dict[str, Any]]:
    return [
        ev("consent_changed", ts, purpose=p, granted=True, source="test", **who)
        for p in ("analytics", "personalization")
    ]


class Harness:
    """The app, its store, and the sessions touched so far."""

    def __init__(self, client: TestClient, settings: Settings, keys: dict[str, str]) -> None:
        self.client, self.settings, self.keys = client, settings, keys
        self.app = cast(FastAPI, client.app)
        self.store: Store = self.app.state.store
        self.sessions: set[str] = set()

    def post(self, *events: dict[str, Any]) -> None:
        r = self.client.post(
            "/v1/events",
            json={"events": list(events)},
            headers={"Authorization": f"Bearer {self.keys['ingest:write']}"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["rejected"] == 0, r.text
        self.sessions |= {e["session_id"] for e in events if e.get("session_id")}

    def context(self, session: str, *, replay: bool = True) -> Any:
        """The API's answer; replayed at AT (after all the data) so the clock is fixed."""
        r = self.client.get(
            f"/v1/sessions/{session}/context",
            params={"at": AT} if replay else {},
            headers={"Authorization": f"Bearer {self.keys['chatbot:read']}"},
        )
        assert r.status_code == 200, (session, r.text)
        return r.json()

    def expected(self, row: dict[str, Any]) -> Any:
        """The API's answer built from a synchronous read, the way the route builds it."""
        ctx = build_context(
            SessionContextRecord.model_validate(row),
            rules=self.app.state.rules,
            purpose="personalization",
            now_ms=NOW_MS,
            popular=self.client.portal.call(self.app.state.popular.top, 20),  # type: ignore[union-attr]
            tz=None,
            default_tz=self.settings.default_timezone,
            device=None,
            verbosity=None,
            replay=True,
        )
        return json.loads(ctx.model_dump_json())

    def check(self) -> int:
        """Every touched session: API == built from the sync read; sync read == fresh plans.
        Returns how many searches the sessions hold (the steps assert the data grew)."""
        q = get_queries().session_context
        fresh = self._copy_reads()
        searches = 0
        for session in sorted(self.sessions):
            live = {"session_id": session, "purpose": "personalization", "recs": 20, "at": None}
            rows = self.store.read(q, live)
            assert rows == fresh[session], session
            # the API's read path (native async client, its own reply decoder)
            assert self.client.portal.call(self.store.aread, q, live) == rows, session  # type: ignore[union-attr]
            answer = self.context(session)
            replayed = self.store.read(q, {**live, "at": NOW_MS})
            assert answer == self.expected(replayed[0]), session
            searches += len(answer["session"]["searches"])
        return searches

    def _copy_reads(self) -> dict[str, list[dict[str, Any]]]:
        """The same reads on a copy of the graph: its plans are built now, on today's schema."""
        info = EmbeddedServer(self.settings.data_dir).status()
        assert info is not None
        name = f"{self.settings.graph_name}_copy"
        raw = EmbeddedServer.client(info)
        try:
            raw.execute_command("GRAPH.COPY", self.settings.graph_name, name)  # type: ignore[no-untyped-call]
            copy = Settings(data_dir=self.settings.data_dir, graph_name=name, auto_schema=False)
            q = get_queries().session_context
            with open_store(copy) as other:
                return {
                    s: other.read(
                        q, {"session_id": s, "purpose": "personalization", "recs": 20, "at": None}
                    )
                    for s in self.sessions
                }
        finally:
            raw.delete(name)
            raw.close()


@pytest.fixture
def harness(_isolated_env: Path, tmp_path: Path) -> Iterator[Harness]:
    settings = Settings(
        data_dir=_isolated_env,
        graph_name=f"cc_{uuid.uuid4().hex[:10]}",
        api_keys_file=tmp_path / "keys.json",
    )
    keys: dict[str, str] = {s: create_key(settings.api_keys_file, s, [s]) for s in SCOPES}
    with TestClient(create_app(settings)) as client:
        yield Harness(client, settings, keys)


def _shop_file(path: Path) -> set[str]:
    """Purchases, views, searches, carts and chat turns of twelve customers over four months:
    enough history for an embedding, and every relationship the context reads."""
    lines: list[dict[str, Any]] = []
    sessions: set[str] = set()
    for k in range(12):
        who = {"customer_id": f"k-{k}"}
        lines += consents(who)
        for visit in range(4):
            at = START + timedelta(days=30 * visit + k)
            session = f"s-k{k}-{visit}"
            sessions.add(session)
            bought = [f"p{(k + visit * (k % 3 + 1)) % 15}", f"p{(2 * k + visit) % 15}"]
            lines.append(
                ev("product_view", at, session_id=session, product_id=bought[0],
                   category_id=f"cat-{k % 3}", dwell_ms=1000 + visit, **who)
            )  # fmt: skip
            lines.append(
                ev("search", at + timedelta(minutes=1), session_id=session,
                   query=f"gift {k % 4}", results=3, **who)
            )  # fmt: skip
            products = sorted(set(bought))
            order = [{"product_id": p, "qty": 1 + visit, "unit_price": 2.5} for p in products]
            lines.append(
                ev("purchase", at + timedelta(minutes=5), session_id=session,
                   order_id=f"o-{k}-{visit}", lines=order,
                   amount=2.5 * (1 + visit) * len(products), currency="GBP", **who)
            )  # fmt: skip
            if visit == 3:
                lines.append(
                    ev("chat_turn", at + timedelta(minutes=6), session_id=session,
                       channel="chat", intent="delivery_time", **who)
                )  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return sessions


def test_context_matches_fresh_reads_while_the_schema_grows(
    harness: Harness, tmp_path: Path
) -> None:
    me, visitor = {"customer_id": "c-1"}, {"anonymous_id": "v-1"}
    # 1. sessions with nothing but a page: no views, searches, carts, orders, edges from
    #    embeddings or segments exist, and the first reads plan the context query
    harness.post(
        *consents(me),
        *consents(visitor),
        ev("page_view", "2011-12-01T09:00:00Z", session_id="s-1", url="/", **me),
        ev("page_view", "2011-12-01T09:00:00Z", session_id="s-v", url="/", **visitor),
    )
    assert harness.check() == 0
    # 2. views, searches and a cart appear (new relationship types and property keys)
    harness.post(
        ev("product_view", "2011-12-01T09:01:00Z", session_id="s-1", product_id="p1",
           category_id="cat-1", dwell_ms=4000, **me),
        ev("search", "2011-12-01T09:02:00Z", session_id="s-1", query="red lantern", **me),
        ev("search", "2011-12-01T09:03:00Z", session_id="s-v", query="blue mug", **visitor),
        ev("add_to_cart", "2011-12-01T09:04:00Z", session_id="s-2", product_id="p2", qty=2,
           unit_price=3.5, currency="GBP", **me),
    )  # fmt: skip
    assert harness.check() == 2
    # 3. a file load: orders, categories, chat turns, many more sessions
    shop = tmp_path / "shop.jsonl"
    file_sessions = _shop_file(shop)
    result, _ = ingest_file(harness.store, shop, dead_letter=tmp_path / "dl.jsonl")
    assert result.reconciliation.rejected == 0, result.reconciliation.by_reason
    harness.sessions |= file_sessions
    assert harness.check() == 2 + len(file_sessions)
    # 4. the embedding writes SIMILAR and RECOMMENDED edges, 5. segments IN_SEGMENT edges
    run_embed(harness.store, FAST, BlendParams(), similar_k=3, recommend_k=5, force=True)
    assert any(
        r["personal"] and r["source"] != "popular"
        for s in file_sessions
        for r in harness.context(s, replay=False)["recommendations"]
    )
    harness.check()
    run_segments(harness.store, seed=3)
    harness.check()
    segmented = harness.context("s-k0-3", replay=False)["customer"]
    assert segmented is not None and segmented["segments"]
    # 6. more events on old sessions, with a key the graph had not seen (checkout)
    harness.post(
        ev("search", "2011-12-01T09:10:00Z", session_id="s-1", query="red lantern", **me),
        ev("checkout_started", "2011-12-01T09:11:00Z", session_id="s-2", **me),
        ev("chat_turn", "2011-12-01T09:12:00Z", session_id="s-1", channel="chat",
           intent="returns", **me),
    )  # fmt: skip
    harness.check()
    searches = harness.context("s-1")["session"]["searches"]
    assert [(s["text"], s["count"]) for s in searches] == [("red lantern", 2)]


def test_a_row_that_does_not_fit_is_a_logged_500_without_its_values(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    me = {"customer_id": "c-1"}
    harness.post(*consents(me), ev("search", AT, session_id="s-1", query="red lantern", **me))
    real = harness.store.aread

    async def damaged(query: Query, params: dict[str, Any] | None = None) -> list[Any]:
        rows = await real(query, params)
        if query.name == "session_context":  # a search without its text, a count that is not
            rows = [{**rows[0], "searches": [{"text": None, "count": "red lantern"}]}]
        return rows

    monkeypatch.setattr(harness.store, "aread", damaged)
    with caplog.at_level(logging.ERROR, logger="api.app"):
        r = harness.client.get(
            "/v1/sessions/s-1/context",
            headers={"Authorization": f"Bearer {harness.keys['chatbot:read']}"},
        )
    assert r.status_code == 500
    assert r.json() == {
        "detail": {
            "reason": "internal_error",
            "message": "the server failed to answer; the cause is in its log",
        }
    }
    (logged,) = [rec for rec in caplog.records if rec.name == "api.app"]
    assert logged.exc_info is not None and logged.exc_info[1] is not None
    error = logged.exc_info[1]
    assert "session_context" in str(error) and "searches.0.text" in str(error)
    assert "red lantern" not in str(error) and error.__cause__ is None


# ------------------------------------------------------------------------------------------
# restart under a running app
# ------------------------------------------------------------------------------------------

# The first read after a restart: one failed attempt on the old connection, following the
# server (its state file), one read. Seconds here meant retries with backoff against a
# server that had a new password or port.
PROMPT_S = 1.0


@pytest.mark.parametrize("moved", [False, True], ids=["same-port", "moved"])
def test_first_read_after_a_restart_is_prompt(tmp_path: Path, moved: bool) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, graph_name="g", api_keys_file=tmp_path / "keys.json")
    reader = create_key(settings.api_keys_file, "chatbot", ["chatbot:read"])
    writer = create_key(settings.api_keys_file, "ingest", ["ingest:write"])
    me = {"customer_id": "c-1"}
    try:
        with TestClient(create_app(settings)) as client:
            events = [*consents(me), ev("search", AT, session_id="s-1", query="x", **me)]
            posted = client.post(
                "/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {writer}"}
            )
            assert posted.status_code == 200, posted.text

            def read() -> tuple[int, float]:
                t0 = time.monotonic()
                r = client.get(
                    "/v1/sessions/s-1/context", headers={"Authorization": f"Bearer {reader}"}
                )
                return r.status_code, time.monotonic() - t0

            assert read()[0] == 200
            first = EmbeddedServer(data).status()
            assert first is not None
            time.sleep(1.2)  # appendfsync everysec
            os.kill(first.pid, signal.SIGKILL)
            time.sleep(0.2)
            with socket.socket() as blocker:  # taken while it restarts: it must move
                if moved:
                    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    blocker.bind(("127.0.0.1", first.port))
                    blocker.listen()
                back, _ = EmbeddedServer(data).ensure_running()
            assert (back.port != first.port) == moved
            status, seconds = read()
            print(
                f"first read after a restart ({'moved' if moved else 'same port'}): {seconds:.3f}s"
            )
            assert status == 200
            assert seconds < PROMPT_S
            assert read()[0] == 200
    finally:
        EmbeddedServer(data).stop()
