"""The OpenAPI document is the API's contract, and the API keeps it.

Schemathesis runs every one of its checks (status codes, response schemas and headers, data
acceptance and rejection, authentication, allowed methods, stateful sequences) against a real
uvicorn over loopback, with a real embedded store holding a little data and a key of every
scope; seeded and bounded by tests/integration/schemathesis.toml. The other tests pin what the
document must say: one error envelope, the security schemes, the id rule, one key rule.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import SCOPES, create_key
from api.settings import Settings
from graph.model import check_id
from tests.helpers import live_server

SMALL = Path(__file__).resolve().parents[1] / "data" / "events_small.jsonl"
CONFIG = Path(__file__).with_name("schemathesis.toml")
ENVELOPE = {"$ref": "#/components/schemas/ErrorPublic"}
# the one error answer that is not the envelope: readiness says why in its own shape
OWN_ERRORS = {("/readyz", "get", "503")}


def _events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SMALL.read_text().splitlines()]


@pytest.fixture(scope="module")
def live(module_api_settings: Settings) -> Iterator[tuple[str, str]]:
    """`ckg serve`'s server on a free loopback port, its store loaded: (base URL, key)."""
    settings = module_api_settings.model_copy(update={"api_max_events": 50})
    key = create_key(settings.api_keys_file, "contract", list(SCOPES))
    with live_server(settings) as port:
        base = f"http://127.0.0.1:{port}"
        r = httpx.post(
            f"{base}/v1/events",
            json={"events": _events()},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        yield base, key


def test_schemathesis_finds_nothing(live: tuple[str, str], tmp_path: Path) -> None:
    base, key = live
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/openapi.json",
    ]
    env = {**os.environ, "CKG_CONTRACT_KEY": key}
    started = time.monotonic()
    run = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    took = time.monotonic() - started
    out = run.stdout + run.stderr
    cases = re.search(r"\d+ generated, [^\n]*", out)
    print(f"schemathesis: {cases[0] if cases else '?'} in {took:.0f} s")
    assert run.returncode == 0, out[-20000:]
    assert re.search(r"\d+ generated, \d+ passed", out), out[-5000:]


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, _isolated_env: Path
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app in process with a key per scope (named after it) and one with every scope."""
    tmp = tmp_path_factory.mktemp("contract-doc")
    s = Settings(data_dir=_isolated_env, graph_name="contract_doc", api_keys_file=tmp / "k.json")
    keys: dict[str, str] = {scope: create_key(s.api_keys_file, scope, [scope]) for scope in SCOPES}
    keys["all"] = create_key(s.api_keys_file, "all", list(SCOPES))
    with TestClient(create_app(s), raise_server_exceptions=False) as c:
        r = c.post("/v1/events", json={"events": _events()}, headers=_bearer(keys["all"]))
        assert r.status_code == 200, r.text
        yield c, keys


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_error_is_documented_as_the_envelope(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    document = client[0].get("/openapi.json").json()
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(document["components"]["schemas"])
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400 or (path, method, status) in OWN_ERRORS:
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == ENVELOPE or ENVELOPE in schema.get("anyOf", []), (path, status)
        if keyed(path):
            assert {"400", "401", "403", "500"} <= set(operation["responses"]), path
            takes_input = operation.get("parameters") or "requestBody" in operation
            assert ("422" in operation["responses"]) == bool(takes_input), path


def keyed(path: str) -> bool:
    """The routes that need a key: the API, and Prometheus' scrape target."""
    return path.startswith("/v1/") or path == "/metrics"


def test_security_schemes_replace_key_headers(client: tuple[TestClient, dict[str, str]]) -> None:
    document = client[0].get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for path, method, operation in _operations(document):
        headers = {
            p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"
        }
        assert headers.isdisjoint({"authorization", "x-api-key"}), (path, method)
        assert ("security" in operation) == keyed(path), (path, method)
        for requirement in operation.get("security", []):
            assert len(requirement) == 1 and set(requirement) <= set(schemes)


def test_documented_scopes_are_the_enforced_ones(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    """A key of a documented scope passes the key check, a key of any other is a 403."""
    c, keys = client
    for path, method, operation in _operations(c.get("/openapi.json").json()):
        if "security" not in operation:
            continue
        admitted = {
            s for requirement in operation["security"] for s in requirement.get("bearer", [])
        }
        url = re.sub(r"\{[^}]+\}", "nobody", path)
        for scope in SCOPES:
            r = c.request(method, url, headers=_bearer(keys[scope]))
            if scope in admitted:
                assert r.status_code not in (401, 403), (method, path, scope, r.text)
            else:
                assert r.status_code == 403, (method, path, scope, r.text)


# path parameters that name no stored entity: a saved analyst query's file name
NOT_IDS = {"name"}


def _id_schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    body = document["components"]["schemas"]["CustomerCreate"]["properties"]["id"]
    paths = [
        p["schema"]
        for _, _, operation in _operations(document)
        for p in operation.get("parameters", [])
        if p["in"] == "path" and p["name"] not in NOT_IDS
    ]
    assert paths
    return [body, *paths]


def _stored(value: str) -> bool:
    try:
        check_id(value)
    except ValueError:
        return False
    return True


def test_ids_are_documented_by_the_stored_id_rule(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    """Every id in the document has the same constraints, and they are `check_id`'s:
    character by character at the start, inside and at the end, and at the length limit."""
    schemas = _id_schemas(client[0].get("/openapi.json").json())
    rules = {(s.get("minLength"), s.get("maxLength"), s.get("pattern")) for s in schemas}
    assert len(rules) == 1, rules
    ((low, high, text),) = rules
    assert (low, high) == (1, 256) and text
    pattern = re.compile(text)
    chars = [chr(c) for c in [*range(0x3100), 0xFEFF, 0x10000, 0x10FFFF]]
    for ch in chars:
        for value in (ch, f"a{ch}b", f"a{ch}", f"{ch}b"):
            assert bool(pattern.fullmatch(value)) == _stored(value), repr(value)
    for n in (255, 256, 257):
        assert bool(pattern.fullmatch("a" * n)) == _stored("a" * n) == (n <= 256)


AMBIGUOUS = [
    ("Authorization", "Bearer {good}", "Authorization", "Bearer ckg_unknown"),
    ("Authorization", "Bearer ckg_unknown", "Authorization", "Bearer {good}"),
    ("X-API-Key", "{good}", "X-API-Key", "ckg_unknown"),
    ("X-API-Key", "ckg_unknown", "X-API-Key", "{good}"),
]


@pytest.mark.parametrize("url", ["/v1/sessions/sess-A/context", "/v1/customers/cust-1"])
@pytest.mark.parametrize("headers", AMBIGUOUS)
def test_a_key_header_given_twice_is_refused_on_every_route(
    client: tuple[TestClient, dict[str, str]], url: str, headers: tuple[str, str, str, str]
) -> None:
    """Which copy counts is not guessed: the context route (which reads its own key) and a
    declared route answer the same 400."""
    c, keys = client
    n1, v1, n2, v2 = headers
    good = keys["all"]
    r = c.get(url, headers=[(n1, v1.format(good=good)), (n2, v2.format(good=good))])
    assert r.status_code == 400, r.text
    assert r.json()["detail"]["reason"] == "ambiguous_credentials"
    assert c.get(url, headers=_bearer(good)).status_code == 200


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/customers/cust-1", "DELETE, GET"),
        ("/v1/customers/cust-1/consents", "GET, PUT"),
        ("/v1/customers/lookup", "POST"),
        ("/v1/customers", "POST"),
        ("/healthz", "GET"),
    ],
)
def test_an_unsupported_method_names_every_method_of_the_path(
    client: tuple[TestClient, dict[str, str]], path: str, allow: str
) -> None:
    for method in ("OPTIONS", "PATCH"):
        r = client[0].request(method, path)
        assert r.status_code == 405, (method, path)
        assert r.headers["allow"] == allow, (method, path)
        assert r.json()["detail"]["reason"] == "method_not_allowed"
