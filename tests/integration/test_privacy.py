"""Privacy over real HTTP on each engine: consent API, PII, export, erasure
(receipt, verification, idempotence, what stays), retention, and the CLI commands."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.auth import SCOPES, create_key
from api.settings import Settings
from graph.catalog import Query, QueryCatalog
from graph.queries import get_queries
from graph.store import PreparedWrite, Store, WriteResult
from tests.helpers import Api, event_builder, own_files, snapshot, store_env

ev = event_builder("p")


def person(cid: str, anon: str, day: str = "2011-12-01") -> list[dict[str, Any]]:
    """A customer with every kind of data: consent, anonymous browsing then login, search,
    cart, purchase, return, chat, loyalty, profile."""
    who = {"customer_id": cid}
    visitor = {"anonymous_id": anon}
    s1, s2 = f"{cid}-s1", f"{cid}-s2"
    return [
        ev(
            "consent_changed",
            f"{day}T08:00:00Z",
            purpose="analytics",
            granted=True,
            source="banner",
            **visitor,
        ),
        ev(
            "product_view",
            f"{day}T08:01:00Z",
            session_id=s1,
            product_id="shared-1",
            category_id="lamps",
            dwell_ms=3000,
            **visitor,
        ),
        ev("search", f"{day}T08:02:00Z", session_id=s1, query=f"query of {cid}", **visitor),
        ev("search", f"{day}T08:02:30Z", session_id=s1, query="lamp", **visitor),
        ev(
            "add_to_cart",
            f"{day}T08:03:00Z",
            session_id=s1,
            product_id="shared-1",
            qty=1,
            unit_price=10.0,
            currency="GBP",
            **visitor,
        ),
        ev("page_view", f"{day}T08:04:00Z", session_id=s1, url="/login", **visitor, **who),
        ev(
            "consent_changed",
            f"{day}T08:05:00Z",
            purpose="personalization",
            granted=True,
            source="banner",
            **who,
        ),
        ev(
            "purchase",
            f"{day}T08:06:00Z",
            session_id=s1,
            order_id=f"o-{cid}",
            lines=[
                {"product_id": "shared-1", "qty": 1, "unit_price": 10.0, "name": "LAMP"},
                {"product_id": "shared-2", "qty": 2, "unit_price": 5.0},
            ],
            amount=20.0,
            currency="GBP",
            **who,
        ),
        ev(
            "cancellation",
            f"{day}T09:00:00Z",
            order_id=f"o-{cid}",
            kind="return",
            lines=[{"product_id": "shared-2", "qty": 1, "unit_price": 5.0}],
            currency="GBP",
            **who,
        ),
        ev(
            "chat_turn",
            f"{day}T10:00:00Z",
            session_id=s2,
            channel="chat",
            intent="order_status",
            **who,
        ),
        ev("loyalty_updated", f"{day}T10:01:00Z", points=100, tier="silver", **who),
        ev("profile_updated", f"{day}T10:02:00Z", fields={"country": "GB"}, **who),
    ]


def mentions(rows: list[dict[str, Any]], needles: set[str]) -> list[dict[str, Any]]:
    return [r for r in rows if any(n in json.dumps(r, default=str) for n in needles)]


def test_consent_api_history_and_defaults(api: Api) -> None:
    r = api.client.post("/v1/customers", json={"id": "new-1"}, headers=api.h("ingest:write"))
    assert (r.status_code, r.json()) == (201, {"id": "new-1", "created": True})
    state = api.client.get("/v1/customers/new-1/consents", headers=api.h("privacy:admin")).json()
    assert all(not c["granted"] for c in state["consents"])  # opt-in: nothing granted
    assert {c["purpose"] for c in state["consents"]} == {
        "personalization",
        "analytics",
        "marketing",
        "profiling",
        "sale_of_data",
    }
    put = api.client.put(
        "/v1/customers/new-1/consents",
        headers=api.h("privacy:admin"),
        json={"consents": {"marketing": True, "sale_of_data": False}, "source": "call-centre"},
    )
    assert put.status_code == 200, put.text
    by = {c["purpose"]: c for c in put.json()["consents"]}
    assert by["marketing"]["granted"] and "call-centre" in by["marketing"]["source"]
    api.client.put(
        "/v1/customers/new-1/consents",
        headers=api.h("privacy:admin"),
        json={"consents": {"marketing": False}, "source": "unsubscribe-link"},
    )
    hist = api.client.get(
        "/v1/customers/new-1/consents/history", headers=api.h("privacy:admin")
    ).json()["history"]
    marketing = [c for c in hist if c["purpose"] == "marketing"]
    assert [c["granted"] for c in marketing] == [False, True, False]  # default, grant, withdraw
    assert [c["source"].split(" ")[0] for c in marketing] == [
        "default",
        "call-centre",
        "unsubscribe-link",
    ]
    bad = api.client.put(
        "/v1/customers/new-1/consents",
        headers=api.h("privacy:admin"),
        json={"consents": {"telepathy": True}, "source": "x"},
    )
    assert bad.status_code == 422
    missing = api.client.get("/v1/customers/nobody/consents", headers=api.h("privacy:admin"))
    assert missing.status_code == 404


def test_consent_defaults_are_configurable(
    store: Store, engine_settings: Settings, tmp_path: Path
) -> None:
    # the store fixture's graph, emptied before and after
    settings = own_files(engine_settings, tmp_path, consent_defaults=["analytics"])
    key = create_key(settings.api_keys_file, "a", ["ingest:write", "privacy:admin"])
    with TestClient(create_app(settings)) as client:
        h = {"Authorization": f"Bearer {key}"}
        client.post("/v1/customers", json={"id": "c"}, headers=h)
        by = {
            c["purpose"]: c["granted"]
            for c in client.get("/v1/customers/c/consents", headers=h).json()["consents"]
        }
    assert by["analytics"] is True and by["marketing"] is False


def test_pii_lives_on_its_node_and_is_matched_by_token(
    api: Api, test_queries: QueryCatalog
) -> None:
    r = api.client.post(
        "/v1/customers",
        headers=api.h("ingest:write"),
        json={
            "id": "c-pii",
            "pii": {
                "email": " Ann.Smith@Example.COM ",
                "phone": "+44 20 7946 0958",
                "name": "Ann Smith",
            },
            "consents": {"personalization": True},
        },
    )
    assert r.status_code == 201, r.text
    for body in ({"email": "ann.smith@example.com"}, {"phone": "+44 (20) 7946-0958"}):
        found = api.client.post("/v1/customers/lookup", json=body, headers=api.h("chatbot:read"))
        assert found.json() == {"customer_ids": ["c-pii"]}, body
    nodes, _ = snapshot(api.store, test_queries)
    holders = {r["label"] for r in mentions(nodes, {"ann.smith@example.com", "Ann Smith"})}
    assert holders == {"PII"}  # nowhere else
    pii = next(r["props"] for r in nodes if r["label"] == "PII")
    assert len(pii["email_token"]) == 64 and pii["email_token"] != pii["email"]
    profile = api.client.get("/v1/customers/c-pii", headers=api.h("chatbot:read")).text
    assert "ann" not in profile.lower() and "7946" not in profile


def two_customers_with_everything(api: Api, test_queries: QueryCatalog) -> None:
    """c-1 and c-2 with every kind of event, c-1 also with PII and derived data (a segment,
    a SIMILAR edge to c-2, an embedding, a model)."""
    api.post_events(person("c-1", "v-1") + person("c-2", "v-2", day="2011-12-02"))
    api.client.post(
        "/v1/customers",
        json={"id": "c-1", "pii": {"email": "c1@example.com"}},
        headers=api.h("ingest:write"),
    )
    api.store.write(
        test_queries.get("test_derived_for_customer"),
        {"id": "c-1", "other": "c-2", "product": "shared-1", "similar_product": "shared-2"},
    )


def test_export_holds_every_label_the_model_can_hold(api: Api, test_queries: QueryCatalog) -> None:
    two_customers_with_everything(api, test_queries)
    r = api.client.get("/v1/customers/c-1/export", headers=api.h("privacy:admin"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc["labels"]) >= {
        "Customer",
        "PII",
        "Identity",
        "Consent",
        "LoyaltyTier",
        "Segment",
        "Product",
        "Order",
        "Session",
        "Event",
        "Cart",
        "Query",
    }
    assert doc["pii"][0]["email"] == "c1@example.com"
    assert [c["purpose"] for c in doc["consents"]] == ["analytics", "personalization"]
    assert doc["similar_customers"] == [{"score": 0.9, "model": "m1"}]  # not the other's id
    assert {e["event"]["type"] for e in doc["session_events"]} >= {
        "product_view",
        "search",
        "add_to_cart",
        "purchase",
        "chat_turn",
    }
    assert "c-2" not in json.dumps(doc)
    assert (
        api.client.get("/v1/customers/c-1/export", headers=api.h("chatbot:read")).status_code == 403
    )


def test_erasure_reaches_everything_and_sticks(api: Api, test_queries: QueryCatalog) -> None:
    two_customers_with_everything(api, test_queries)
    other_before = api.client.get("/v1/customers/c-2/export", headers=api.h("privacy:admin"))
    nodes_before, _ = snapshot(api.store, test_queries)

    r = api.client.delete("/v1/customers/c-1", headers=api.h("privacy:admin"))
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["verified"] is True and receipt["already_erased"] is False
    assert receipt["nodes"]["Customer"] == 1 and receipt["nodes"]["Session"] == 2
    assert receipt["nodes"]["PII"] == 1 and receipt["nodes"]["Identity"] == 1
    assert receipt["nodes"]["Query"] == 1  # its own query; "lamp" is shared with c-2
    assert receipt["relationships"]["SIMILAR"] == 1 and receipt["relationships"]["IN_SEGMENT"] == 1
    assert receipt["stale_models"] == 1
    assert "c-1" not in json.dumps(receipt) and len(receipt["subject_hash"]) == 64

    nodes, rels = snapshot(api.store, test_queries)
    subject = {"c-1", "v-1", "c-1-s1", "c-1-s2", "o-c-1", "c1@example.com", "query of c-1"}
    assert mentions(nodes, subject) == [] or all(
        r["label"] == "Erasure" for r in mentions(nodes, subject)
    )
    assert mentions(rels, subject) == []
    labels = {r["label"] for r in nodes}
    assert {"Product", "Category", "LoyaltyTier", "Segment", "Model"} <= labels  # shared stay
    assert next(r for r in nodes if r["id"] == "rfm:Champions")["props"]["size"] == 0
    assert next(r for r in nodes if r["label"] == "Model")["props"]["stale"] is True
    erasure = [r for r in nodes if r["label"] == "Erasure"]
    assert len(erasure) == 1 and "c-1" not in json.dumps(erasure)
    # other people's data is unchanged (c-2 lost only its SIMILAR edge *from* c-1)
    other_after = api.client.get("/v1/customers/c-2/export", headers=api.h("privacy:admin"))
    before, after = other_before.json(), other_after.json()
    for part in (
        "customer",
        "pii",
        "identities",
        "consents",
        "purchases",
        "orders",
        "sessions",
        "session_events",
        "views",
        "searches",
        "carts",
    ):
        assert before[part] == after[part], part
    kept = [n for n in nodes if n["label"] != "Audit"]
    kept_before = [n for n in nodes_before if n["label"] != "Audit"]
    assert len(kept) == len(kept_before) - sum(receipt["nodes"].values()) + 1  # + receipt
    assert len(nodes) - len(kept) == len(nodes_before) - len(kept_before) + 1  # + its audit
    # idempotent
    again = api.client.delete("/v1/customers/c-1", headers=api.h("privacy:admin")).json()
    assert again["already_erased"] is True and again["subject_hash"] == receipt["subject_hash"]
    assert again["nodes"] == receipt["nodes"]
    assert api.client.get("/v1/customers/c-1", headers=api.h("chatbot:read")).status_code == 404
    assert (
        api.client.delete("/v1/customers/nobody", headers=api.h("privacy:admin")).status_code == 404
    )


def test_retention_drops_old_sessions_and_keeps_the_account(
    api: Api, test_queries: QueryCatalog
) -> None:
    api.post_events(
        person("c-old", "v-old", day="2011-01-10") + person("c-new", "v-new", day="2011-12-01")
    )
    from privacy.subjects import retention

    report = retention(
        api.store,
        api.client.app.state.queries,  # type: ignore[attr-defined]
        180,
        as_of=1322697600000,  # 2011-12-01
    )
    assert report.sessions == 2 and report.events > 0
    nodes, _ = snapshot(api.store, test_queries)
    sessions = {r["id"] for r in nodes if r["label"] == "Session"}
    assert sessions == {"c-new-s1", "c-new-s2"}
    assert {r["id"] for r in nodes if r["label"] == "Customer"} >= {"c-old", "c-new"}
    assert "o-c-old" in {r["id"] for r in nodes if r["label"] == "Order"}  # the account stays
    again = retention(
        api.store,
        api.client.app.state.queries,  # type: ignore[attr-defined]
        180,
        as_of=1322697600000,
    )
    assert (again.sessions, again.events) == (0, 0)


PRIVACY_ROUTES = [
    ("POST", "/v1/customers", {"ingest:write"}, {"id": "x-1"}),
    ("PUT", "/v1/customers/x-1/pii", {"ingest:write"}, {"name": "X"}),
    ("POST", "/v1/customers/lookup", {"chatbot:read", "privacy:admin"}, {"email": "a@b.c"}),
    ("GET", "/v1/customers/x-1/consents", {"chatbot:read", "privacy:admin"}, None),
    (
        "PUT",
        "/v1/customers/x-1/consents",
        {"privacy:admin", "ingest:write"},
        {"consents": {"marketing": True}, "source": "t"},
    ),
    ("GET", "/v1/customers/x-1/consents/history", {"privacy:admin"}, None),
    ("GET", "/v1/customers/x-1/export", {"privacy:admin"}, None),
]


def test_privacy_auth_matrix(api: Api) -> None:
    api.client.post("/v1/customers", json={"id": "x-1"}, headers=api.h("ingest:write"))
    for method, path, allowed, body in PRIVACY_ROUTES:
        for scope in [None, *SCOPES]:
            headers = {} if scope is None else api.h(str(scope))
            r = api.client.request(method, path, headers=headers, json=body)
            expected = 401 if scope is None else 403 if scope not in allowed else None
            if expected is None:
                assert r.status_code < 300, (method, path, scope, r.text)
            else:
                assert r.status_code == expected, (method, path, scope, r.text)
    for other in ("chatbot:read", "ingest:write", "analyst:read"):
        assert api.client.delete("/v1/customers/x-1", headers=api.h(other)).status_code == 403
    assert api.client.delete("/v1/customers/x-1").status_code == 401


def test_cli_export_erase_retention(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.cli import app as cli
    from api.settings import get_settings

    api.post_events(person("c-1", "v-1") + person("c-2", "v-2") + person("c-3", "v-3"))
    for k, v in store_env(api.settings).items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = runner.invoke(cli, ["export", "c-1", "--out", str(tmp_path / "c1.json")])
        assert out.exit_code == 0, out.output
        assert json.loads((tmp_path / "c1.json").read_text())["customer"]["id"] == "c-1"
        ids = tmp_path / "ids.txt"
        ids.write_text("c-2\nnobody\nc-3\n")
        out = runner.invoke(cli, ["erase", "--file", str(ids)])
        assert out.exit_code == 4, out.output  # one unknown id: partial
        lines = [json.loads(x) for x in out.output.splitlines()]
        assert [x.get("verified") for x in lines] == [True, None, True]
        assert lines[1] == {"error": "customer_not_found", "line": 2}
        # the API and the CLI agree on the subject hash: same key
        again = api.client.delete("/v1/customers/c-2", headers=api.h("privacy:admin")).json()
        assert again["already_erased"] and again["subject_hash"] == lines[0]["subject_hash"]
        out = runner.invoke(cli, ["retention", "--days", "1", "--as-of", "2012-01-01"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["sessions"] == 2  # c-1's two sessions
    finally:
        get_settings.cache_clear()


def test_ingestion_honours_analytics_consent(api: Api) -> None:
    who = {"customer_id": "c-quiet"}
    events = [
        ev("product_view", "2011-12-01T09:00:00Z", session_id="q-s1", product_id="p1", **who),
        ev("search", "2011-12-01T09:01:00Z", session_id="q-s1", query="lamp", **who),
        ev(
            "purchase",
            "2011-12-01T09:02:00Z",
            session_id="q-s1",
            order_id="q-o1",
            lines=[{"product_id": "p1", "qty": 1, "unit_price": 3.0}],
            amount=3.0,
            currency="GBP",
            **who,
        ),
    ]
    out = api.post_events(events)
    reasons = [i["reason"] for i in out["items"]]
    assert reasons == ["no_analytics_consent", "no_analytics_consent", None]  # the order stays
    dead = api.settings.data_dir.parent / "dead-letter" / "http.jsonl"
    dl = [json.loads(x) for x in dead.read_text().splitlines()]
    assert {d["record"]["event_id"] for d in dl if d["reason"] == "no_analytics_consent"} >= {
        events[0]["event_id"],
        events[1]["event_id"],
    }
    # once analytics consent is recorded, re-sending the refused events stores them
    r = api.client.put(
        "/v1/customers/c-quiet/consents",
        headers=api.h("privacy:admin"),
        json={"consents": {"analytics": True}, "source": "banner"},
    )
    assert r.status_code == 200
    again = api.post_events(events)
    assert [i["status"] for i in again["items"]] == ["accepted", "accepted", "duplicate"]
    # and a withdrawal stops tracking from the next batch
    api.client.put(
        "/v1/customers/c-quiet/consents",
        headers=api.h("privacy:admin"),
        json={"consents": {"analytics": False}, "source": "banner"},
    )
    late = api.post_events(
        [ev("page_view", "2011-12-02T09:00:00Z", session_id="q-s2", url="/", **who)]
    )
    assert late["items"][0]["reason"] == "no_analytics_consent"


def test_events_for_an_erased_subject_are_refused(api: Api) -> None:
    api.post_events(person("c-1", "v-1"))
    assert api.client.delete("/v1/customers/c-1", headers=api.h("privacy:admin")).json()["verified"]
    late = api.post_events(
        [
            ev(
                "page_view", "2011-12-05T09:00:00Z", session_id="late-1", url="/", customer_id="c-1"
            ),
            ev(
                "consent_changed",
                "2011-12-05T09:00:00Z",
                purpose="analytics",
                granted=True,
                source="x",
                anonymous_id="v-1",
            ),  # the erased alias too
            ev(
                "consent_changed",
                "2011-12-05T09:00:00Z",
                purpose="analytics",
                granted=True,
                source="x",
                customer_id="someone-else",
            ),
        ]
    )
    assert [i["reason"] for i in late["items"]] == ["erased_subject", "erased_subject", None]
    assert api.client.get("/v1/customers/c-1", headers=api.h("chatbot:read")).status_code == 404


class QueueWatchingLock:
    """Stands in for the API's writer lock and notes when a request has to queue for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.queued = threading.Event()
        self.first_waiter_in_at: float | None = None  # when the first queued request got in

    def __enter__(self) -> None:
        if self._lock.acquire(blocking=False):
            return
        self.queued.set()
        self._lock.acquire()
        if self.first_waiter_in_at is None:
            self.first_waiter_in_at = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_erasure_while_ingestion_runs(
    api: Api, test_queries: QueryCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first erasure is asked for while a load holds the writer lock (its batch write is
    held until the erasure queues): the erasure must wait for that batch, then erase it too."""
    import random

    people = [f"cc-{i}" for i in range(12)]
    api.post_events([e for i, p in enumerate(people) for e in person(p, f"vv-{i}")])
    doomed = sorted(random.Random(5).sample(people, 4))
    sent: dict[str, set[str]] = {p: set() for p in people}
    accepted: dict[str, set[str]] = {p: set() for p in people}
    status: dict[tuple[str, int], str] = {}
    errors: list[str] = []

    held_round = 2  # the load of this round holds the lock while the first erasure is asked for
    lock = QueueWatchingLock()
    monkeypatch.setattr(api.client.app.state, "ingest_lock", lock)  # type: ignore[attr-defined]
    loading = threading.Event()
    marks: dict[str, float] = {}
    queued: list[bool] = []
    batch_query, batch_writes = get_queries().ingest_batch.name, itertools.count()
    real_write = api.store.write_prepared

    def write_prepared(prepared: PreparedWrite) -> WriteResult:
        if prepared.query.name != batch_query or next(batch_writes) != held_round:
            return real_write(prepared)
        loading.set()  # inside the loader, under the writer lock
        queued.append(lock.queued.wait(60))
        result = real_write(prepared)
        marks["written"] = time.monotonic()
        return result

    monkeypatch.setattr(api.store, "write_prepared", write_prepared)

    def ingest() -> None:
        for round_ in range(6):
            batch = []
            for p in people:
                e = ev(
                    "page_view",
                    f"2011-12-0{2 + round_}T10:00:00Z",
                    session_id=f"{p}-r{round_}",
                    url="/",
                    customer_id=p,
                )
                sent[p].add(e["event_id"])
                batch.append(e)
            r = api.client.post("/v1/events", json={"events": batch}, headers=api.h("ingest:write"))
            if r.status_code not in (200, 422):
                errors.append(r.text)
                return
            for item, e in zip(r.json()["items"], batch, strict=True):
                status[e["customer_id"], round_] = item["status"]
                if item["status"] == "accepted":
                    accepted[e["customer_id"]].add(e["event_id"])
                elif e["customer_id"] not in doomed or item["reason"] != "erased_subject":
                    errors.append(f"{e['customer_id']}: {item}")

    def erase() -> None:
        if not loading.wait(60):
            errors.append("no load reached its batch write")
            return
        marks["asked"] = time.monotonic()
        for p in doomed:
            r = api.client.delete(f"/v1/customers/{p}", headers=api.h("privacy:admin"))
            if r.status_code != 200 or not r.json()["verified"]:
                errors.append(r.text)

    threads = [threading.Thread(target=ingest), threading.Thread(target=erase)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    # they overlapped: the erasure queued behind the held load and got in only after its write
    assert queued == [True]
    assert lock.first_waiter_in_at is not None
    assert marks["asked"] < marks["written"] < lock.first_waiter_in_at
    assert all(status[p, r] == "accepted" for p in doomed for r in range(held_round + 1))

    nodes, rels = snapshot(api.store, test_queries)
    for p in doomed:
        i = people.index(p)
        needles = {p, f"vv-{i}", f"{p}-s1", f"{p}-s2", f"o-{p}"} | {f"{p}-r{r}" for r in range(6)}
        assert [n for n in mentions(nodes, needles) if n["label"] != "Erasure"] == [], p
        assert mentions(rels, needles) == [], p
    assert {"shared-1", "shared-2"} <= {n["id"] for n in nodes if n["label"] == "Product"}
    for p in people:
        if p in doomed:
            continue
        doc = api.client.get(f"/v1/customers/{p}/export", headers=api.h("privacy:admin")).json()
        stored = {x["event"]["id"] for x in doc["session_events"]}
        assert accepted[p] == sent[p] and sent[p] <= stored, p  # nothing lost for the others
        assert len(doc["session_events"]) == 7 + 6, p  # person(): 7 in sessions; + 6 rounds
    # a late event for an erased id is refused
    late = api.post_events(
        [ev("page_view", "2011-12-09T10:00:00Z", session_id="late", url="/", customer_id=doomed[0])]
    )
    assert late["items"][0]["reason"] == "erased_subject"


# --- erasure is final ---------------------------------------------------------------------------

GDPR = {
    "id": "gdpr-1",
    "pii": {"email": "gdpr@example.com", "phone": "+44 20 7946 0958", "name": "G Person"},
}


def erased_refusal(r: Any) -> None:
    assert r.status_code == 409, r.text
    assert r.json()["detail"]["reason"] == "erased_subject"


def audit_trail(api: Api, customer_id: str) -> list[dict[str, Any]]:
    from privacy.tokens import subject_hash

    q = api.client.app.state.queries  # type: ignore[attr-defined]
    key: bytes = api.client.app.state.privacy_key  # type: ignore[attr-defined]
    return api.store.read(q.audit_trail, {"hash": subject_hash(key, customer_id)})


def test_an_erased_subject_cannot_be_written_again(api: Api, test_queries: QueryCatalog) -> None:
    assert api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write")).status_code
    receipt = api.client.delete("/v1/customers/gdpr-1", headers=api.h("privacy:admin")).json()
    assert receipt["verified"] and not receipt["already_erased"]
    before = [n for n in snapshot(api.store, test_queries)[0] if n["label"] != "Audit"]

    erased_refusal(api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write")))
    erased_refusal(
        api.client.put("/v1/customers/gdpr-1/pii", json=GDPR["pii"], headers=api.h("ingest:write"))
    )
    erased_refusal(
        api.client.put(
            "/v1/customers/gdpr-1/consents",
            json={"consents": {"marketing": True}, "source": "web"},
            headers=api.h("privacy:admin"),
        )
    )
    after = [n for n in snapshot(api.store, test_queries)[0] if n["label"] != "Audit"]
    assert after == before  # nothing stored
    found = api.client.post(
        "/v1/customers/lookup", json={"email": "gdpr@example.com"}, headers=api.h("chatbot:read")
    )
    assert found.json() == {"customer_ids": []}
    assert (
        api.client.get("/v1/customers/gdpr-1/export", headers=api.h("privacy:admin")).status_code
        == 404
    )
    again = api.client.delete("/v1/customers/gdpr-1", headers=api.h("privacy:admin")).json()
    assert again["already_erased"] is True and again["id"] == receipt["id"]


def test_events_linking_an_erased_id_are_refused(api: Api, test_queries: QueryCatalog) -> None:
    api.post_events(person("c-1", "v-1"))
    assert api.client.delete("/v1/customers/c-1", headers=api.h("privacy:admin")).json()["verified"]
    late = api.post_events(
        [
            ev("profile_updated", "2011-12-05T09:00:00Z", fields={"country": "GB"}, **who)
            for who in (
                {"customer_id": "c-new", "anonymous_id": "v-1"},  # a new customer, erased alias
                {"customer_id": "c-1", "anonymous_id": "v-new"},  # the erased customer, new alias
            )
        ]
    )
    assert [i["reason"] for i in late["items"]] == ["erased_subject", "erased_subject"]
    nodes, rels = snapshot(api.store, test_queries)
    assert mentions(nodes, {"c-new", "v-new"}) == [] and mentions(rels, {"v-1", "c-1"}) == []


def test_restored_data_is_erased_again_under_a_new_receipt(
    api: Api, test_queries: QueryCatalog
) -> None:
    api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write"))
    first = api.client.delete("/v1/customers/gdpr-1", headers=api.h("privacy:admin")).json()
    restore = {"id": "gdpr-1", "email": "gdpr@example.com", "identity": "anon:gdpr-v"}
    api.store.write(test_queries.get("test_restore_customer"), restore)  # an old backup

    second = api.client.delete("/v1/customers/gdpr-1", headers=api.h("privacy:admin")).json()
    assert second["already_erased"] is False and second["verified"] is True
    assert second["id"] != first["id"] and second["subject_hash"] == first["subject_hash"]
    assert second["previous"] == {"id": first["id"], "at": first["at"]}
    assert second["nodes"] == {"Customer": 1, "PII": 1, "Identity": 1}
    nodes, _ = snapshot(api.store, test_queries)
    assert mentions(nodes, {"gdpr@example.com", "anon:gdpr-v"}) == []
    export = api.client.get("/v1/customers/gdpr-1/export", headers=api.h("privacy:admin"))
    assert export.status_code == 404
    # the restored alias is suppressed too
    consent = {"purpose": "analytics", "granted": True, "source": "x", "anonymous_id": "gdpr-v"}
    late = api.post_events([ev("consent_changed", "2011-12-05T09:00:00Z", **consent)])
    assert late["items"][0]["reason"] == "erased_subject"
    third = api.client.delete("/v1/customers/gdpr-1", headers=api.h("privacy:admin")).json()
    assert third["already_erased"] is True and third["id"] == second["id"]
    assert third["previous"] == second["previous"]


def test_lifting_a_suppression_is_an_explicit_admin_action(api: Api) -> None:
    api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write"))
    receipt = api.client.delete("/v1/customers/gdpr-1", headers=api.h("privacy:admin")).json()
    for scope in ("chatbot:read", "ingest:write", "analyst:read"):
        r = api.client.delete("/v1/suppressions/gdpr-1", headers=api.h(scope))
        assert r.status_code == 403
    assert api.client.delete("/v1/suppressions/gdpr-1").status_code == 401

    lifted = api.client.delete("/v1/suppressions/gdpr-1", headers=api.h("privacy:admin"))
    assert lifted.status_code == 200, lifted.text
    body = lifted.json()
    assert body["receipts"] == [receipt["id"]] and body["subject_hash"] == receipt["subject_hash"]
    assert body["at"].endswith("Z")
    again = api.client.delete("/v1/suppressions/gdpr-1", headers=api.h("privacy:admin"))
    assert (again.status_code, again.json()["detail"]["reason"]) == (404, "suppression_not_found")
    never = api.client.delete("/v1/suppressions/nobody", headers=api.h("privacy:admin"))
    assert never.status_code == 404

    created = api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write"))
    assert created.status_code == 201, created.text
    profile = {"fields": {"country": "GB"}, "customer_id": "gdpr-1"}
    events = api.post_events([ev("profile_updated", "2011-12-05T09:00:00Z", **profile)])
    assert events["items"][0]["status"] == "accepted"
    erased_again = api.client.delete("/v1/customers/gdpr-1", headers=api.h("privacy:admin")).json()
    assert erased_again["previous"]["id"] == receipt["id"] and not erased_again["already_erased"]
    erased_refusal(api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write")))
    lifts = [a for a in audit_trail(api, "gdpr-1") if a["action"] == "suppression_lifted"]
    assert [(a["actor"], a["outcome"]) for a in lifts] == [
        ("privacy:admin", "complied"),
        ("privacy:admin", "not_found"),
    ]


def test_the_write_statements_guard_themselves(store: Store, test_queries: QueryCatalog) -> None:
    """Between the check and the write, an erasure may land: each statement checks again."""
    from graph.queries import get_queries
    from privacy.erasure import erase
    from privacy.pii import create_customer
    from privacy.tokens import subject_hash

    q, key = get_queries(), b"k"
    create_customer(store, q, key, "gdpr-1", None, None, {}, [], "api")
    erase(store, q, key, "gdpr-1", actor="test")
    restore = {"id": "gdpr-1", "email": "old@example.com", "identity": "anon:gdpr-v"}
    store.write(test_queries.get("test_restore_customer"), restore)
    before = store.read(test_queries.get("test_nodes_snapshot"))
    h = subject_hash(key, "gdpr-1")
    pii: dict[str, Any] = {"email": "new@example.com", "phone": None, "name": None}
    pii |= {"email_token": "t", "phone_token": None}
    writes: list[tuple[Query, dict[str, Any]]] = [
        (q.create_customer, {"id": "gdpr-1", "hash": h, "at": 1, "country": "GB"}),
        (q.upsert_pii, {"id": "gdpr-1", "hash": h, **pii, "at": 1}),
        (q.record_consents, {"id": "gdpr-1", "hash": h, "consents": [{"id": "k1", "at": 1}]}),
    ]
    for query, params in writes:
        assert store.write(query, params).returned == [], query.name
    assert store.read(test_queries.get("test_nodes_snapshot")) == before


# --- audit trail and requests report ------------------------------------------------------------


def test_every_privacy_request_is_audited_without_personal_data(
    api: Api, test_queries: QueryCatalog
) -> None:
    admin = api.h("privacy:admin")
    api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write"))
    assert api.client.get("/v1/customers/gdpr-1/export", headers=admin).status_code == 200
    change = {"consents": {"sale_of_data": False, "marketing": True}, "source": "web"}
    r = api.client.put("/v1/customers/gdpr-1/consents", json=change, headers=api.h("ingest:write"))
    assert r.status_code == 200
    receipt = api.client.delete("/v1/customers/gdpr-1", headers=admin).json()
    erased_refusal(api.client.put("/v1/customers/gdpr-1/consents", json=change, headers=admin))
    assert api.client.get("/v1/customers/gdpr-1/export", headers=admin).status_code == 404
    assert api.client.get("/v1/customers/nobody/export", headers=admin).status_code == 404

    trail = audit_trail(api, "gdpr-1")  # what the erasure left standing, and what came after
    assert sorted((a["action"], a["outcome"], a["actor"]) for a in trail) == [
        ("consent_change", "complied", "ingest:write"),
        ("consent_change", "denied", "privacy:admin"),
        ("erasure", "complied", "privacy:admin"),
        ("export", "complied", "privacy:admin"),
        ("export", "not_found", "privacy:admin"),
    ]
    by_action = {(a["action"], a["outcome"]): a for a in trail}
    assert by_action["erasure", "complied"]["receipt"] == receipt["id"]
    consent = by_action["consent_change", "complied"]
    assert (consent["purposes_granted"], consent["purposes_withdrawn"]) == (
        ["marketing"],
        ["sale_of_data"],
    )
    assert all(a["completed_at"] >= a["at"] and a["duration_ms"] >= 0 for a in trail)
    assert [(a["action"], a["outcome"]) for a in audit_trail(api, "nobody")] == [
        ("export", "not_found")
    ]
    nodes, rels = snapshot(api.store, test_queries)
    audits = [n for n in nodes if n["label"] == "Audit"]
    assert len(audits) == 6
    personal = {"gdpr-1", "nobody", "gdpr@example.com", "G Person", "7946"}
    assert mentions(audits, personal) == [] and mentions(rels, {"audit:"}) == []


def test_requests_report(api: Api) -> None:
    from datetime import UTC, datetime, timedelta

    admin, ingest = api.h("privacy:admin"), api.h("ingest:write")
    today = datetime.now(UTC).date()
    window = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    for cid in ("r-1", "r-2"):
        api.client.post("/v1/customers", json={"id": cid}, headers=ingest)
    api.client.get("/v1/customers/r-1/export", headers=admin)
    api.client.get("/v1/customers/nobody/export", headers=admin)
    for cid, decisions in (
        ("r-1", {"sale_of_data": False}),  # an opt-out of sale
        ("r-2", {"sale_of_data": True}),
        ("r-2", {"marketing": False}),
    ):
        body = {"consents": decisions, "source": "web"}
        assert api.client.put(f"/v1/customers/{cid}/consents", json=body, headers=admin).is_success
    for cid in ("r-1", "nobody", "r-1"):
        api.client.delete(f"/v1/customers/{cid}", headers=admin)
    opt_out = {"consents": {"sale_of_data": False}, "source": "web"}
    erased_refusal(api.client.put("/v1/customers/r-1/consents", json=opt_out, headers=admin))

    r = api.client.get("/v1/privacy/report", params=window, headers=admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["from"], report["to"]) == (
        f"{window['from']}T00:00:00Z",
        f"{window['to']}T00:00:00Z",
    )
    for kind, counts in (
        ("to_know", (2, 1, 1, {"not_found": 1})),
        ("to_delete", (3, 2, 1, {"not_found": 1})),
        ("to_opt_out_of_sale", (2, 1, 1, {"denied": 1})),
    ):
        got = report[kind]
        assert (got["received"], got["complied"], got["denied"], got["outcomes"]) == counts, kind
        assert isinstance(got["median_ms"], float) and got["median_ms"] >= 0, kind
    empty = api.client.get(
        "/v1/privacy/report", params={"from": "2000-01-01", "to": "2000-02-01"}, headers=admin
    ).json()
    assert empty["to_delete"] == {
        "received": 0,
        "complied": 0,
        "denied": 0,
        "outcomes": {},
        "median_ms": None,
    }
    for scope in ("chatbot:read", "ingest:write", "analyst:read"):
        assert (
            api.client.get("/v1/privacy/report", params=window, headers=api.h(scope)).status_code
            == 403
        )
    backwards = {"from": window["to"], "to": window["from"]}
    empty = api.client.get("/v1/privacy/report", params=backwards, headers=admin)
    assert empty.status_code == 200  # a window that does not end after it starts holds nothing
    assert all(empty.json()[k]["received"] == 0 for k in ("to_know", "to_delete"))
    for params in ({"from": "2000-01-01"}, {"from": "yesterday", "to": "2000-01-01"}):
        assert api.client.get("/v1/privacy/report", params=params, headers=admin).status_code == 422


# --- one time format, normalised identifiers ----------------------------------------------------

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def test_times_in_answers_are_iso_8601_utc(api: Api) -> None:
    admin = api.h("privacy:admin")
    api.client.post("/v1/customers", json=GDPR, headers=api.h("ingest:write"))
    change = {"consents": {"marketing": True}, "source": "web"}
    put = api.client.put("/v1/customers/gdpr-1/consents", json=change, headers=admin).json()
    state = api.client.get("/v1/customers/gdpr-1/consents", headers=admin).json()
    for answer in (put, state):
        assert all(ISO_UTC.match(c["at"]) for c in answer["consents"]), answer
    doc = api.client.get("/v1/customers/gdpr-1/export", headers=admin).json()
    times = [
        doc["exported_at"],
        doc["customer"]["created_at"],
        doc["customer"]["last_seen_at"],
        doc["pii"][0]["updated_at"],
        *(c["at"] for c in doc["consents"]),
    ]
    assert all(isinstance(t, str) and ISO_UTC.match(t) for t in times), times
    receipt = api.client.delete("/v1/customers/gdpr-1", headers=admin).json()
    assert ISO_UTC.match(receipt["at"]), receipt
    again = api.client.delete("/v1/customers/gdpr-1", headers=admin).json()
    assert again["at"] == receipt["at"]


def test_lookup_does_not_depend_on_spelling(api: Api) -> None:
    pii = {"email": "Ann@Example.COM", "phone": "020 7946 0958"}  # national: region GB
    r = api.client.post(
        "/v1/customers", json={"id": "c-spell", "pii": pii}, headers=api.h("ingest:write")
    )
    assert r.status_code == 201, r.text
    for body in (
        {"email": "ann@example.com"},
        {"email": " ANN@example.com "},
        {"phone": "+44 20 7946 0958"},
        {"phone": "+442079460958"},
        {"phone": "020 7946 0958"},
    ):
        found = api.client.post("/v1/customers/lookup", json=body, headers=api.h("chatbot:read"))
        assert found.json() == {"customer_ids": ["c-spell"]}, body
    doc = api.client.get("/v1/customers/c-spell/export", headers=api.h("privacy:admin")).json()
    assert (doc["pii"][0]["email"], doc["pii"][0]["phone"]) == ("ann@example.com", "+442079460958")
