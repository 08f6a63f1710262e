"""Plain helpers the test modules share: event builders, the API under test, graph snapshots."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from uvicorn.config import LOGGING_CONFIG

from api.app import create_app
from api.auth import SCOPES, create_key
from api.logs import LogFormat, log_config
from api.server import HttpProtocol
from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.store import Store, open_store

SMALL = Path(__file__).resolve().parent / "data" / "events_small.jsonl"

Row = dict[str, Any]
EventBuilder = Callable[..., dict[str, Any]]
# handle used in the tests -> (key name, scopes); the key name shows in the API's own records
KeySpec = Mapping[str, tuple[str, Sequence[str]]]
ONE_KEY_PER_SCOPE: KeySpec = {s: (s, [s]) for s in SCOPES}
ONE_KEY_FOR_ALL: KeySpec = {"all": ("all", list(SCOPES))}


def event_builder(prefix: str) -> EventBuilder:
    """`ev(type, timestamp, **fields)` with event ids `<prefix>0`, `<prefix>1`, ... of its own."""
    ids = itertools.count()

    def ev(event_type: str, ts: str, **fields: Any) -> dict[str, Any]:
        return {"type": event_type, "event_id": f"{prefix}{next(ids)}", "timestamp": ts, **fields}

    return ev


def snapshot(store: Store, tq: QueryCatalog) -> tuple[list[Row], list[Row]]:
    """Every node and every relationship in a fixed order, for "same graph" assertions."""
    return store.read(tq.get("test_nodes_snapshot")), store.read(tq.get("test_graph_snapshot"))


class Api:
    """The app under test, its API keys by handle, and its settings."""

    def __init__(self, client: TestClient, keys: dict[str, str], settings: Settings) -> None:
        self.client, self.keys, self.settings = client, keys, settings

    def h(self, handle: str) -> dict[str, str]:
        """Headers that authenticate with the key of that handle."""
        return {"Authorization": f"Bearer {self.keys[handle]}"}

    def post_events(self, events: Iterable[dict[str, Any]], key: str = "ingest:write") -> Row:
        """POST /v1/events; 200 or 422 (some items refused) both answer item by item."""
        r = self.client.post("/v1/events", json={"events": list(events)}, headers=self.h(key))
        assert r.status_code in (200, 422), r.text
        return dict(r.json())

    def load(self, *events: dict[str, Any]) -> None:
        """POST /v1/events where every item must be taken."""
        r = self.client.post(
            "/v1/events", json={"events": list(events)}, headers=self.h("ingest:write")
        )
        assert r.status_code == 200, r.text

    def context(self, session: str, **params: Any) -> Any:
        r = self.client.get(
            f"/v1/sessions/{session}/context", params=params, headers=self.h("chatbot:read")
        )
        assert r.status_code == 200, r.text
        return r.json() if params.get("format") != "text" else r.text

    @property
    def store(self) -> Store:
        store: Store = self.client.app.state.store  # type: ignore[attr-defined]
        return store


@contextmanager
def running_api(
    settings: Settings,
    keys: KeySpec = ONE_KEY_PER_SCOPE,
    raise_server_exceptions: bool = True,
) -> Iterator[Api]:
    """The app with its lifespan running, and the keys of `keys` in its key file."""
    made = {h: create_key(settings.api_keys_file, name, list(s)) for h, (name, s) in keys.items()}
    with TestClient(create_app(settings), raise_server_exceptions=raise_server_exceptions) as c:
        yield Api(c, made, settings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(
    settings: Settings,
    *,
    log_level: str = "error",
    protocol: bool = True,
    log_format: LogFormat | None = None,
) -> Iterator[int]:
    """The app under a real uvicorn on a free loopback port for the block, with `ckg serve`'s
    HTTP protocol unless `protocol` is false; yields the port. With `log_format`, logging is
    set up as `ckg serve` sets it up, and put back afterwards."""
    port = free_port()
    with restored_logging():
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level=log_level,
            http=HttpProtocol if protocol else "auto",
            log_config=log_config(log_format, log_level) if log_format else LOGGING_CONFIG,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        try:
            yield port
        finally:
            server.should_exit = True
            thread.join(10)


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@contextmanager
def restored_logging() -> Iterator[None]:
    """The handlers, levels and propagation of the root and uvicorn loggers as they were: a
    logging configuration applied in the block must not outlive it (pytest's own capture
    handlers hang on the root)."""
    saved = [
        (lg, list(lg.handlers), lg.level, lg.propagate, lg.disabled)
        for lg in (logging.getLogger(n) for n in _LOGGERS)
    ]
    try:
        yield
    finally:
        for lg, handlers, level, propagate, disabled in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


def chromium() -> str:
    """The browser the page tests drive; skipped without one, except in CI (CI=true)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is required in CI (.ci/run installs the Debian package)")
    pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")


def offline_chromium(user_data_dir: str) -> list[str]:
    """Headless Chromium that resolves no host but loopback and makes no background requests:
    whatever the network log shows is the page's own doing."""
    return [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-features=AutofillServerCommunication",
        f"--user-data-dir={user_data_dir}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ]


def wipe(store: Store, test_queries: QueryCatalog) -> None:
    """Back to an empty graph and the base schema on a server whose one database every test
    shares (Neo4j community); the embedded engine gives each test a graph of its own."""
    if store.engine != "neo4j":
        return
    store.write(test_queries.get("test_delete_all"))
    store.write(test_queries.get("test_drop_product_vector_index"))
    store.write(test_queries.get("test_drop_customer_vector_index"))


def own_files(engine_settings: Settings, tmp_path: Path, **update: Any) -> Settings:
    """The engine's settings with this test's key file, privacy key and `update`, validated
    (a copy with `update` alone would not parse its values)."""
    fields = {
        **engine_settings.model_dump(),
        "api_keys_file": tmp_path / "keys.json",
        "privacy_key_file": tmp_path / "privacy.key",
        **update,
    }
    return Settings(**fields)


def store_env(settings: Settings) -> dict[str, str]:
    """The environment that points a `ckg` command at the store and key files of `settings`."""
    env = {"CKG_DATA_DIR": str(settings.data_dir), "CKG_GRAPH_NAME": settings.graph_name}
    if settings.privacy_key_file:
        env["CKG_PRIVACY_KEY_FILE"] = str(settings.privacy_key_file)
    if settings.neo4j_uri:
        env |= {
            "CKG_NEO4J_URI": settings.neo4j_uri,
            "CKG_NEO4J_USER": settings.neo4j_user,
            "CKG_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        }
    return env


@contextmanager
def emptied(settings: Settings, test_queries: QueryCatalog) -> Iterator[None]:
    """`wipe` the store of `settings` before and after the block (nothing to do on the
    embedded engine, whose tests each name a graph of their own)."""
    if settings.resolved_engine != "neo4j":
        yield
        return
    _wipe_store_of(settings, test_queries)
    try:
        yield
    finally:
        _wipe_store_of(settings, test_queries)


def _wipe_store_of(settings: Settings, test_queries: QueryCatalog) -> None:
    store = open_store(settings)
    try:
        wipe(store, test_queries)
    finally:
        store.close()


def load_clean(
    store: Store, events: Sequence[Mapping[str, Any]], tmp_path: Path, batch_size: int
) -> None:
    """Events through the real loader in batches of `batch_size`; every one must be accepted."""
    from ingest.loader import Loader
    from ingest.report import DeadLetter
    from ingest.sources import SourceRecord

    records = [SourceRecord("test", i, dict(e)) for i, e in enumerate(events, start=1)]
    with DeadLetter(tmp_path / "dead.jsonl") as dl:
        rec = Loader(store, dl, batch_size=batch_size).load(records).reconciliation
    assert rec.rejected == 0 and rec.accepted == len(records), rec.as_dict()
