"""How errors leave the API: client errors keep their 4xx and reason, faults of ours are a
generic 500 with the cause in the log, and an unavailable store is a 503 with Retry-After.

The store is a narrow fake: it answers only the one read the routes below make, by raising
whatever the test hands it, so no engine is needed.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.app
from api.app import ANSWERS, answer_for, create_app
from api.auth import AuthError, ScopeError, create_key
from api.context import InvalidParameter
from api.errors import PayloadTooLarge
from api.logs import JsonFormatter, RequestIdFilter
from api.settings import Settings
from graph.errors import (
    CkgError,
    ConfigError,
    CustomerNotFound,
    QueryCatalogError,
    QueryError,
    ReadOnlyViolation,
    StoreAuthError,
    StoreUnavailable,
)
from privacy.masking import MaskingFilter
from privacy.subjects import ErasureIncomplete

ENGINE_TEXT = "Neo.ClientError.Statement.SyntaxError at bolt://10.1.2.3:7687"


class FakeStore:
    """Raises `error` from the profile read; empty otherwise."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def read_models(self, *_: Any) -> list[Any]:
        if self.error is not None:
            raise self.error
        return []

    async def aclose(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def app_with_fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, FakeStore, dict[str, str]]]:
    store = FakeStore()
    monkeypatch.setattr(api.app, "open_store", lambda _settings: store)
    settings = Settings(api_keys_file=tmp_path / "keys.json", privacy_key="test-only-key")
    key = create_key(settings.api_keys_file, "bot", ["chatbot:read"])
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, store, {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    "error",
    [
        QueryError(ENGINE_TEXT),
        ReadOnlyViolation(ENGINE_TEXT),
        QueryCatalogError(ENGINE_TEXT),
        ConfigError(ENGINE_TEXT),
    ],
)
def test_a_store_fault_is_a_generic_500_and_its_cause_is_logged(
    app_with_fake: tuple[TestClient, FakeStore, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
    error: CkgError,
) -> None:
    client, store, h = app_with_fake
    store.error = error
    with caplog.at_level(logging.ERROR, logger="api.app"):
        r = client.get("/v1/customers/c-1", headers=h)
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json()["detail"]["reason"] == "internal_error"
    assert "10.1.2.3" not in r.text and "Neo." not in r.text
    logged = [rec for rec in caplog.records if rec.name == "api.app"]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert logged[0].exc_info[1] is error
    assert "/v1/customers/c-1" in logged[0].getMessage()


def test_an_unavailable_store_is_a_503_without_the_driver_text(
    app_with_fake: tuple[TestClient, FakeStore, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, store, h = app_with_fake
    for error, reason, retry in (
        (StoreUnavailable(ENGINE_TEXT), "store_unavailable", "5"),
        (StoreAuthError(ENGINE_TEXT), "store_auth_failed", "30"),
    ):
        store.error = error
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="api.app"):
            r = client.get("/v1/customers/c-1", headers=h)
        assert (r.status_code, r.headers["retry-after"]) == (503, retry)
        assert r.json()["detail"]["reason"] == reason
        assert "10.1.2.3" not in r.text
        assert any(ENGINE_TEXT in rec.getMessage() for rec in caplog.records)


def test_client_errors_keep_their_status_reason_and_message(
    app_with_fake: tuple[TestClient, FakeStore, dict[str, str]],
) -> None:
    client, store, h = app_with_fake
    r = client.get("/v1/customers/c-1", headers=h)  # the fake finds nobody
    assert r.status_code == 404
    assert r.json()["detail"] == {
        "reason": "customer_not_found",
        "message": "no customer 'c-1'",
    }
    store.error = CustomerNotFound("no customer 'c-2'")
    r = client.get("/v1/customers/c-2", headers=h)
    assert (r.status_code, r.json()["detail"]["reason"]) == (404, "customer_not_found")
    # the bare root is a usage error: a lookup with neither e-mail nor phone
    r = client.post("/v1/customers/lookup", json={}, headers=h)
    assert r.status_code == 400
    assert r.json()["detail"] == {
        "reason": "ckg_error",
        "message": "give an e-mail address or a phone number",
    }
    r = client.get("/v1/customers/c-1")
    assert (r.status_code, r.json()["detail"]["reason"]) == (401, "unauthenticated")


def test_an_unexpected_exception_is_the_same_500_envelope(
    app_with_fake: tuple[TestClient, FakeStore, dict[str, str]],
) -> None:
    client, store, h = app_with_fake
    store.error = RuntimeError(ENGINE_TEXT)
    r = client.get("/v1/customers/c-1", headers=h)
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json()["detail"]["reason"] == "internal_error"
    assert "10.1.2.3" not in r.text


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (AuthError("x"), 401, "unauthenticated"),
        (ScopeError("x"), 403, "forbidden"),
        (CustomerNotFound("x"), 404, "customer_not_found"),
        (PayloadTooLarge("x"), 413, "payload_too_large"),
        (InvalidParameter("x"), 422, "invalid_parameter"),
        (CkgError("x"), 400, "ckg_error"),
        (StoreUnavailable("x"), 503, "store_unavailable"),
        (StoreAuthError("x"), 503, "store_auth_failed"),
        (ErasureIncomplete("x"), 500, "erasure_unverified"),
        (QueryError("x"), 500, "internal_error"),
        (ConfigError("x"), 500, "internal_error"),
    ],
)
def test_one_table_maps_every_error(error: CkgError, status: int, reason: str) -> None:
    answer = answer_for(error)
    assert (answer.status, answer.reason or error.reason) == (status, reason)


def test_an_error_class_without_an_entry_is_a_fault() -> None:
    class Unforeseen(CkgError):
        reason = "unforeseen"

    assert Unforeseen not in ANSWERS
    answer = answer_for(Unforeseen("engine text"))
    assert (answer.status, answer.reason) == (500, "internal_error")


def test_a_fault_is_logged_under_the_request_id_the_answer_carries(
    app_with_fake: tuple[TestClient, FakeStore, dict[str, str]],
) -> None:
    client, store, h = app_with_fake
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskingFilter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("api.app")
    logger.addHandler(handler)
    try:
        store.error = QueryError("no index for jane@example.com")
        given = client.get("/v1/customers/c-1", headers={**h, "X-Request-ID": "turn-42"})
        fresh = client.get("/v1/customers/c-1", headers={**h, "X-Request-ID": "not sane!"})
    finally:
        logger.removeHandler(handler)
    assert (given.status_code, given.headers["x-request-id"]) == (500, "turn-42")
    assert fresh.status_code == 500
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["request_id"] == "turn-42"
    assert second["request_id"] == fresh.headers["x-request-id"]
    assert "QueryError: no index for <email>" in first["exception"]
    assert "jane@" not in out.getvalue()
    ok = client.get("/healthz")
    assert ok.headers["x-request-id"] not in (given.headers["x-request-id"], second["request_id"])
