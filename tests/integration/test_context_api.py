"""The chatbot context API over real HTTP (ASGI) on each engine.

Events go in through POST /v1/events, context comes out of GET /v1/sessions/{id}/context and
GET /v1/customers/{id}; nothing is faked. `at=` evaluates the context as of that instant, which
also pins the clock so time-derived facts (cart idle time, local time, promotions) are
deterministic; the replay tests run on the bundled online-retail sample.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import SCOPES, create_key
from api.prompt import count_tokens
from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.queries import get_queries
from graph.store import Store, open_store
from ingest.datasets import RETAIL_SAMPLE
from ingest.run import ingest_file
from privacy.subjects import retention
from tests.helpers import Api, emptied, event_builder, own_files

T0 = "2011-12-01T10:00:00Z"
ev = event_builder("e")


def consent(
    who: dict[str, str], granted: bool, ts: str, purpose: str = "personalization"
) -> dict[str, Any]:
    return ev("consent_changed", ts, purpose=purpose, granted=granted, source="test", **who)


def browsing(
    who: dict[str, str],
    session: str,
    device: str = "desktop",
    day: str = "2011-12-01",
    views: int = 5,
) -> list[dict[str, Any]]:
    """A session of views, a search, a cart line and a chat turn, after the analytics consent
    that lets ingestion store behaviour (personalization is each test's business)."""
    out = [consent(who, True, f"{day}T08:00:00Z", purpose="analytics")]
    out += [
        ev(
            "product_view",
            f"{day}T09:{i:02d}:00Z",
            session_id=session,
            device=device,
            product_id=f"p{i}",
            dwell_ms=1000 * (i + 1),
            **who,
        )
        for i in range(views)
    ]
    out.append(
        ev(
            "search",
            f"{day}T09:30:00Z",
            session_id=session,
            device=device,
            query="red lantern",
            **who,
        )
    )
    out.append(
        ev(
            "add_to_cart",
            f"{day}T09:31:00Z",
            session_id=session,
            device=device,
            product_id="p1",
            qty=2,
            unit_price=4.5,
            currency="GBP",
            **who,
        )
    )
    out.append(
        ev(
            "chat_turn",
            f"{day}T09:32:00Z",
            session_id=session,
            channel="chat",
            device=device,
            intent="delivery_time",
            **who,
        )
    )
    return out


CUST = {"customer_id": "c-1"}


def test_identified_with_consent_gets_everything(api: Api) -> None:
    api.load(consent(CUST, True, "2011-11-01T00:00:00Z"), *browsing(CUST, "s-1"))
    ctx = api.context("s-1", at="2011-12-01T09:40:00Z")
    assert ctx["personalized"] is True and ctx["anonymous"] is False
    assert ctx["customer_id"] == "c-1" and ctx["customer"]["id"] == "c-1"
    assert ctx["verbosity"] == "full"
    views = ctx["session"]["views"]
    assert [v["product_id"] for v in views] == ["p4", "p3", "p2", "p1", "p0"]  # latest first
    assert views[0]["dwell_ms"] == 5000
    assert ctx["session"]["searches"][0]["text"] == "red lantern"
    assert ctx["session"]["last_chat_intent"] == "delivery_time"
    cart = ctx["session"]["cart"]
    assert (cart["items"], cart["value"], cart["abandoned"]) == (2, 9.0, False)
    assert cart["idle_minutes"] == 9.0
    assert ctx["consents"] == [
        {"purpose": "analytics", "granted": True, "at": "2011-12-01T08:00:00Z", "source": "test"},
        {
            "purpose": "personalization",
            "granted": True,
            "at": "2011-11-01T00:00:00Z",
            "source": "test",
        },
    ]
    assert ctx["purpose"] == "personalization"


def test_consent_withdrawn_removes_personal_data_and_grant_restores_it(api: Api) -> None:
    api.load(consent(CUST, True, "2011-11-01T00:00:00Z"), *browsing(CUST, "s-1"))
    api.load(consent(CUST, False, "2011-11-20T00:00:00Z"))
    ctx = api.context("s-1", at="2011-12-01T12:00:00Z")
    assert ctx["personalized"] is False
    assert ctx["customer"] is None
    assert ctx["session"]["views"] == [] and ctx["session"]["searches"] == []
    assert ctx["session"]["intent"] is None and ctx["session"]["last_chat_intent"] is None
    assert all(not r["personal"] for r in ctx["recommendations"])
    assert [t["id"] for t in ctx["triggers"]] == ["cart_abandonment_reminder"]  # not personal
    assert {c["purpose"]: c["granted"] for c in ctx["consents"]}["personalization"] is False
    text = api.context("s-1", at="2011-12-01T12:00:00Z", format="text")
    assert "p4" not in text and "red lantern" not in text
    assert "no personalization consent" in text
    # a tie between a grant and a withdrawal at the same instant: the withdrawal wins
    api.load(consent(CUST, True, "2011-11-20T00:00:00Z"))
    assert api.context("s-1")["personalized"] is False
    api.load(consent(CUST, True, "2011-11-25T00:00:00Z"))
    assert api.context("s-1")["personalized"] is True


def test_no_consent_at_all_means_not_personalized(api: Api) -> None:
    api.load(*browsing(CUST, "s-1"))
    ctx = api.context("s-1")
    assert ctx["personalized"] is False
    assert [c["purpose"] for c in ctx["consents"]] == ["analytics"]
    assert ctx["session"]["views"] == []
    assert ctx["session"]["cart"]["items"] == 2  # the session's own cart is always there


def test_anonymous_session_switches_to_the_customer_once_identified(api: Api) -> None:
    anon = {"anonymous_id": "visitor-7"}
    api.load(consent(anon, True, "2011-11-01T00:00:00Z"), *browsing(anon, "s-anon"))
    ctx = api.context("s-anon")
    assert ctx["anonymous"] is True and ctx["customer_id"] is None
    assert ctx["personalized"] is True  # the visitor's own consent
    assert len(ctx["session"]["views"]) == 5
    # the visitor logs in: an event carrying both ids links the history
    api.load(
        ev(
            "page_view",
            "2011-12-01T09:50:00Z",
            session_id="s-anon",
            url="/account",
            anonymous_id="visitor-7",
            customer_id="c-9",
        )
    )
    ctx = api.context("s-anon")
    assert ctx["anonymous"] is False and ctx["customer_id"] == "c-9"
    assert ctx["personalized"] is True  # consent given before login still applies
    assert ctx["customer"]["id"] == "c-9"
    assert len(ctx["session"]["views"]) == 5


def test_device_variants_and_verbosity(api: Api) -> None:
    api.load(
        consent(CUST, True, "2011-11-01T00:00:00Z"),
        *browsing(CUST, "s-mobile", device="mobile", views=6),
        *browsing(CUST, "s-desk", device="desktop", day="2011-12-02", views=6),
    )
    mobile = api.context("s-mobile")
    desktop = api.context("s-desk")
    assert (mobile["verbosity"], len(mobile["session"]["views"])) == ("concise", 3)
    assert (desktop["verbosity"], len(desktop["session"]["views"])) == ("full", 6)
    assert len(mobile["triggers"]) <= 1
    forced = api.context("s-desk", device="mobile")
    assert forced["verbosity"] == "concise" and forced["session"]["device"] == "mobile"
    assert api.context("s-mobile", verbosity="full")["verbosity"] == "full"
    assert len(api.context("s-mobile", format="text")) < len(
        api.context("s-mobile", format="text", verbosity="full")
    )


def test_triggers_and_temporal_context(api: Api) -> None:
    vip = {"customer_id": "c-vip"}
    api.load(
        consent(vip, True, "2011-01-01T00:00:00Z"),
        ev("loyalty_updated", "2011-01-02T00:00:00Z", points=5000, tier="Gold", **vip),
        ev("page_view", "2011-03-01T08:00:00Z", session_id="s-old", url="/", **vip),
        *browsing(vip, "s-new", day="2011-12-01"),
    )
    ctx = api.context("s-new", at="2011-12-01T11:00:00Z", tz="Europe/London")
    ids = [t["id"] for t in ctx["triggers"]]
    assert ids == ["cart_abandonment_reminder", "vip_offer", "lapsed_customer"]
    assert "2 item(s) worth 9" in ctx["triggers"][0]["say"]
    assert ctx["customer"]["tier"] == "Gold" and ctx["customer"]["sessions"] == 2
    t = ctx["temporal"]
    assert (t["timezone"], t["timezone_source"], t["season"]) == (
        "Europe/London",
        "request",
        "winter",
    )
    assert (t["weekday"], t["part_of_day"], t["local_time"]) == (
        "thursday",
        "morning",
        "2011-12-01T11:00+00:00",
    )
    assert [p["id"] for p in t["promotions"]] == ["free-delivery", "christmas-shop-2011"]
    tokyo = api.context("s-new", at="2011-12-01T11:00:00Z", tz="Asia/Tokyo")["temporal"]
    assert (tokyo["local_time"], tokyo["part_of_day"]) == ("2011-12-01T20:00+09:00", "evening")
    # before the cart goes idle there is no reminder; a first visit says so
    api.load(
        consent({"customer_id": "c-new"}, True, "2011-01-01T00:00:00Z"),
        *browsing({"customer_id": "c-new"}, "s-first"),
    )
    first = api.context("s-first", at="2011-12-01T09:35:00Z")
    assert [t["id"] for t in first["triggers"]] == ["first_visit"]


def test_recommendations_fall_back_to_popular_products(api: Api) -> None:
    buyers = [{"customer_id": f"b{i}"} for i in range(3)]
    api.load(
        *[
            ev(
                "purchase",
                "2011-11-30T10:00:00Z",
                session_id=f"buy{i}",
                order_id=f"o{i}",
                lines=[{"product_id": "hit", "qty": 1, "unit_price": 2.0, "name": "HIT MUG"}],
                amount=2.0,
                currency="GBP",
                **b,
            )
            for i, b in enumerate(buyers)
        ]
    )
    api.load(*browsing(CUST, "s-1"))
    recs = api.context("s-1")["recommendations"]
    assert recs and recs[0]["product_id"] == "hit" and recs[0]["source"] == "popular"
    assert recs[0]["personal"] is False and "3 customers" in recs[0]["reason"]


@pytest.mark.parametrize("budget", [16, 24, 40, 80, 200, 1000])
def test_text_never_exceeds_the_token_budget(api: Api, budget: int) -> None:
    api.load(consent(CUST, True, "2011-11-01T00:00:00Z"), *browsing(CUST, "s-1", views=12))
    text = api.context("s-1", format="text", max_tokens=budget, at="2011-12-01T12:00:00Z")
    assert 0 < count_tokens(text) <= budget
    assert text.startswith("Session s-1")
    if budget >= 200:
        assert "Say: Their cart still holds" in text and "Viewed:" in text


def test_customer_profile(api: Api) -> None:
    api.load(
        consent(CUST, True, "2011-11-01T00:00:00Z"),
        ev(
            "purchase",
            "2011-11-30T10:00:00Z",
            session_id="b",
            order_id="o1",
            lines=[{"product_id": "x", "qty": 3, "unit_price": 2.5}],
            amount=7.5,
            currency="GBP",
            **CUST,
        ),
    )
    r = api.client.get("/v1/customers/c-1", headers=api.h("chatbot:read"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["personalized"] is True and body["profile"]["lifetime_value"] == 7.5
    assert body["profile"]["orders"] == 1 and "email" not in str(body)
    analytics = api.client.get(
        "/v1/customers/c-1", params={"purpose": "analytics"}, headers=api.h("analyst:read")
    ).json()
    assert analytics["personalized"] is False and analytics["profile"] is None


def test_ties_break_by_id_on_every_engine(api: Api) -> None:
    """Five categories bought once each: the top three are the first by id, however the
    engine happened to walk them."""
    cats = ["c-e", "c-a", "c-d", "c-b", "c-c"]
    day = "2011-11-30"
    api.load(
        consent(CUST, True, f"{day}T08:00:00Z"),
        consent(CUST, True, f"{day}T08:00:00Z", purpose="analytics"),
        *[
            ev(
                "product_view",
                f"{day}T09:0{i}:00Z",
                session_id="s-cats",
                product_id=f"k{i}",
                category_id=cat,
                **CUST,
            )
            for i, cat in enumerate(cats)
        ],
        ev(
            "purchase",
            f"{day}T09:30:00Z",
            session_id="s-cats",
            order_id="o-cats",
            lines=[{"product_id": f"k{i}", "qty": 1, "unit_price": 1.0} for i in range(5)],
            amount=5.0,
            currency="GBP",
            **CUST,
        ),
    )
    r = api.client.get("/v1/customers/c-1", headers=api.h("chatbot:read"))
    assert r.status_code == 200, r.text
    assert r.json()["profile"]["preferred_categories"] == ["c-a", "c-b", "c-c"]
    ctx = api.context("s-cats")
    assert ctx["customer"]["preferred_categories"] == ["c-a", "c-b", "c-c"]


def test_errors(api: Api) -> None:
    h = api.h("chatbot:read")
    get = api.client.get
    r = get("/v1/sessions/nope/context", headers=h)
    assert (r.status_code, r.json()["detail"]["reason"]) == (404, "session_not_found")
    r = get("/v1/customers/nope", headers=h)
    assert (r.status_code, r.json()["detail"]["reason"]) == (404, "customer_not_found")
    api.load(*browsing(CUST, "s-1"))
    cases: tuple[dict[str, Any], ...] = (
        {"max_tokens": 3, "format": "text"},
        {"tz": "Mars/Olympus"},
        {"at": "2011-12-01T10:00:00"},
        {"device": "fridge"},
        {"format": "xml"},
        {"at": "yesterday"},
        {"verbosity": "loud"},
    )
    for params in cases:
        r = get("/v1/sessions/s-1/context", params=params, headers=h)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["detail"]["reason"] in ("invalid_request", "invalid_parameter")
    r = get("/v1/customers/%20padded", headers=h)
    assert r.status_code == 422


def test_context_route_parses_like_a_declared_route(api: Api) -> None:
    """The context route reads its own key, path and query (api.deps.DirectRoute): it must
    answer and document them exactly as FastAPI would for a declared route."""
    api.load(*browsing(CUST, "s-1"))
    get = api.client.get
    key = api.keys["chatbot:read"]
    assert get("/v1/sessions/s-1/context", headers={"X-API-Key": key}).status_code == 200
    wrong = {"Authorization": f"Bearer {api.keys['ingest:write']}", "X-API-Key": key}
    assert get("/v1/sessions/s-1/context", headers=wrong).status_code == 403  # Bearer wins
    r = get("/v1/sessions/%20s-1/context", headers={"X-API-Key": key})
    assert r.status_code == 422
    assert r.json()["detail"]["errors"][0]["loc"][:2] == ["path", "session_id"]
    r = get("/v1/sessions/s-1/context", params={"max_tokens": "many"}, headers={"X-API-Key": key})
    assert r.json()["detail"]["errors"][0]["loc"] == ["query", "max_tokens"]
    spec = api.client.get("/openapi.json").json()["paths"]
    ours = {
        (p["in"], p["name"]): p
        for p in spec["/v1/sessions/{session_id}/context"]["get"]["parameters"]
    }
    assert set(ours) == {
        ("path", "session_id"),
        ("query", "format"),
        ("query", "max_tokens"),
        ("query", "device"),
        ("query", "verbosity"),
        ("query", "tz"),
        ("query", "at"),
    }
    assert ours[("query", "max_tokens")]["schema"]["maximum"] == 8192
    # the key is a security requirement on both kinds of route, not a header parameter
    declared = spec["/v1/customers/{customer_id}"]["get"]
    assert {p["in"] for p in declared["parameters"]} == {"path", "query"}
    assert {("bearer", "chatbot:read"), ("apiKey", "chatbot:read")} <= {
        (scheme, scope) for r in declared["security"] for scheme, (scope,) in r.items()
    }
    context = spec["/v1/sessions/{session_id}/context"]["get"]
    assert context["security"] == [{"bearer": ["chatbot:read"]}, {"apiKey": ["chatbot:read"]}]


# every route that needs a key, and the one scope that opens it (others: 403, none: 401)
ROUTES = [
    ("GET", "/v1/sessions/s-1/context", {"chatbot:read"}),
    ("GET", "/v1/customers/c-1", {"chatbot:read", "analyst:read"}),
    ("POST", "/v1/events", {"ingest:write"}),
]


def test_auth_matrix(api: Api) -> None:
    api.load(consent(CUST, True, "2011-11-01T00:00:00Z"), *browsing(CUST, "s-1"))
    body = {"events": [ev("page_view", "2011-12-01T10:00:00Z", session_id="s-1", url="/", **CUST)]}
    for method, path, allowed in ROUTES:
        kwargs: dict[str, Any] = {"json": body} if method == "POST" else {}
        for scope in [None, "bogus", *SCOPES]:
            headers = (
                {}
                if scope is None
                else {"Authorization": f"Bearer {api.keys.get(scope, 'ckg_unknown')}"}
            )
            r = api.client.request(method, path, headers=headers, **kwargs)
            expected = 401 if scope not in SCOPES else 200 if scope in allowed else 403
            assert r.status_code == expected, (method, path, scope, r.text)
            if expected != 200:
                assert r.json()["detail"]["reason"] in ("unauthenticated", "forbidden")
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json"):
        assert api.client.get(path).status_code == 200, path


def test_store_outage_is_a_503_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        neo4j_uri="bolt://127.0.0.1:9",
        neo4j_connect_timeout_s=0.5,
        api_keys_file=tmp_path / "keys.json",
    )
    key = create_key(settings.api_keys_file, "bot", ["chatbot:read"])
    with TestClient(create_app(settings)) as client:
        r = client.get("/v1/sessions/s-1/context", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["detail"]["reason"] == "store_unavailable"


def test_keys_from_settings(
    engine_settings: Settings, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    import hashlib

    secret = "ckg_from-settings-0123456789"
    settings = own_files(
        engine_settings,
        tmp_path,
        api_keys_file=tmp_path / "none.json",
        api_keys=[
            {
                "name": "env",
                "sha256": hashlib.sha256(secret.encode()).hexdigest(),
                "scopes": ["chatbot:read"],
            }
        ],
    )
    with emptied(settings, test_queries), TestClient(create_app(settings)) as client:
        h = {"Authorization": f"Bearer {secret}"}
        assert client.get("/v1/sessions/zz/context", headers=h).status_code == 404
        assert client.post("/v1/events", json={"events": [{}]}, headers=h).status_code == 403


# -- first visit and replays (`at=`) ---------------------------------------------------------


def test_first_visit_means_no_earlier_session(api: Api) -> None:
    """A session that began while an earlier one was still going is not a first visit."""
    api.load(
        consent(CUST, True, "2011-11-01T00:00:00Z"),
        consent(CUST, True, "2011-11-01T00:00:00Z", purpose="analytics"),
        ev("page_view", "2011-12-01T09:00:00Z", session_id="s-a", url="/", **CUST),
        ev("page_view", "2011-12-01T11:00:00Z", session_id="s-a", url="/", **CUST),
        ev("page_view", "2011-12-01T10:00:00Z", session_id="s-b", url="/", **CUST),
    )
    first = api.context("s-a", at="2011-12-01T11:30:00Z")
    later = api.context("s-b", at="2011-12-01T11:30:00Z")
    assert [t["id"] for t in first["triggers"]] == ["first_visit"]
    assert later["triggers"] == [] and later["customer"]["sessions"] == 2
    assert [t["id"] for t in api.context("s-b")["triggers"]] == []


def retail_rows(customer: str) -> list[dict[str, str]]:
    with gzip.open(RETAIL_SAMPLE, "rt", encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if r["CustomerID"] == f"{customer}.0"]


def test_first_visit_after_retention_on_real_data(
    store: Store, engine_settings: Settings, tmp_path: Path
) -> None:
    """Customer 17850 of the sample after retention removed its sessions of 1 December: its
    first remaining session is no first visit, its 30-odd earlier orders say so."""
    rows = retail_rows("17850")
    sample = tmp_path / "17850.csv"
    with sample.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ingest_file(store, sample, fmt="online-retail", dead_letter=tmp_path / "dl.jsonl")
    cut = retention(store, get_queries(), 1, as_of=ms("2010-12-02T12:00:00Z"))
    gone = {r["InvoiceNo"] for r in rows if r["InvoiceDate"] < "2010-12-01 12:00"}
    assert cut.sessions == len(gone) == 10
    settings = own_files(engine_settings, tmp_path)  # the store fixture's graph
    key = create_key(settings.api_keys_file, "bot", ["chatbot:read"])
    with TestClient(create_app(settings)) as client:
        r = client.get(
            "/v1/sessions/retail:536600/context", headers={"Authorization": f"Bearer {key}"}
        )
    ctx = r.json()
    assert ctx["customer"]["orders"] == 34 and ctx["customer"]["sessions"] == 34 - cut.sessions
    assert [t["id"] for t in ctx["triggers"]] == ["vip_offer"]


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.fixture(scope="module")
def retail(
    module_api_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The bundled online-retail sample (December 2010), loaded once for this module."""
    settings = module_api_settings
    dead_letter = tmp_path_factory.mktemp("retail") / "dl.jsonl"
    store = open_store(settings)
    try:
        ingest_file(store, RETAIL_SAMPLE, fmt="online-retail", dead_letter=dead_letter)
    finally:
        store.close()
    keys: dict[str, str] = {s: create_key(settings.api_keys_file, s, [s]) for s in SCOPES}
    with TestClient(create_app(settings)) as client:
        yield Api(client, keys, settings)


def as_of_csv(rows: list[dict[str, str]], at: str) -> tuple[int, float]:
    """A customer's invoices up to `at` and their value, straight from the CSV rows (the
    retailer's local time is UTC in December); each invoice is one order and one session."""
    before = [r for r in rows if r["InvoiceDate"] <= at.replace("T", " ").removesuffix("Z")]
    value = round(sum(int(r["Quantity"]) * float(r["UnitPrice"]) for r in before), 2)
    return len({r["InvoiceNo"] for r in before}), value


def test_replay_of_a_real_session_sees_only_its_past(retail: Api) -> None:
    rows = retail_rows("17850")
    # the sample's rows of this customer are plain purchases: each invoice is an order
    assert not any(r["InvoiceNo"].startswith("C") for r in rows)
    live = retail.context("retail:536365")
    assert (live["customer"]["orders"], live["customer"]["lifetime_value"]) == (34, 5391.21)
    assert live["customer"]["sessions"] == 34
    # its first session: without `at` the profile is today's, so the VIP offer fires too
    assert [t["id"] for t in live["triggers"]] == ["vip_offer", "first_visit"]
    assert [t["id"] for t in retail.context("retail:536366")["triggers"]] == ["vip_offer"]

    at = "2010-12-01T08:26:00Z"  # the invoice's own time
    then = retail.context("retail:536365", at=at)
    orders, value = as_of_csv(rows, at)
    assert (orders, value) == (1, 139.12)
    c = then["customer"]
    assert (c["orders"], c["lifetime_value"], c["sessions"]) == (orders, value, orders)
    assert c["first_seen"] == at and c["last_seen"] == at
    assert [t["id"] for t in then["triggers"]] == ["first_visit"]  # not a VIP yet
    assert then["personalized"] is True and then["as_of"] == at
    assert then["recommendations"] == []  # popular products are today's ranking
    assert all(x["at"] <= at for x in then["consents"])

    at = "2010-12-01T09:30:00Z"
    later = retail.context("retail:536366", at=at)
    orders, value = as_of_csv(rows, at)
    assert (orders, value) == (4, 443.38)
    c = later["customer"]
    assert (c["orders"], c["lifetime_value"], c["sessions"]) == (orders, value, orders)
    assert c["last_seen"] == "2010-12-01T09:02:00Z"
    assert later["triggers"] == []  # neither a VIP nor a first visit
    text = retail.context("retail:536365", at=at, format="text", max_tokens=200)
    assert "4 orders, lifetime value 443.38" in text and "VIP" not in text


def test_replay_before_the_session_started_is_refused(retail: Api) -> None:
    r = retail.client.get(
        "/v1/sessions/retail:536366/context",
        params={"at": "2010-12-01T08:27:00Z"},
        headers=retail.h("chatbot:read"),
    )
    assert r.status_code == 422
    assert r.json()["detail"]["reason"] == "session_not_started"
    assert "2010-12-01T08:28:00Z" in r.json()["detail"]["message"]


def test_replay_inside_a_session_rebuilds_it_from_its_events(api: Api) -> None:
    api.load(consent(CUST, True, "2011-11-01T00:00:00Z"), *browsing(CUST, "s-1"))
    api.load(
        ev(
            "remove_from_cart",
            "2011-12-01T09:40:00Z",
            session_id="s-1",
            product_id="p1",
            qty=1,
            unit_price=4.5,
            currency="GBP",
            **CUST,
        ),
    )
    early = api.context("s-1", at="2011-12-01T09:02:30Z")
    s = early["session"]
    assert [(v["product_id"], v["views"]) for v in s["views"]] == [("p2", 1), ("p1", 1), ("p0", 1)]
    assert s["views"][0]["dwell_ms"] == 3000 and s["views"][0]["last_at"] == "2011-12-01T09:02:00Z"
    assert (s["events"], s["intent"], s["last_seen_at"]) == (3, "browse", "2011-12-01T09:02:00Z")
    assert s["searches"] == [] and s["last_chat_intent"] is None
    assert s["cart"]["items"] == 0 and s["cart"]["lines"] == []
    mid = api.context("s-1", at="2011-12-01T09:31:30Z")["session"]
    assert [q["text"] for q in mid["searches"]] == ["red lantern"] and mid["intent"] == "cart"
    assert (mid["cart"]["items"], mid["cart"]["value"], mid["cart"]["idle_minutes"]) == (
        2,
        9.0,
        0.5,
    )
    assert mid["last_chat_intent"] is None
    chat = api.context("s-1", at="2011-12-01T09:35:00Z")["session"]
    assert chat["last_chat_intent"] == "delivery_time" and chat["cart"]["items"] == 2
    after = api.context("s-1", at="2011-12-01T09:45:00Z")["session"]
    assert after["cart"]["items"] == 1 and after["events"] == 9
    live = api.context("s-1")["session"]
    assert after == {**live, "cart": {**live["cart"], "idle_minutes": 5.0, "abandoned": False}}


def test_replay_uses_consents_and_loyalty_as_they_were(api: Api) -> None:
    vip = {"customer_id": "c-vip"}
    api.load(
        consent(vip, True, "2011-01-01T00:00:00Z", purpose="analytics"),
        consent(vip, True, "2011-06-01T00:00:00Z"),
        ev("loyalty_updated", "2011-06-02T00:00:00Z", points=5000, tier="Gold", **vip),
        ev("page_view", "2011-03-01T08:00:00Z", session_id="s-march", url="/", **vip),
        ev("page_view", "2011-07-01T08:00:00Z", session_id="s-july", url="/", **vip),
    )
    march = api.context("s-march", at="2011-03-01T08:05:00Z")
    assert march["personalized"] is False and march["customer"] is None  # consent came later
    assert [c["purpose"] for c in march["consents"]] == ["analytics"]
    july = api.context("s-july", at="2011-07-01T08:05:00Z")
    assert july["personalized"] is True and july["customer"]["tier"] == "Gold"
    assert [t["id"] for t in july["triggers"]] == ["vip_offer", "lapsed_customer"]
    # the March session replayed in June: personalized, but the tier came after it
    june = api.context("s-march", at="2011-06-01T12:00:00Z")
    assert june["personalized"] is True
    assert june["customer"]["tier"] is None and june["customer"]["points"] == 0
    assert [t["id"] for t in june["triggers"]] == ["first_visit"]
    # a withdrawal since applies to replays too, and the answer shows it
    api.load(consent(vip, False, "2011-08-01T00:00:00Z"))
    withdrawn = api.context("s-july", at="2011-07-01T08:05:00Z")
    assert withdrawn["personalized"] is False and withdrawn["customer"] is None
    decided = {c["purpose"]: (c["granted"], c["at"]) for c in withdrawn["consents"]}
    assert decided["personalization"] == (False, "2011-08-01T00:00:00Z")
