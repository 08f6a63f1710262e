"""The client's retry rule, over httpx's mock transport (the seam between client and network)."""

from __future__ import annotations

import httpx
import pytest

from api import client as ckg

CONSENTS = {"customer_id": "c/1", "consents": [{"purpose": "marketing", "granted": True}]}


def _serving(*statuses: int, retry_after: str = "0") -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []
    answers = iter(statuses)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        status = next(answers)
        if status == 200:
            return httpx.Response(200, json=CONSENTS)
        detail = {"reason": "store_unavailable", "message": "down"}
        return httpx.Response(status, json={"detail": detail}, headers={"Retry-After": retry_after})

    return httpx.MockTransport(answer), seen


def test_503s_are_retried_until_an_answer() -> None:
    transport, seen = _serving(503, 502, 200)
    with ckg.CkgClient("http://ckg", "k", retries=3, transport=transport) as c:
        state = c.consents("c/1")
    assert state.granted("marketing") and not state.granted("analytics")
    # three attempts; the id is one path segment, its slash escaped
    assert seen == ["/v1/customers/c%2F1/consents"] * 3


def test_the_last_503_is_unavailable_with_its_retry_after() -> None:
    transport, seen = _serving(503, 503, retry_after="7")
    c = ckg.CkgClient("http://ckg", "k", retries=1, max_wait_s=0.0, transport=transport)
    with c, pytest.raises(ckg.Unavailable) as down:
        c.consents("c/1")
    assert (down.value.retry_after, down.value.reason, len(seen)) == (7.0, "store_unavailable", 2)


def test_client_errors_are_not_retried() -> None:
    transport, seen = _serving(404)
    c = ckg.CkgClient("http://ckg", "k", transport=transport)
    with c, pytest.raises(ckg.NotFoundError):
        c.consents("c/1")
    assert len(seen) == 1


def test_waits_follow_retry_after_capped_else_back_off() -> None:
    rule = ckg.Retry(retries=3, backoff_s=0.5, max_wait_s=10)
    busy = httpx.Response(503, headers={"Retry-After": "120"})
    assert rule.wait(0, busy) == 10
    assert [rule.wait(n, None) for n in range(4)] == [0.5, 1.0, 2.0, None]
    assert rule.wait(0, httpx.Response(503, headers={"Retry-After": "soon"})) == 0.5
    assert rule.wait(0, httpx.Response(200)) is None
