"""POST /v1/events over real HTTP (ASGI) into the store, on each engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.settings import Settings
from graph.queries import get_queries
from graph.store import open_store
from tests.helpers import SMALL, Api, KeySpec, own_files


@pytest.fixture
def api_settings(engine_settings: Settings, tmp_path: Path) -> Settings:
    return own_files(engine_settings, tmp_path, api_max_events=20)


@pytest.fixture
def api_keys() -> KeySpec:
    return {"ingest": ("loader", ["ingest:write"]), "chatbot": ("bot", ["chatbot:read"])}


def events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SMALL.read_text().splitlines()]


def test_auth(api: Api) -> None:
    client, keys = api.client, api.keys
    body = {"events": events()[:1]}
    missing = client.post("/v1/events", json=body)
    assert missing.status_code == 401
    assert missing.json()["detail"]["reason"] == "unauthenticated"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/v1/events", json=body, headers={"Authorization": "Bearer ckg_nope"})
    assert wrong.status_code == 401
    scope = client.post("/v1/events", json=body, headers={"X-API-Key": keys["chatbot"]})
    assert scope.status_code == 403 and scope.json()["detail"]["reason"] == "forbidden"
    ok = client.post("/v1/events", json=body, headers={"Authorization": f"Bearer {keys['ingest']}"})
    assert ok.status_code == 200, ok.text


def test_batch_with_bad_items_stores_the_good_ones(api: Api) -> None:
    client, keys, settings = api.client, api.keys, api.settings
    h = {"Authorization": f"Bearer {keys['ingest']}"}
    batch = events()[:5]
    batch.insert(
        2,
        {
            "type": "search",
            "event_id": "bad-1",
            "query": "mugs",
            "timestamp": "2024-05-01T09:00:00Z",
        },
    )  # no session, no customer
    batch.append({**events()[1], "event_id": "bad-2", "timestamp": "yesterday"})
    r = client.post("/v1/events", json={"events": batch}, headers=h)
    assert r.status_code == 422
    out = r.json()
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (5, 0, 2)
    statuses = [(i["index"], i["status"], i["reason"]) for i in out["items"]]
    assert statuses[2] == (2, "rejected", "missing_id")
    assert statuses[6] == (6, "rejected", "bad_timestamp")
    assert [s for _, s, _ in statuses].count("accepted") == 5

    again = client.post("/v1/events", json={"events": events()[:5]}, headers=h)
    assert again.status_code == 200
    assert [i["status"] for i in again.json()["items"]] == ["duplicate"] * 5

    with open_store(settings) as store:
        nodes = {r["label"]: r["nodes"] for r in store.read(get_queries().node_counts)}
    assert nodes["Event"] == 5
    dead = [
        json.loads(x)
        for x in (settings.data_dir.parent / "dead-letter" / "http.jsonl").read_text().splitlines()
    ]
    mine = [d for d in dead if d["source"] == "http:loader"]  # the file is shared by tests
    assert {"bad-1", "bad-2"} <= {d["record"].get("event_id") for d in mine}


def test_items_that_are_not_objects_are_rejected_alone(api: Api) -> None:
    """A non-object item is one bad item: the others are stored, each gets its result, and the
    rejected ones go to the dead letter as JSON text (as a file load's)."""
    client, keys, settings = api.client, api.keys, api.settings
    h = {"Authorization": f"Bearer {keys['ingest']}"}
    good = events()[:3]
    batch: list[Any] = [good[0], 42, good[1], "text", None, [good[2]], good[2], True, "\ud800"]
    r = client.post(
        "/v1/events",
        content=json.dumps({"events": batch}).encode(),  # the last one as the escape \ud800
        headers={**h, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    out = r.json()
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (3, 0, 6)
    assert [(i["index"], i["status"], i["reason"]) for i in out["items"]] == [
        (0, "accepted", None),
        (1, "rejected", "not_an_object"),
        (2, "accepted", None),
        (3, "rejected", "not_an_object"),
        (4, "rejected", "not_an_object"),
        (5, "rejected", "not_an_object"),
        (6, "accepted", None),
        (7, "rejected", "not_an_object"),
        (8, "rejected", "not_an_object"),
    ]
    assert out["items"][1]["message"] == "a JSON number, not an object"
    assert out["items"][5]["message"] == "a JSON array, not an object"
    with open_store(settings) as store:
        nodes = {r["label"]: r["nodes"] for r in store.read(get_queries().node_counts)}
    assert nodes["Event"] == 3
    lines = (settings.data_dir.parent / "dead-letter" / "http.jsonl").read_text().splitlines()
    dead = [json.loads(x) for x in lines]
    mine = [d for d in dead if d["source"] == "http:loader" and d["reason"] == "not_an_object"]
    assert {(d["position"], d["record"]) for d in mine} >= {
        (1, "42"),
        (3, '"text"'),
        (4, "null"),
        (7, "true"),
        (8, '"\\ud800"'),
    }
    assert json.loads(next(d["record"] for d in mine if d["position"] == 5)) == [good[2]]


def test_limits_and_validation(api: Api) -> None:
    client, keys = api.client, api.keys
    h = {"Authorization": f"Bearer {keys['ingest']}"}
    too_many = client.post("/v1/events", json={"events": events() * 2}, headers=h)
    assert too_many.status_code == 413
    assert too_many.json()["detail"]["reason"] == "payload_too_large"
    huge = client.post(
        "/v1/events",
        content=b"{" + b" " * 6_000_000 + b"}",
        headers={**h, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must count as it reads
        yield b"{"
        for _ in range(700):
            yield b" " * 10_000
        yield b"}"

    chunked = client.post(
        "/v1/events", content=chunks(), headers={**h, "Content-Type": "application/json"}
    )
    assert chunked.status_code == 413, chunked.text
    assert chunked.json()["detail"]["reason"] == "payload_too_large"
    empty = client.post("/v1/events", json={"events": []}, headers=h)
    assert empty.status_code == 422
    not_json = client.post(
        "/v1/events", content=b"nope", headers={**h, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422


def test_store_outage_is_503_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        neo4j_uri="bolt://127.0.0.1:9",
        neo4j_connect_timeout_s=1,
        api_keys_file=tmp_path / "keys.json",
    )
    key = create_key(settings.api_keys_file, "loader", ["ingest:write"])
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/v1/events", json={"events": events()[:1]}, headers={"Authorization": f"Bearer {key}"}
        )
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.json()["detail"]["reason"] == "store_unavailable"
