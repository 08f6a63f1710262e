"""Property test: whatever arrives over HTTP, the API answers without a 5xx.

Hypothesis drives every route of the OpenAPI document with arbitrary ids (control characters,
Cypher and Redis-protocol payloads, percent-encoding), arbitrary query parameters and arbitrary
JSON bodies, against the real app and embedded store with real data in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from tests.helpers import ONE_KEY_FOR_ALL, SMALL, running_api

NASTY = [
    "sess-A",
    "cust-1",
    "' OR 1=1 //",
    "x}) DETACH DELETE n //",
    "*3\r\n$8\r\nFLUSHALL\r\n",
    "GRAPH.DELETE ckg",
    "\x00",
    " padded ",
    "a" * 300,
    "%00",
    "../../etc/passwd",
    "ü❤",
]


@pytest.fixture(scope="module")
def client(module_api_settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    s = module_api_settings.model_copy(update={"api_max_events": 50})
    with running_api(s, ONE_KEY_FOR_ALL, raise_server_exceptions=False) as api:
        events = [json.loads(line) for line in SMALL.read_text().splitlines()]
        r = api.client.post("/v1/events", json={"events": events}, headers=api.h("all"))
        assert r.status_code == 200, r.text
        yield api.client, api.keys


# the client is built once per module on purpose: it holds the loaded store
FIXTURE = [HealthCheck.function_scoped_fixture]
ids = st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=40))
scalars = st.one_of(
    st.text(max_size=30),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(
        [
            "text",
            "json",
            "mobile",
            "Europe/Paris",
            "2011-12-01",
            "2011-12-01T10:00:00+01:00",
            "-1",
            "1e309",
            "nan",
        ]
    ),
)
params = st.dictionaries(
    st.sampled_from(["format", "max_tokens", "device", "verbosity", "tz", "at", "purpose", "x"]),
    scalars,
    max_size=5,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _get_routes(c: TestClient) -> list[str]:
    spec = c.get("/openapi.json").json()
    return [p for p, ops in spec["paths"].items() if "get" in ops]


@settings(max_examples=120, deadline=None, suppress_health_check=FIXTURE)
@given(data=st.data())
def test_get_routes_never_5xx(
    client: tuple[TestClient, dict[str, str]], data: st.DataObject
) -> None:
    c, keys = client
    route = data.draw(st.sampled_from(_get_routes(c)))
    path = route
    for name in ("session_id", "customer_id"):
        path = path.replace("{" + name + "}", quote(data.draw(ids), safe=""))
    auth = data.draw(st.sampled_from([None, keys["all"], "ckg_wrong", "\x7f"]))
    headers = {"Authorization": f"Bearer {auth}"} if auth and auth.isprintable() else {}
    r = c.get(path, params=data.draw(params), headers=headers)
    assert r.status_code < 500, (path, r.status_code, r.text)
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
        assert "reason" in r.json()["detail"]


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE)
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "events": st.lists(
                    st.dictionaries(
                        st.sampled_from(
                            [
                                "type",
                                "event_id",
                                "customer_id",
                                "session_id",
                                "timestamp",
                                "product_id",
                                "qty",
                                "lines",
                                "granted",
                                "purpose",
                            ]
                        ),
                        json_values,
                        max_size=8,
                    ),
                    max_size=5,
                )
            }
        ),
    )
)
def test_post_events_never_5xx(client: tuple[TestClient, dict[str, str]], body: Any) -> None:
    c, keys = client
    r = c.post("/v1/events", json=body, headers={"Authorization": f"Bearer {keys['all']}"})
    assert r.status_code < 500, (body, r.status_code, r.text)


session_paths = ids.map(lambda i: f"projects/p/locations/global/agents/a/sessions/{i}")
dialogflow_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "sessionInfo": st.fixed_dictionaries(
                {},
                optional={
                    "session": st.one_of(session_paths, json_values),
                    "parameters": st.one_of(
                        st.dictionaries(
                            st.sampled_from(["ckg_session_id", "product"]),
                            st.one_of(ids, json_values),
                            max_size=2,
                        ),
                        json_values,
                    ),
                },
            )
        },
        optional={
            "fulfillmentInfo": st.one_of(
                st.fixed_dictionaries(
                    {"tag": st.one_of(st.sampled_from(["greet", "recommend", "context"]), ids)}
                ),
                json_values,
            ),
            "text": json_values,
        },
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=FIXTURE)
@given(body=dialogflow_bodies)
def test_dialogflow_webhook_never_5xx(client: tuple[TestClient, dict[str, str]], body: Any) -> None:
    c, keys = client
    r = c.post("/v1/integrations/dialogflow-cx", json=body, headers={"X-API-Key": keys["all"]})
    assert r.status_code < 500, (body, r.status_code, r.text)
    assert r.status_code in (200, 404, 422), (body, r.status_code, r.text)
    if r.status_code != 200:
        assert "reason" in r.json()["detail"]
