"""Free text reaches the graph masked; text that is not Unicode is a per-item rejection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import create_key
from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.store import Store
from ingest.loader import Loader
from ingest.report import DeadLetter
from ingest.sources import read_jsonl
from tests.helpers import own_files

AT = "2024-05-01T09:0{}:00Z"
WHO = {"customer_id": "cust-m", "session_id": "sess-m"}
CONSENT = {
    "type": "consent_changed",
    "event_id": "m-consent",
    "customer_id": "cust-m",
    "timestamp": AT.format(0),
    "purpose": "analytics",
    "granted": True,
    "source": "web-banner",
}
# the personal data in these events, none of which may reach the graph
SECRETS = ("alice", "example.com", "7946", "0958", "bob.jones")


def _events() -> list[dict[str, Any]]:
    return [
        CONSENT,
        {
            **WHO,
            "type": "page_view",
            "event_id": "m-page",
            "timestamp": AT.format(1),
            "page": "contact alice@example.com",
            "url": "https://shop.example/u/bob.jones%40example.com?email=alice@example.com",
        },
        {
            **WHO,
            "type": "search",
            "event_id": "m-search",
            "timestamp": AT.format(2),
            "query": "call me +44 20 7946 0958 re 85123A",
        },
        {
            **WHO,
            "type": "chat_turn",
            "event_id": "m-chat",
            "timestamp": AT.format(3),
            "intent": "contact",
            "entities": {"email": "alice@example.com", "order_id": "536365"},
            "text": "I am alice@example.com, phone 020-7946-0958, order 536365",
        },
        {
            **WHO,
            "type": "purchase",
            "event_id": "m-order",
            "timestamp": AT.format(4),
            "order_id": "536365",
            "lines": [
                {"product_id": "85123A", "qty": 1, "unit_price": 2.55, "name": "alice@x.org"}
            ],
            "amount": 2.55,
            "currency": "GBP",
        },
    ]


def _assert_masked(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The nodes hold no secret; the Event nodes by id."""
    dump = json.dumps(nodes, default=str)
    for secret in SECRETS:
        assert secret not in dump, secret
    events = {n["id"]: n["props"] for n in nodes if n["label"] == "Event"}
    assert events["m-page"]["page"] == "contact <email>"
    assert events["m-page"]["url"] == "https://shop.example/u/<email>"
    assert events["m-search"]["query"] == "call me <phone> re 85123A"
    queries = {n["id"] for n in nodes if n["label"] == "Query"}
    assert "call me <phone> re 85123a" in queries
    return events


def test_file_load_stores_masked_text(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in _events()))
    with DeadLetter(tmp_path / "dead.jsonl") as dl:
        rec = Loader(store, dl, keep_text=True).load(read_jsonl(path)).reconciliation
    assert rec.as_dict()["accepted"] == 5, rec.as_dict()
    nodes = store.read(test_queries.get("test_nodes_snapshot"))
    chat = _assert_masked(nodes)["m-chat"]
    assert chat["text"] == "I am <email>, phone <phone>, order 536365"
    assert json.loads(chat["entities"]) == {"email": "<email>", "order_id": "536365"}
    products = {n["id"]: n["props"] for n in nodes if n["label"] == "Product"}
    assert products["85123A"]["name"] == "<email>"


@pytest.mark.parametrize(
    "bad, reported",
    [
        ({"event_id": "\ud800"}, None),  # the store client cannot encode it
        (
            {"event_id": "m-bad-q", "query": "mugs \udc00"},
            "m-bad-q",
        ),  # nor a UTF-8 dead-letter file
    ],
)
def test_post_events_masks_text_and_rejects_lone_surrogates(
    store: Store,
    engine_settings: Settings,
    tmp_path: Path,
    test_queries: QueryCatalog,
    bad: dict[str, str],
    reported: str | None,
) -> None:
    settings = own_files(engine_settings, tmp_path)  # the store fixture's graph
    key = create_key(settings.api_keys_file, "masker", ["ingest:write"])
    batch = _events()[:3]
    batch.insert(1, {**batch[2], **bad})
    body = json.dumps({"events": batch})  # ASCII: the surrogate travels as a JSON escape
    assert "\\ud800" in body or "\\udc00" in body
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/v1/events",
            content=body.encode("ascii"),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
    assert r.status_code == 422, r.text
    out = r.json()
    assert (out["accepted"], out["rejected"]) == (3, 1)
    items = [(i["index"], i["status"], i["event_id"], i["reason"]) for i in out["items"]]
    assert items[1] == (1, "rejected", reported, "invalid_text")
    nodes = store.read(test_queries.get("test_nodes_snapshot"))
    events = _assert_masked(nodes)
    assert set(events) == {"m-consent", "m-page", "m-search"}
    dead = (settings.data_dir.parent / "dead-letter" / "http.jsonl").read_text(encoding="utf-8")
    mine = [json.loads(x) for x in dead.splitlines() if '"http:masker"' in x]
    # the rejected record is kept as it came in, lone surrogate included
    assert {**batch[1], **bad} in [d["record"] for d in mine]
