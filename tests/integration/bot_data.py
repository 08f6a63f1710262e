"""What the bot integration tests share: a small shop's events, and a live API serving them.

`bot-vip` (both consents, Gold tier, an earlier order, an idle cart) is personalized; `bot-plain`
granted analytics only, so its context withholds the tier and segments that exist for it.
Segments are computed on the loaded store, so a personalized answer has some to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.auth import SCOPES, create_key
from api.settings import Settings
from embeddings.segments import run_segments
from graph.store import open_store
from tests.helpers import event_builder, live_server

ev = event_builder("bot")
VIP_SESSION = "bot-s-vip"
PLAIN_SESSION = "bot-s-plain"
NAMES = ["RED LANTERN", "WHITE MUG", "TEA SET", "STAR CANDLE", "GIFT BOX", "PAPER CHAIN"]


def _customer(who: str, session: str, personal: bool, k: int) -> list[dict[str, Any]]:
    c = {"customer_id": who}
    out = [
        ev("consent_changed", "2011-01-01T00:00:00Z", purpose="analytics", granted=True,
           source="test", **c),
        ev("consent_changed", "2011-01-01T00:00:01Z", purpose="personalization",
           granted=personal, source="test", **c),
        ev("loyalty_updated", "2011-01-02T00:00:00Z", points=5000, tier="Gold", **c),
        ev("product_view", "2011-03-01T08:00:00Z", session_id=f"{session}-old",
           product_id=f"bot-p{k}", dwell_ms=2000, **c),
        ev("purchase", "2011-03-01T08:05:00Z", session_id=f"{session}-old",
           order_id=f"bot-o{k}", lines=[{"product_id": f"bot-p{k}", "qty": 1 + k,
           "unit_price": 3.5, "name": NAMES[k]}], amount=3.5 * (1 + k), currency="GBP",
           **c),
    ]  # fmt: skip
    out += [
        ev("product_view", f"2011-12-01T09:0{i}:00Z", session_id=session,
           product_id=f"bot-p{i}", dwell_ms=1000, **c)
        for i in range(3)
    ]  # fmt: skip
    out.append(
        ev("add_to_cart", "2011-12-01T09:05:00Z", session_id=session, product_id="bot-p1",
           qty=2, unit_price=4.5, currency="GBP", **c)
    )  # fmt: skip
    return out


def events() -> list[dict[str, Any]]:
    out = _customer("bot-vip", VIP_SESSION, True, 0) + _customer(
        "bot-plain", PLAIN_SESSION, False, 1
    )
    for k in range(2, 6):  # other buyers, so segments have a population to split
        out += _customer(f"bot-c{k}", f"bot-s-c{k}", True, k)
    return out


@dataclass(frozen=True)
class LiveApi:
    url: str
    key: str  # chatbot:read, as a bot's key
    other_key: str  # ingest:write only: refused where chatbot:read is needed

    def context(self, session: str, **params: Any) -> Any:
        r = httpx.get(
            f"{self.url}/v1/sessions/{session}/context",
            params=params,
            headers={"X-API-Key": self.key},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json() if params.get("format") != "text" else r.text


@contextmanager
def bot_api(settings: Settings) -> Iterator[LiveApi]:
    """A live uvicorn on the store of `settings` with the events loaded and segments computed."""
    loader = create_key(settings.api_keys_file, "loader", list(SCOPES))
    key = create_key(settings.api_keys_file, "bot", ["chatbot:read"])
    other = create_key(settings.api_keys_file, "ingest", ["ingest:write"])
    with live_server(settings) as port:
        url = f"http://127.0.0.1:{port}"
        r = httpx.post(
            f"{url}/v1/events",
            json={"events": events()},
            headers={"Authorization": f"Bearer {loader}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        store = open_store(settings)
        try:
            run_segments(store, seed=3)
        finally:
            store.close()
        yield LiveApi(url, key, other)


def live_fixture() -> Any:
    """A module's `live` fixture: `bot_api` on the module's engine, loaded once."""

    @pytest.fixture(scope="module")
    def live(module_api_settings: Settings) -> Iterator[LiveApi]:
        with bot_api(module_api_settings) as api:
            yield api

    return live
