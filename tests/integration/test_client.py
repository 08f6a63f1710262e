"""The typed client (api.client) against the live app over real HTTP, sync and async.

Its answers must equal what the REST routes return, its models must name only fields the
OpenAPI document has (with the same nesting), and it must wait out a store outage's 503s and
then say `Unavailable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest

from api import client as ckg
from api.app import create_app
from api.auth import SCOPES, create_key
from api.settings import Settings
from tests.helpers import event_builder, live_server

T0 = "2011-12-01"
ev = event_builder("cl")
WHO = {"customer_id": "cl-1"}
SESSION = "cl-s1"


def _events() -> list[dict[str, Any]]:
    out = [
        ev("consent_changed", f"{T0}T08:00:00Z", purpose=p, granted=True, source="test", **WHO)
        for p in ("analytics", "personalization")
    ]
    out += [
        ev(
            "product_view",
            f"{T0}T09:0{i}:00Z",
            session_id=SESSION,
            product_id=f"cl-p{i}",
            dwell_ms=1000,
            **WHO,
        )
        for i in range(3)
    ]
    out.append(
        ev(
            "add_to_cart",
            f"{T0}T09:05:00Z",
            session_id=SESSION,
            product_id="cl-p1",
            qty=2,
            unit_price=4.5,
            currency="GBP",
            **WHO,
        )
    )
    return out


EVENTS = _events()


class Live:
    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key

    def rest(self, path: str, **params: Any) -> Any:
        r = httpx.get(
            self.url + path, params=params, headers={"Authorization": f"Bearer {self.key}"}
        )
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def live(module_api_settings: Settings) -> Iterator[Live]:
    key = create_key(module_api_settings.api_keys_file, "client", list(SCOPES))
    with live_server(module_api_settings) as port:
        live = Live(f"http://127.0.0.1:{port}", key)
        with ckg.CkgClient(live.url, key) as c:
            result = c.record_events(EVENTS)
        assert (result.accepted, result.rejected) == (len(EVENTS), 0), result
        yield live


def test_answers_equal_the_rest_routes(live: Live) -> None:
    # a replay at a fixed instant: the same answer for every read
    at = datetime(2011, 12, 1, 9, 10, tzinfo=UTC)
    with ckg.CkgClient(live.url, live.key) as c:
        context = c.context(SESSION, ckg.ContextOptions(at=at, tz="Europe/London"))
        rest = live.rest(
            f"/v1/sessions/{SESSION}/context", at="2011-12-01T09:10:00+00:00", tz="Europe/London"
        )
        assert context.model_dump() == rest
        assert context.customer_id == "cl-1" and context.personalized
        assert [(ln.product_id, ln.qty) for ln in context.session.cart.lines] == [("cl-p1", 2)]
        text = c.context_text(SESSION, ckg.ContextOptions(max_tokens=64))
        assert "cl-p1" in text or "cart" in text.lower()
        recs = c.customer_recommendations("cl-1", k=3)
        assert recs.model_dump() == live.rest("/v1/customers/cl-1/recommendations", k=3)
        assert c.similar_products("cl-p1", k=2).subject == "cl-p1"
        assert c.session_recommendations(SESSION, k=2).model_dump() == live.rest(
            f"/v1/sessions/{SESSION}/recommendations", k=2
        )
        assert c.customer("cl-1").model_dump() == live.rest("/v1/customers/cl-1")
        assert c.key() == ckg.KeyInfo(name="client", scopes=sorted(SCOPES))


def test_events_are_idempotent_and_rejections_are_an_answer(live: Live) -> None:
    with ckg.CkgClient(live.url, live.key) as c:
        again = c.record_events(EVENTS[:2])
        assert (again.accepted, again.duplicates) == (0, 2)
        mixed = c.record_events([{"type": "no_such_type", "event_id": "x"}, EVENTS[0]])
        assert (mixed.rejected, mixed.duplicates) == (1, 1)
        assert mixed.items[0].status == "rejected" and mixed.items[0].reason


def test_consents_round_trip(live: Live) -> None:
    with ckg.CkgClient(live.url, live.key) as c:
        before = c.consents("cl-1")
        assert before.granted("personalization")
        after = c.update_consents("cl-1", {"marketing": True}, source="client-test")
        assert after.granted("marketing") and after.customer_id == "cl-1"
        assert c.consents("cl-1") == after


def test_errors_carry_status_and_reason(live: Live) -> None:
    with ckg.CkgClient(live.url, live.key) as c:
        with pytest.raises(ckg.NotFoundError) as missing:
            c.context("cl-no-such-session")
        assert (missing.value.status, missing.value.reason) == (404, "session_not_found")
        with pytest.raises(ckg.InvalidRequest) as invalid:
            c.context(SESSION, ckg.ContextOptions(tz="Mars/Olympus"))
        assert invalid.value.status == 422
    with ckg.CkgClient(live.url, "not-a-key") as c, pytest.raises(ckg.AuthError) as refused:
        c.context(SESSION)
    assert refused.value.status == 401


def test_async_client_gives_the_same_answers(live: Live) -> None:
    async def read() -> tuple[ckg.Recommendations, ckg.ConsentState, str]:
        async with ckg.AsyncCkgClient(live.url, live.key) as c:
            recs, consents, text = await asyncio.gather(
                c.customer_recommendations("cl-1", k=3),
                c.consents("cl-1"),
                c.context_text(SESSION),
            )
            with pytest.raises(ckg.NotFoundError):
                await c.similar_products("cl-no-such-product")
            return recs, consents, text

    recs, consents, text = asyncio.run(read())
    with ckg.CkgClient(live.url, live.key) as c:
        assert recs == c.customer_recommendations("cl-1", k=3)
        assert consents == c.consents("cl-1")
        assert text == c.context_text(SESSION)


class Counting(httpx.HTTPTransport):
    """The real transport, counting the requests it sends."""

    sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return super().handle_request(request)


def test_a_store_outage_is_retried_then_unavailable(tmp_path: Path) -> None:
    settings = Settings(
        neo4j_uri="bolt://127.0.0.1:9",
        neo4j_connect_timeout_s=0.5,
        api_keys_file=tmp_path / "keys.json",
    )
    key = create_key(settings.api_keys_file, "bot", ["chatbot:read"])
    transport = Counting()
    with live_server(settings) as port:
        url = f"http://127.0.0.1:{port}"
        c = ckg.CkgClient(url, key, retries=2, max_wait_s=0.05, transport=transport)
        with c, pytest.raises(ckg.Unavailable) as down:
            c.context(SESSION)
    assert (down.value.reason, down.value.retry_after) == ("store_unavailable", 5.0)
    assert transport.sent == 3  # the first try and two retries


def test_a_refused_connection_is_unavailable_after_the_retries() -> None:
    c = ckg.CkgClient("http://127.0.0.1:9", "k", retries=1, max_wait_s=0.01)
    with c, pytest.raises(ckg.Unavailable) as down:
        c.consents("cl-1")
    assert down.value.reason == "connection_failed"


# client model -> the OpenAPI component it reads
COMPONENTS: dict[type[ckg.Answer], str] = {
    ckg.SessionContext: "ContextPublic",
    ckg.SessionState: "SessionStatePublic",
    ckg.Cart: "CartPublic",
    ckg.CartLine: "CartLinePublic",
    ckg.View: "ViewPublic",
    ckg.Trigger: "TriggerPublic",
    ckg.Suggestion: "RecommendationPublic",
    ckg.CustomerSummary: "CustomerSummaryPublic",
    ckg.Customer: "CustomerPublic",
    ckg.Consent: "ConsentPublic",
    ckg.Segment: "SegmentPublic",
    ckg.Rfm: "RfmPublic",
    ckg.Recommendations: "RecommendationsPublic",
    ckg.RecommendedProduct: "RecommendedProductPublic",
    ckg.Reason: "ReasonPublic",
    ckg.PathStep: "PathStepPublic",
    ckg.EventBatchResult: "EventBatchPublic",
    ckg.EventResult: "EventResultPublic",
    ckg.ConsentState: "ConsentStatePublic",
    ckg.ConsentDecision: "ConsentState",
    ckg.KeyInfo: "KeyPublic",
}


def _answer_models(annotation: Any) -> set[type[ckg.Answer]]:
    if isinstance(annotation, type) and issubclass(annotation, ckg.Answer):
        return {annotation}
    return {m for arg in get_args(annotation) for m in _answer_models(arg)}


def _refs(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["$ref"].rsplit("/", 1)[-1]} if "$ref" in schema else set()
        return own.union(*(_refs(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_refs(v) for v in schema))
    return set()


def test_every_client_field_is_one_the_api_documents(tmp_path: Path) -> None:
    settings = Settings(neo4j_uri="bolt://127.0.0.1:9", api_keys_file=tmp_path / "keys.json")
    components = create_app(settings).openapi()["components"]["schemas"]
    for model, name in COMPONENTS.items():
        server = components[name]
        for field, info in model.model_fields.items():
            assert field in server["properties"], f"{model.__name__}.{field} not in {name}"
            if info.is_required():
                assert field in server.get("required", []), f"{model.__name__}.{field}"
            nested = {COMPONENTS[m] for m in _answer_models(info.annotation)}
            assert nested == _refs(server["properties"][field]), f"{model.__name__}.{field}"
    # and every answer model is checked
    models = {v for v in vars(ckg).values() if isinstance(v, type) and issubclass(v, ckg.Answer)}
    assert models - {ckg.Answer} == set(COMPONENTS)
