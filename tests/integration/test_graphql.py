"""POST /v1/graphql against the live app (ASGI) on each engine.

Its answers must be the REST routes' answers for the same ids (profile, consents,
recommendations, contexts), with the same consent gating; keys are checked as on REST (401,
403 in the error envelope); depth, alias, size and cost limits refuse a query with a reason;
no input answers 5xx; and a customer's profile, recommendations and sessions with their
contexts take a fixed number of store round trips, however many sessions there are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from graph.queries import get_queries
from tests.helpers import Api, event_builder, live_server, running_api

ev = event_builder("gq")
DAY = "2011-12-01"
AT = "2011-12-01T12:00:00+00:00"
FAN = {"customer_id": "gq-1"}  # consents to personalization; three sessions
SHY = {"customer_id": "gq-2"}  # analytics only
SESSIONS = ("gq-s1", "gq-s2", "gq-s3")


def _consents(who: dict[str, str], *purposes: str) -> list[dict[str, Any]]:
    return [
        ev("consent_changed", f"{DAY}T08:00:00Z", purpose=p, granted=True, source="test", **who)
        for p in purposes
    ]


def _session(who: dict[str, str], session: str, hour: int) -> list[dict[str, Any]]:
    at = f"{DAY}T{hour:02d}"
    views = [
        ev(
            "product_view",
            f"{at}:0{i}:00Z",
            session_id=session,
            device="mobile" if hour % 2 else "desktop",
            product_id=f"gq-p{i}",
            dwell_ms=1000 * (i + 1),
            **who,
        )
        for i in range(3)
    ]
    cart = ev(
        "add_to_cart",
        f"{at}:05:00Z",
        session_id=session,
        product_id="gq-p1",
        qty=2,
        unit_price=4.5,
        currency="GBP",
        **who,
    )
    return [*views, cart]


def _purchase(who: dict[str, str], n: int, product: str) -> dict[str, Any]:
    return ev(
        "purchase",
        f"2011-11-30T1{n}:00:00Z",
        session_id=f"gq-buy-{who['customer_id']}-{n}",
        order_id=f"gq-o-{who['customer_id']}-{n}",
        lines=[{"product_id": product, "qty": 1, "unit_price": 2.0, "name": f"{product} MUG"}],
        amount=2.0,
        currency="GBP",
        **who,
    )


def load(api: Api, sessions: int = 3) -> None:
    """Two customers and a few buyers; SIMILAR edges as a promoted model writes them, so
    personal recommendations have paths to explain."""
    events = _consents(FAN, "analytics", "personalization") + _consents(SHY, "analytics")
    for i, s in enumerate(SESSIONS[:sessions]):
        events += _session(FAN, s, 9 + i)
    events += _session(SHY, "gq-shy", 9)
    events += [_purchase(FAN, 1, "gq-p0")]
    for n, who in enumerate({"customer_id": f"gq-b{i}"} for i in range(3)):
        events += _consents(who, "analytics")
        events += [_purchase(who, n + 2, p) for p in ("gq-hit", "gq-p2", "gq-p9")]
    api.load(*events)
    rows = [
        {"id": "gq-p0", "ids": ["gq-p2", "gq-hit"], "scores": [0.9, 0.5]},
        {"id": "gq-p1", "ids": ["gq-p2"], "scores": [0.8]},
    ]
    q = get_queries()
    api.store.write(q.replace_product_similar, {"rows": rows, "model": "gq-m"})
    popularity = [{"id": "gq-hit", "popularity": 1.0}, {"id": "gq-p9", "popularity": 0.5}]
    api.store.write(q.set_product_popularity, {"rows": popularity})


def gql(api: Api, query: str, variables: Any = None, key: str | None = "chatbot:read") -> Any:
    """The TestClient's response."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    headers = api.h(key) if key else {}
    return api.client.post("/v1/graphql", json=body, headers=headers)


def data(api: Api, query: str, variables: Any = None, key: str = "chatbot:read") -> Any:
    r = gql(api, query, variables, key)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def errors(api: Api, query: str, variables: Any = None, key: str = "chatbot:read") -> list[Any]:
    r = gql(api, query, variables, key)
    assert r.status_code == 200, r.text
    found: list[Any] = r.json()["errors"]
    return found


def rest(api: Api, path: str, key: str = "chatbot:read", **params: Any) -> Any:
    r = api.client.get(path, params=params, headers=api.h(key))
    assert r.status_code == 200, r.text
    return r.json()


def camel(value: Any) -> Any:
    """A REST answer with GraphQL's field names."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m[1].upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def as_items(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """A REST recommendations answer as the GraphQL items."""
    return [
        {
            "product": {"sku": i["product_id"], "name": i["name"]},
            "score": i["score"],
            "reason": camel(i["reason"]),
            "personalized": answer["personalized"] and i["reason"]["kind"] != "popular",
        }
        for i in answer["items"]
    ]


CONTEXT_FIELDS = """
  sessionId asOf purpose personalized anonymous customerId verbosity
  customer { id tier tierSince points lifetimeValue orders rfm { r f m }
             segments { kind name score } preferredCategories firstSeen lastSeen country sessions }
  session { id channel device startedAt lastSeenAt events intent lastChatIntent
            views { productId name views dwellMs lastAt } searches { text count lastAt }
            cart { lines { productId name qty unitPrice value }
                   items value idleMinutes abandoned } }
  temporal { timezone timezoneSource localTime partOfDay weekday season promotions { id text } }
  triggers { id priority say }
  recommendations { productId name score source personal reason }
  consents { purpose granted at source }
"""
PROFILE_FIELDS = """id tier tierSince points lifetimeValue orders rfm { r f m }
  segments { kind name score } preferredCategories firstSeen lastSeen country sessions"""
ITEM_FIELDS = """product { sku name } score personalized
  reason { kind text path { label type id name score } }"""

CUSTOMER = f"""
query ($id: String!, $at: String) {{
  customer(id: $id) {{
    id personalized reason
    profile {{ {PROFILE_FIELDS} }}
    segments {{ kind name score }}
    consents {{ purpose granted at source }}
    recommendations(k: 4) {{ {ITEM_FIELDS} }}
    sessions(limit: 10) {{ id channel device startedAt lastSeenAt
                           context(at: $at, tz: "Europe/London") {{ {CONTEXT_FIELDS} }} }}
  }}
}}"""


def test_answers_equal_the_rest_routes(api: Api) -> None:
    load(api)
    got = data(api, CUSTOMER, {"id": "gq-1", "at": AT})["customer"]
    profile = rest(api, "/v1/customers/gq-1")
    assert got["personalized"] is profile["personalized"] is True and got["reason"] is None
    assert got["profile"] == camel(profile["profile"]) and got["profile"]["orders"] == 1
    assert got["segments"] == camel(profile["profile"]["segments"])
    assert got["consents"] == camel(profile["consents"])
    recs = rest(api, "/v1/customers/gq-1/recommendations", k=4)
    assert got["recommendations"] == as_items(recs)
    # personal items (SIMILAR to a purchase) first, then the popular fill
    kinds = [i["reason"]["kind"] for i in got["recommendations"]]
    assert kinds[0] == "similar_to_purchased" and kinds[-1] == "popular", kinds
    # latest activity first, each context the REST route's
    assert [s["id"] for s in got["sessions"]] == [*reversed(SESSIONS), "gq-buy-gq-1-1"]
    for s in got["sessions"]:
        ctx = rest(api, f"/v1/sessions/{s['id']}/context", at=AT, tz="Europe/London")
        assert s["context"] == camel(ctx)
        assert (s["device"], s["startedAt"]) == (
            ctx["session"]["device"],
            ctx["session"]["started_at"],
        )
    assert got["sessions"][0]["context"]["session"]["views"], "personal views are shown"


def test_session_and_product_equal_the_rest_routes(api: Api) -> None:
    load(api)
    query = f"""{{
      session(id: "gq-s1") {{ id context {{ {CONTEXT_FIELDS} }}
                             recommendations(k: 3) {{ {ITEM_FIELDS} }} }}
      product(sku: "gq-p0") {{ sku name categories similar(k: 3) {{ {ITEM_FIELDS} }} }}
    }}"""
    got = data(api, query)
    recs = rest(api, "/v1/sessions/gq-s1/recommendations", k=3)
    assert got["session"]["recommendations"] == as_items(recs)
    assert got["session"]["recommendations"][0]["reason"]["kind"] == "similar_to_viewed"
    live = rest(api, "/v1/sessions/gq-s1/context")
    ctx = got["session"]["context"]
    # a live read: the clock moved between the two answers, nothing else did
    for moving in ("asOf", "temporal"):
        ctx.pop(moving), live.pop(moving.replace("asOf", "as_of"))
    ctx["session"]["cart"].pop("idleMinutes"), live["session"]["cart"].pop("idle_minutes")
    assert ctx == camel(live)
    similar = rest(api, "/v1/products/gq-p0/similar", k=3)
    assert got["product"]["similar"] == as_items(similar)
    assert got["product"]["sku"] == "gq-p0" and got["product"]["categories"] == []


def test_without_personalization_consent_personal_fields_are_null(api: Api) -> None:
    load(api)
    got = data(api, CUSTOMER, {"id": "gq-2", "at": AT})["customer"]
    assert got["personalized"] is False
    assert got["reason"] == "consent_missing:personalization"
    assert got["profile"] is None and got["segments"] is None and got["sessions"] is None
    profile = rest(api, "/v1/customers/gq-2")
    assert profile["profile"] is None and got["consents"] == camel(profile["consents"])
    recs = rest(api, "/v1/customers/gq-2/recommendations", k=4)
    assert recs["personalized"] is False and got["recommendations"] == as_items(recs)
    assert got["recommendations"] and not any(i["personalized"] for i in got["recommendations"])
    # the session's own context: cart kept, personal history withheld, exactly as REST
    query = f'{{ session(id: "gq-shy") {{ context(at: "{AT}") {{ {CONTEXT_FIELDS} }} }} }}'
    ctx = data(api, query)["session"]["context"]
    assert ctx == camel(rest(api, "/v1/sessions/gq-shy/context", at=AT))
    assert ctx["personalized"] is False and ctx["session"]["views"] == []
    assert ctx["session"]["cart"]["items"] == 2


def test_keys_and_scopes(api: Api) -> None:
    load(api, sessions=1)
    query = '{ customer(id: "gq-1") { id profile { id } recommendations { score } } }'
    r = gql(api, query, key=None)
    assert r.status_code == 401 and r.json()["detail"]["reason"] == "unauthenticated"
    r = api.client.post("/v1/graphql", json={"query": query}, headers={"X-API-Key": "nope"})
    assert r.status_code == 401 and r.json()["detail"]["reason"] == "unauthenticated"
    r = gql(api, query, key="ingest:write")
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "forbidden"
    # analyst:read reads the profile, as on GET /v1/customers/{id}, and nothing else
    r = gql(api, query, key="analyst:read")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"]["customer"]["profile"]["id"] == "gq-1"
    assert body["data"]["customer"]["recommendations"] is None
    assert [(e["path"], e["extensions"]["reason"]) for e in body["errors"]] == [
        (["customer", "recommendations"], "forbidden")
    ]
    for other in ('{ session(id: "gq-s1") { id } }', '{ product(sku: "gq-p0") { sku } }'):
        (err,) = errors(api, other, key="analyst:read")
        assert err["extensions"]["reason"] == "forbidden"
    headers = {**api.h("chatbot:read"), "X-API-Key": api.keys["chatbot:read"]}
    two = [("authorization", headers["Authorization"])] * 2
    r = api.client.post("/v1/graphql", json={"query": query}, headers=two)
    assert r.status_code == 400 and r.json()["detail"]["reason"] == "ambiguous_credentials"


def _reasons(errs: list[Any]) -> list[str]:
    return [e["extensions"]["reason"] for e in errs]


def test_depth_alias_size_and_cost_limits(api: Api) -> None:
    deep = '{ customer(id: "x") ' + "{ a " * 9 + "}" * 10
    assert "query_too_deep" in _reasons(errors(api, deep))
    aliases = "{ " + " ".join(f'a{i}: product(sku: "p") {{ sku }}' for i in range(16)) + " }"
    assert _reasons(errors(api, aliases)) == ["too_many_aliases"]
    big = "{ " + "__typename " * 2100 + "}"
    assert _reasons(errors(api, big)) == ["too_many_tokens"]
    costly = f"""query ($k: Int!) {{ customer(id: "gq-1") {{
      recommendations(k: $k) {{ {ITEM_FIELDS} }} }} }}"""
    r = gql(api, costly, {"k": 100_000})
    body = r.json()
    assert r.status_code == 200 and body["data"] is None
    (err,) = body["errors"]
    assert err["extensions"]["reason"] == "query_too_costly"
    assert err["extensions"]["cost"] > err["extensions"]["max"]
    sessions = f"sessions(limit: 50) {{ context {{ {CONTEXT_FIELDS} }} }}"
    two = f'{{ a: customer(id: "x") {{ {sessions} }} b: customer(id: "y") {{ {sessions} }} }}'
    assert _reasons(errors(api, two)) == ["query_too_costly"]
    # within the limits, the arguments' own bounds hold
    load(api, sessions=1)
    out_of_range = '{ customer(id: "gq-1") { id recommendations(k: 101) { score } } }'
    r = gql(api, out_of_range)
    assert r.json()["data"]["customer"]["id"] == "gq-1"
    assert _reasons(r.json()["errors"]) == ["invalid_parameter"]
    # introspection is allowed and not held to the depth limit
    intro = "{ __schema { types { name fields { name type { name ofType { name ofType { name "
    intro += "ofType { name ofType { name } } } } } } } } }"
    assert data(api, intro)["__schema"]["types"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"query": "{ customer(id: "}, "invalid_query"),
        ({"query": "{ nosuchfield }"}, "invalid_query"),
        ({"query": "{ customer(id: 5) { id } }"}, "invalid_query"),
        (
            {
                "query": 'query ($k: Int!) { product(sku: "p") { similar(k: $k) { score } } }',
                "variables": {"k": "many"},
            },
            "invalid_query",
        ),
        ({"query": '{ customer(id: " padded ") { id } }'}, "invalid_parameter"),
        ({"query": '{ customer(id: "nobody") { id } }'}, "customer_not_found"),
        ({"query": '{ product(sku: "nothing") { sku } }'}, "product_not_found"),
        ({"query": '{ session(id: "nowhere") { context { sessionId } } }'}, "session_not_found"),
        (
            {"query": '{ session(id: "gq-s1") { context(tz: "Mars/Base") { asOf } } }'},
            "invalid_parameter",
        ),
        (
            {"query": '{ session(id: "gq-s1") { context(at: "2011-12-01T12:00:00") { asOf } } }'},
            "invalid_parameter",
        ),
        (
            {"query": '{ session(id: "gq-s1") { context(device: "toaster") { asOf } } }'},
            "invalid_parameter",
        ),
        (
            {"query": '{ product(sku: "gq-p0") { similar(category: "x") { score } } }'},
            "invalid_query",
        ),
        ({"query": "mutation { x }"}, "invalid_query"),
        ({"query": "{ ...F }"}, "invalid_query"),  # an undefined fragment: no fault of ours
        ({"query": '{ customer(id: "x") { ...F } }'}, "invalid_query"),
        ({"query": '{ customer(id: "a\\u0000b") { id } }'}, "invalid_parameter"),
    ],
)
def test_bad_queries_are_graphql_errors_with_a_reason(
    api: Api, body: dict[str, Any], reason: str
) -> None:
    load(api, sessions=1)
    r = api.client.post("/v1/graphql", json=body, headers=api.h("chatbot:read"))
    assert r.status_code == 200, r.text
    assert _reasons(r.json()["errors"]) == [reason]
    assert all(e["message"] for e in r.json()["errors"])


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"variables": {}}', "application/json"),
        (b'{"query": 5}', "application/json"),
        (b'{"query": "{ __typename }", "variables": [1]}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"query=1", "text/plain"),
        (b'"\\ud800"', "application/json"),
    ],
)
def test_requests_that_are_no_graphql_are_400(api: Api, content: bytes, content_type: str) -> None:
    headers = {**api.h("chatbot:read"), "Content-Type": content_type}
    r = api.client.post("/v1/graphql", content=content, headers=headers)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]["reason"] in ("invalid_graphql_request", "invalid_query"), r.text


def test_get_answers_queries(api: Api) -> None:
    load(api, sessions=1)
    headers = api.h("chatbot:read")
    r = api.client.get(
        "/v1/graphql", params={"query": '{ product(sku: "gq-p0") { sku } }'}, headers=headers
    )
    assert r.status_code == 200 and r.json()["data"] == {"product": {"sku": "gq-p0"}}
    r = api.client.get("/v1/graphql", headers=headers)
    assert r.status_code == 400 and r.json()["detail"]["reason"] == "invalid_graphql_request"
    assert api.client.get("/v1/graphql", params={"query": "{ __typename }"}).status_code == 401


def count_reads(api: Api, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """Wrap the store's two read entries (every other read goes through `read`); returns a
    function that hands over the names read since the last call."""
    store, seen = api.store, []
    read, aread = store.read, store.aread

    def counted(query: Any, params: Any = None) -> Any:
        seen.append(query.name)
        return read(query, params)

    async def acounted(query: Any, params: Any = None) -> Any:
        seen.append(query.name)
        return await aread(query, params)

    monkeypatch.setattr(store, "read", counted)
    monkeypatch.setattr(store, "aread", acounted)

    def taken() -> list[str]:
        out = list(seen)
        seen.clear()
        return out

    return taken


ROUND_TRIP = f"""{{ customer(id: "gq-1") {{
  profile {{ id orders }} recommendations(k: 4) {{ {ITEM_FIELDS} }}
  sessions {{ id context {{ sessionId session {{ views {{ productId }} }} }} }} }} }}"""


@pytest.mark.parametrize("sessions", [1, 3])
def test_round_trips_do_not_grow_with_sessions(
    api: Api, monkeypatch: pytest.MonkeyPatch, sessions: int
) -> None:
    load(api, sessions=sessions)
    rest(api, f"/v1/sessions/{SESSIONS[0]}/context")  # the popular products, cached
    taken = count_reads(api, monkeypatch)
    rest(api, "/v1/customers/gq-1")
    rest(api, "/v1/customers/gq-1/recommendations", k=4)
    by_rest = taken()
    got = data(api, ROUND_TRIP)["customer"]
    assert len(got["sessions"]) == sessions + 1  # and the session of the purchase
    assert all(s["context"]["session"]["views"] for s in got["sessions"][:sessions])
    assert sorted(taken()) == sorted([*by_rest, "customer_sessions", "session_contexts"])


def test_sync_reads_leave_the_event_loop(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sync store call of a GraphQL request runs off the event loop's thread."""
    import asyncio
    import threading

    load(api, sessions=1)
    store, threads = api.store, []
    read = store.read

    def where(query: Any, params: Any = None) -> Any:
        try:
            asyncio.get_running_loop()
            threads.append("loop")
        except RuntimeError:
            threads.append(threading.current_thread().name)
        return read(query, params)

    monkeypatch.setattr(store, "read", where)
    data(api, ROUND_TRIP)
    data(api, '{ product(sku: "gq-p0") { sku similar { score } } }')
    assert threads and "loop" not in threads


@pytest.fixture(scope="module")
def fuzzed(module_api_settings: Settings) -> Iterator[Api]:
    with running_api(module_api_settings) as running:
        load(running)
        yield running


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
PIECES = st.sampled_from(
    [
        "{",
        "}",
        "(",
        ")",
        "customer(id: $id)",
        'session(id: "gq-s1")',
        "product(sku: $id)",
        "context(at: $id, tz: $id)",
        "recommendations(k: $k)",
        "sessions(limit: $k)",
        "similar(k: $k)",
        "id profile { id orders }",
        "reason personalized",
        "...F",
        "fragment F on Customer { id }",
        "query ($id: String!, $k: Int!)",
        "__schema { types { name } }",
        "a: ",
        "$",
        '"',
        "\\u0000",
    ]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.one_of(st.lists(PIECES, max_size=12).map(" ".join), st.text(max_size=60)),
    variables=st.one_of(
        st.fixed_dictionaries({"id": st.text(max_size=30), "k": st.integers()}), JSON
    ),
)
def test_no_input_answers_5xx(fuzzed: Api, query: str, variables: Any) -> None:
    r = fuzzed.client.post(
        "/v1/graphql",
        json={"query": query, "variables": variables},
        headers=fuzzed.h("chatbot:read"),
    )
    assert r.status_code < 500, r.text
    body = r.json()
    if r.status_code == 200:
        assert all(e["extensions"]["reason"] != "internal_error" for e in body.get("errors", []))
    else:
        assert body["detail"]["reason"] == "invalid_graphql_request", body


def test_store_outage_is_a_503_in_the_envelope(tmp_path: Path) -> None:
    settings = Settings(
        neo4j_uri="bolt://127.0.0.1:9",
        neo4j_connect_timeout_s=0.5,
        api_keys_file=tmp_path / "keys.json",
    )
    with running_api(settings, {"bot": ("bot", ["chatbot:read"])}) as down:
        r = gql(down, '{ product(sku: "p") { sku } }', key="bot")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["detail"]["reason"] == "store_unavailable"


README_QUERY = """query ($id: String!) {
  customer(id: $id) {
    personalized reason
    profile { tier lifetimeValue orders segments { name } }
    recommendations(k: 3) { product { sku name } score reason { text path { label type id } } }
    sessions(limit: 2) { id lastSeenAt context { session { intent cart { items value } } } }
  }
}"""


def test_the_readme_query_over_real_http(api_settings: Settings, api: Api) -> None:
    """The README's example, sent as curl sends it, to the app under uvicorn."""
    load(api)
    with live_server(api_settings) as port:
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/graphql",
            json={"query": README_QUERY, "variables": {"id": "gq-1"}},
            headers=api.h("chatbot:read"),
        )
    assert r.status_code == 200, r.text
    got = r.json()["data"]["customer"]
    assert got["personalized"] and len(got["recommendations"]) == 3
    assert [s["id"] for s in got["sessions"]] == ["gq-s3", "gq-s2"]
