"""The Dialogflow CX webhook over real HTTP against a live uvicorn on the embedded store.

The request fixtures in tests/data/dialogflow/ follow Dialogflow CX's WebhookRequest as its
reference documents it (https://cloud.google.com/dialogflow/cx/docs/reference/rest/v3/WebhookRequest),
fields Dialogflow adds beyond what ckg reads included; the answers are held to its
WebhookResponse (https://cloud.google.com/dialogflow/cx/docs/reference/rest/v3/WebhookResponse)
and to what GET /v1/sessions/{id}/context says about the same session.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.bot_data import PLAIN_SESSION, VIP_SESSION, LiveApi, live_fixture

DATA = Path(__file__).resolve().parents[1] / "data" / "dialogflow"
ROUTE = "/v1/integrations/dialogflow-cx"


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


REQUEST = fixture("webhook_request.json")
IN_ENVIRONMENT = fixture("webhook_request_environment.json")


def request_for(session: str | None, tag: str = "greet") -> dict[str, Any]:
    body = copy.deepcopy(REQUEST)
    body["fulfillmentInfo"]["tag"] = tag
    if session is None:
        del body["sessionInfo"]["parameters"]["ckg_session_id"]
    else:
        body["sessionInfo"]["parameters"]["ckg_session_id"] = session
    return body


live = live_fixture()


def webhook(live: LiveApi, body: Any, key: str | None = None) -> httpx.Response:
    # Dialogflow CX sends the key as a header configured on the webhook
    headers = {"X-API-Key": key if key is not None else live.key}
    return httpx.post(live.url + ROUTE, json=body, headers=headers, timeout=10)


def said(answer: dict[str, Any]) -> list[str]:
    return [t for m in answer["fulfillmentResponse"]["messages"] for t in m["text"]["text"]]


def test_parameters_are_the_contexts_and_the_message_is_the_top_trigger(live: LiveApi) -> None:
    r = webhook(live, request_for(VIP_SESSION))
    assert r.status_code == 200, r.text
    answer = r.json()
    ctx = live.context(VIP_SESSION)
    segments = [s["name"] for s in ctx["customer"]["segments"]]
    assert segments, "the fixture's customer is in segments"
    assert answer["sessionInfo"]["parameters"] == {
        "ckg_session_id": VIP_SESSION,
        "ckg_personalized": True,
        "ckg_tier": "Gold",
        "ckg_segments": segments,
        "ckg_cart_items": 2,
        "ckg_cart_value": 9.0,
        "ckg_cart_abandoned": True,
        "ckg_trigger_ids": [t["id"] for t in ctx["triggers"]],
        "ckg_top_trigger": ctx["triggers"][0]["say"],
    }
    assert ctx["triggers"][0]["id"] == "cart_abandonment_reminder"
    assert said(answer) == [ctx["triggers"][0]["say"]]
    assert answer["fulfillmentResponse"]["mergeBehavior"] == "APPEND"
    assert set(answer) == {"fulfillmentResponse", "sessionInfo"}


def test_tags_choose_the_message(live: LiveApi) -> None:
    ctx = live.context(VIP_SESSION)
    offer = said(webhook(live, request_for(VIP_SESSION, "recommend")).json())
    first = ctx["recommendations"][0]["name"].capitalize()
    assert offer[0].startswith("You might like: ") and first in offer[0]
    [snippet] = said(webhook(live, request_for(VIP_SESSION, "context")).json())
    rest = live.context(VIP_SESSION, format="text")
    # the snippet's head names the minute it was read: compare the lines after it
    assert snippet.splitlines()[1:] == rest.splitlines()[1:]
    assert snippet.startswith(f"Session {VIP_SESSION}: customer bot-vip")
    # a tag of the agent's own naming is answered like a greeting, never refused
    other = webhook(live, request_for(VIP_SESSION, "Welcome"))
    assert said(other.json()) == [ctx["triggers"][0]["say"]]


def test_without_consent_personal_parameters_are_removed(live: LiveApi) -> None:
    for tag in ("greet", "recommend", "context"):
        r = webhook(live, request_for(PLAIN_SESSION, tag))
        assert r.status_code == 200, r.text
        params = r.json()["sessionInfo"]["parameters"]
        # null removes a parameter from the Dialogflow session, stale values included
        assert (params["ckg_personalized"], params["ckg_tier"], params["ckg_segments"]) == (
            False,
            None,
            None,
        )
        assert "Gold" not in r.text and "lifetime" not in r.text
        assert params["ckg_trigger_ids"] == ["cart_abandonment_reminder"]
    assert live.context(PLAIN_SESSION)["customer"] is None


def test_the_dialogflow_session_id_maps_when_no_parameter_is_set(live: LiveApi) -> None:
    r = webhook(live, IN_ENVIRONMENT)
    assert r.status_code == 200, r.text
    assert r.json()["sessionInfo"]["parameters"]["ckg_session_id"] == VIP_SESSION
    assert said(r.json())[0].startswith("You might like: ")
    # the parameter wins over the Dialogflow session id
    body = copy.deepcopy(IN_ENVIRONMENT)
    body["sessionInfo"]["parameters"] = {"ckg_session_id": PLAIN_SESSION}
    assert webhook(live, body).json()["sessionInfo"]["parameters"]["ckg_session_id"] == (
        PLAIN_SESSION
    )


@pytest.mark.parametrize(
    ("session_info", "reason"),
    [
        ({"parameters": {"ckg_session_id": "bot-no-such-session"}}, "session_not_found"),
        ({"session": "projects/p/locations/global/agents/a/sessions/df-1"}, "session_not_found"),
        ({"session": "projects/p/locations/global/agents/a/sessions/"}, "session_not_mapped"),
        ({}, "session_not_mapped"),
    ],
)
def test_an_unknown_session_is_a_404(
    live: LiveApi, session_info: dict[str, Any], reason: str
) -> None:
    body = {**REQUEST, "sessionInfo": session_info}
    r = webhook(live, body)
    assert r.status_code == 404, r.text
    assert r.json()["detail"]["reason"] == reason


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in REQUEST.items() if k != "sessionInfo"},
        request_for(42),  # type: ignore[arg-type]
        request_for(" padded "),
        request_for("a" * 300),
        {**REQUEST, "fulfillmentInfo": {"tag": ["greet"]}},
        {**REQUEST, "sessionInfo": "bot-s-vip"},
        [REQUEST],
        "not an object",
    ],
)
def test_a_bad_payload_is_a_422_envelope(live: LiveApi, body: Any) -> None:
    r = webhook(live, body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail["reason"] == "invalid_request" and detail["errors"]


def test_not_json_is_a_422_envelope(live: LiveApi) -> None:
    r = httpx.post(
        live.url + ROUTE,
        content=b"{not json",
        headers={"X-API-Key": live.key, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "invalid_request"


def test_the_key_needs_chatbot_read(live: LiveApi) -> None:
    body = request_for(VIP_SESSION)
    assert httpx.post(live.url + ROUTE, json=body).status_code == 401
    assert webhook(live, body, key="ckg_wrong").status_code == 401
    refused = webhook(live, body, key=live.other_key)
    assert refused.status_code == 403 and refused.json()["detail"]["reason"]
    bearer = httpx.post(
        live.url + ROUTE, json=body, headers={"Authorization": f"Bearer {live.key}"}
    )
    assert bearer.status_code == 200


def test_the_openapi_document_says_what_the_route_does(live: LiveApi) -> None:
    doc = httpx.get(live.url + "/openapi.json").json()
    op = doc["paths"][ROUTE]["post"]
    schemas = doc["components"]["schemas"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/DialogflowWebhookRequest"}
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/DialogflowWebhookPublic"}
    assert {"404", "422", "401", "403"} <= set(op["responses"])
    assert {"chatbot:read"} == {s for req in op["security"] for v in req.values() for s in v}
    assert set(schemas["DialogflowWebhookPublic"]["properties"]) == {
        "fulfillmentResponse",
        "sessionInfo",
    }
    assert schemas["DialogflowWebhookRequest"]["required"] == ["sessionInfo"]
    params = schemas["DialogflowParametersPublic"]["properties"]
    assert {"ckg_tier", "ckg_segments", "ckg_cart_abandoned", "ckg_trigger_ids"} <= set(params)
