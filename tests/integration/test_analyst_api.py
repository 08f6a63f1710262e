"""/v1/analyst/queries: the saved analyst queries, their parameters checked, graph values kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import Api

SMALL = Path(__file__).resolve().parents[1] / "data" / "events_small.jsonl"
ANALYST = Path(__file__).resolve().parents[2] / "cypher" / "analyst"


def _load(api: Api) -> None:
    api.post_events(json.loads(line) for line in SMALL.read_text().splitlines())


def _run(api: Api, name: str, key: str = "analyst:read", **params: Any) -> Any:
    return api.client.post(
        f"/v1/analyst/queries/{name}/run", json={"params": params}, headers=api.h(key)
    )


def test_lists_the_files_of_cypher_analyst_only(api: Api) -> None:
    r = api.client.get("/v1/analyst/queries", headers=api.h("analyst:read"))
    assert r.status_code == 200, r.text
    listed = {q["name"]: q for q in r.json()["queries"]}
    assert set(listed) == {p.name.split(".")[0] for p in ANALYST.glob("*.cypher")}
    assert listed["customer_360"]["params"] == ["id"]
    assert listed["customer_360"]["purpose"]
    for other in ("upsert_customers", "customer_profile", "erase_subject"):
        assert other not in listed
        assert _run(api, other, id="x").status_code == 404


def test_customer_360_returns_rows_nodes_and_relationships(api: Api) -> None:
    _load(api)
    r = _run(api, "customer_360", id="cust-1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == ["c", "r", "n"] and body["rows"] and not body["truncated"]
    nodes = {n["id"]: n for n in body["nodes"]}
    [customer] = [n for n in nodes.values() if n["properties"].get("id") == "cust-1"]
    assert "Customer" in customer["labels"]
    assert len(body["relationships"]) == len(body["rows"])
    for rel in body["relationships"]:
        assert rel["type"] and customer["id"] in (rel["start"], rel["end"])
        assert rel["start"] in nodes and rel["end"] in nodes
    for row in body["rows"]:
        assert row["c"]["~kind"] == "node" and row["c"]["~id"] == customer["id"]
        assert row["r"]["~id"] in {rel["id"] for rel in body["relationships"]}
    times = [v for n in nodes.values() for k, v in n["properties"].items() if k.endswith("_at")]
    assert times and all(isinstance(t, str) and t.endswith("Z") for t in times)


def test_parameters_are_checked(api: Api) -> None:
    missing = _run(api, "customer_360")
    assert missing.status_code == 422 and missing.json()["detail"]["reason"] == "invalid_parameter"
    extra = _run(api, "customer_360", id="cust-1", other=1)
    assert extra.status_code == 422 and "other" in extra.json()["detail"]["message"]
    nested = api.client.post(
        "/v1/analyst/queries/customer_360/run",
        json={"params": {"id": {"$ne": 1}}},
        headers=api.h("analyst:read"),
    )
    assert nested.status_code == 422
    wrong_type = _run(api, "top_products", limit="ten")
    assert wrong_type.status_code == 400, wrong_type.text
    assert wrong_type.json()["detail"]["reason"] == "query_failed"
    assert _run(api, "top_products", limit=2).status_code == 200
    unknown = _run(api, "no_such_query")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["reason"] == "analyst_query_not_found"


def test_needs_analyst_read(api: Api) -> None:
    assert _run(api, "customer_360", key="chatbot:read", id="cust-1").status_code == 403
    r = api.client.get("/v1/analyst/queries")
    assert r.status_code == 401
    assert api.client.get("/v1/analyst/queries", headers=api.h("chatbot:read")).status_code == 403
