"""An export lists what it holds in one order, whatever order the engine collected it in."""

from __future__ import annotations

import random
from typing import Any

from privacy.export import _in_order

ROW: dict[str, Any] = {
    "customer": {"id": "c1"},
    "consents": [
        {"id": "k2", "purpose": "marketing", "at": 1_000},
        {"id": "k1", "purpose": "analytics", "at": 1_000},
        {"id": "k0", "purpose": "analytics", "at": 999},
    ],
    "orders": [{"id": "o10", "at": 10}, {"id": "o9", "at": 9}, {"id": "o100", "at": 100}],
    "session_events": [
        {"session": "s2", "event": {"id": "e5", "at": 1}},
        {"session": "s1", "event": {"id": "e3", "at": 20}},
        {"session": "s1", "event": {"id": "e4", "at": 3}},
    ],
    "segments": [{"kind": "rfm", "segment": "rfm:loyal"}, {"kind": "cluster", "segment": "k:1"}],
    "similar_customers": [{"model": "m1", "score": 0.5}, {"model": "m1", "score": None}],
    "pii": [],
    "tiers": None,
}


def test_every_list_has_one_order_for_any_order_it_came_in() -> None:
    rng = random.Random(7)
    first = _in_order(ROW)
    for _ in range(20):
        shuffled = {k: rng.sample(v, len(v)) if isinstance(v, list) else v for k, v in ROW.items()}
        assert _in_order(shuffled) == first
    assert [c["id"] for c in first["consents"]] == ["k0", "k1", "k2"]
    assert [o["id"] for o in first["orders"]] == ["o9", "o10", "o100"]  # by time, not as text
    assert [e["event"]["id"] for e in first["session_events"]] == ["e4", "e3", "e5"]
    assert [g["kind"] for g in first["segments"]] == ["cluster", "rfm"]
    assert [s["score"] for s in first["similar_customers"]] == [None, 0.5]
    assert first["tiers"] == [] and first["customer"] == {"id": "c1"}
