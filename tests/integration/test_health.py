"""The API process: health and readiness over real HTTP (ASGI) against the real store."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph.errors import CkgError, QueryError, StoreAuthError, StoreUnavailable


def test_health_and_ready_on_the_embedded_store(_isolated_env: Path) -> None:
    with TestClient(create_app(Settings(data_dir=_isolated_env, graph_name="health"))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "engine": "falkordb"}
        assert client.get("/openapi.json").json()["info"]["title"].startswith("ckg")


def test_unreachable_store_is_not_ready_but_alive() -> None:
    app = create_app(Settings(neo4j_uri="bolt://127.0.0.1:9", neo4j_connect_timeout_s=1))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "store_unavailable"


def test_not_ready_says_when_to_retry(_isolated_env: Path) -> None:
    """/readyz's 503 carries the Retry-After a route's 503 carries for the same cause."""
    app = create_app(Settings(neo4j_uri="bolt://127.0.0.1:9", neo4j_connect_timeout_s=1))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"] == "5"

    app = create_app(Settings(data_dir=_isolated_env, graph_name="health_retry"))
    with TestClient(app) as client:
        store = app.state.store
        for error, retry_after in [
            (StoreUnavailable("gone"), "5"),
            (StoreAuthError("refused"), "30"),
            (QueryError("odd answer"), "5"),
        ]:
            app.state.store = FailingPing(error)
            try:
                ready = client.get("/readyz")
            finally:
                app.state.store = store
            assert ready.status_code == 503
            assert ready.json() == {"status": "store_unavailable", "engine": "falkordb"}
            assert ready.headers["retry-after"] == retry_after, error
        assert client.get("/readyz").status_code == 200


class FailingPing:
    def __init__(self, error: CkgError) -> None:
        self.error = error

    def ping(self) -> None:
        raise self.error
