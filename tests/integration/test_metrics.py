"""GET /metrics: what Prometheus scrapes, behind `metrics:read`, on each engine.

Counters are per process and these tests share one, so they compare scrapes before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.auth import create_key
from embeddings.serving import MODEL_KIND
from graph.embedded import EmbeddedServer
from graph.queries import get_queries
from tests.helpers import Api, free_port

SMALL = Path(__file__).resolve().parents[1] / "data" / "events_small.jsonl"
CONTEXT = "/v1/sessions/{session_id}/context"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(api: Api) -> Samples:
    r = api.client.get("/metrics", headers=api.h("metrics:read"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(r.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_only_a_metrics_key_reads_them(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 401
    denied = api.client.get("/metrics", headers=api.h("chatbot:read"))
    assert denied.status_code == 403 and denied.json()["detail"]["reason"] == "forbidden"
    assert api.client.get("/metrics", headers=api.h("metrics:read")).status_code == 200


def test_requests_store_queries_and_ingestion_are_counted(api: Api) -> None:
    before = scrape(api)
    events = [json.loads(line) for line in SMALL.read_text().splitlines()]
    bad = {"type": "product_view", "event_id": "bad-1", "timestamp": "not a time"}
    first = api.post_events([*events, bad])
    again = api.post_events(events[:3])
    api.context("sess-A")
    assert api.client.get("/v1/sessions/nope/context", headers=api.h("chatbot:read")).status_code
    api.client.get("/no/such/route")
    after = scrape(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    seconds = "ckg_http_request_duration_seconds_count"
    assert delta(seconds, route=CONTEXT, method="GET", status="200") == 1
    assert delta(seconds, route=CONTEXT, method="GET", status="404") == 1
    assert delta(seconds, route="/v1/events", method="POST", status="422") == 1
    assert delta(seconds, route="/v1/events", method="POST", status="200") == 1
    assert delta(seconds, route="unmatched", method="GET", status="404") == 1
    records = "ckg_ingest_records_total"
    assert delta(records, source="http", outcome="accepted", reason="") == first["accepted"] > 0
    assert delta(records, source="http", outcome="duplicate", reason="") == 3
    rejected = sum(
        v - value(before, n, **dict(labels))
        for (n, labels), v in after.items()
        if n == records and dict(labels).get("outcome") == "rejected"
    )
    assert rejected == first["rejected"] + again["rejected"] == 1
    assert delta("ckg_ingest_load_duration_seconds_count", source="http") == 2
    assert delta("ckg_ingest_batch_duration_seconds_count", source="http") >= 1
    queries = "ckg_store_query_duration_seconds_count"
    assert delta(queries, query="session_context", mode="read") == 2
    assert delta(queries, query="ingest_batch", mode="write") >= 1
    assert value(after, "ckg_store_up") == 1


def test_erasures_and_the_promoted_model_show(api: Api) -> None:
    q = get_queries()
    metrics = {"evaluation": {"results": {"ckg": {"hr@10": 0.41, "ndcg@10": 0.093, "cases": 9}}}}
    created = int(time.time() * 1000) - 3_600_000
    api.store.write(
        q.upsert_model,
        {
            "id": "m-1",
            "kind": MODEL_KIND,
            "params": "{}",
            "seed": 1,
            "snapshot": "{}",
            "metrics": json.dumps(metrics),
            "created_at": created,
        },
    )
    api.store.write(q.promote_model, {"id": "m-1", "kind": MODEL_KIND})
    # the store's state is read at most every 10 s: the model is there before the first scrape
    before = scrape(api)
    api.post_events(json.loads(line) for line in SMALL.read_text().splitlines())
    assert api.client.delete("/v1/customers/cust-1", headers=api.h("privacy:admin")).is_success
    assert api.client.delete("/v1/customers/nobody", headers=api.h("privacy:admin")).status_code
    after = scrape(api)
    requests = "ckg_privacy_requests_total"
    for outcome in ("complied", "not_found"):
        assert (
            value(after, requests, action="erasure", outcome=outcome)
            - value(before, requests, action="erasure", outcome=outcome)
            == 1
        )
    assert value(after, "ckg_privacy_request_duration_seconds_count", action="erasure") >= 2
    evaluation = "ckg_model_evaluation"
    assert value(after, evaluation, model="m-1", recommender="ckg", metric="hr@10") == 0.41
    assert value(after, evaluation, model="m-1", recommender="ckg", metric="ndcg@10") == 0.093
    cases = frozenset({"model": "m-1", "recommender": "ckg", "metric": "cases"}.items())
    assert (evaluation, cases) not in after
    assert 3600 <= value(after, "ckg_model_age_seconds", model="m-1") < 3700


def test_workers_add_up_their_counts(tmp_path: Path) -> None:
    """`ckg serve --workers 2`: whichever worker answers the scrape counts both workers'."""
    data, keys, shared = tmp_path / "data", tmp_path / "keys.json", tmp_path / "metrics"
    shared.mkdir()
    key = create_key(keys, "prometheus", ["metrics:read"])
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKG_", "PROMETHEUS_"))}
    env.update(
        {
            "CKG_DATA_DIR": str(data),
            "CKG_API_KEYS_FILE": str(keys),
            "PROMETHEUS_MULTIPROC_DIR": str(shared),
        }
    )
    cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    name = "ckg_http_request_duration_seconds_count"
    labels = {"route": "/healthz", "method": "GET", "status": "200"}
    try:
        _wait_ready(base, proc)
        with httpx.Client(base_url=base, timeout=10) as client:
            before = value(parse(client.get("/metrics", headers=headers).text), name, **labels)
            sent = 0
            # until both workers have answered something (each keeps its own file)
            while len(list(shared.glob("histogram_*.db"))) < 2 and sent < 400:
                for _ in range(20):
                    with httpx.Client(base_url=base, timeout=10) as one:  # a new connection
                        assert one.get("/healthz").status_code == 200
                sent += 20
            assert len(list(shared.glob("histogram_*.db"))) == 2, "one worker answered all"
            after = value(parse(client.get("/metrics", headers=headers).text), name, **labels)
        assert after - before == sent
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        EmbeddedServer(data).stop()


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"ckg serve exited: {err}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail("ckg serve did not become ready")
