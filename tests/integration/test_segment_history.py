"""Segment memberships that a later segmentation run ends are kept as history, on each engine:
transitions are answerable, a retired segment stays while history points at it, the export
holds a person's history and erasure takes it with them."""

from __future__ import annotations

from typing import Any

import numpy as np

from embeddings.segments import Segmentation, write_segmentation
from graph.queries import get_queries
from graph.store import Store
from privacy.erasure import erase

Q = get_queries()


def run(store: Store, at: int, members: dict[str, str], empty: tuple[str, ...] = ()) -> None:
    """One RFM run at `at` (epoch ms): customer -> segment name, and segments with nobody."""
    names = sorted(set(members.values()) | set(empty))
    customers = sorted(members)
    labels = np.array([names.index(members[c]) for c in customers], dtype=np.int64)
    seg = Segmentation("rfm", customers, labels, names, np.ones(len(customers)))
    write_segmentation(store, seg, f"segments-{at}", {}, at)


def transitions(store: Store, since: int = 0) -> list[dict[str, Any]]:
    return store.read(Q.get("segment_transitions"), {"kind": "rfm", "since": since})


def row(a: str, b: str | None, at: int, n: int = 1) -> dict[str, Any]:
    return {"from_segment": a, "to_segment": b, "customers": n, "first_at": at, "last_at": at}


def test_transitions_retired_segments_export_and_erasure(store: Store) -> None:
    store.write_rows(Q.upsert_customers, [{"id": f"c{i}", "props": {}} for i in range(1, 5)])
    run(store, 1000, {"c1": "Champions", "c2": "At risk", "c3": "Champions"}, ("Empty",))
    assert transitions(store) == []
    run(store, 2000, {"c1": "At risk", "c2": "At risk", "c4": "Champions"})
    run(store, 3000, {"c1": "Champions", "c2": "Lost", "c4": "Champions"})
    assert transitions(store) == [
        row("At risk", "Champions", 3000),  # c1 back
        row("At risk", "Lost", 3000),  # c2, at risk since the first run
        row("Champions", "At risk", 2000),  # c1
        row("Champions", None, 2000),  # c3 left the run
    ]
    assert transitions(store, since=2500) == [
        row("At risk", "Champions", 3000),
        row("At risk", "Lost", 3000),
    ]
    # "At risk" is no longer produced but history points at it; "Empty" had nobody: gone
    sizes = {r["name"]: (r["size"], r["members"]) for r in store.read(Q.segment_sizes)}
    assert sizes == {"Champions": (2, 2), "Lost": (1, 1), "At risk": (0, 0)}

    export = store.read_one(Q.export_customer, {"id": "c2"})
    assert export is not None
    assert [(h["name"], h["since"], h["until"]) for h in export["segment_history"]] == [
        ("At risk", 1000, 3000)
    ]
    assert [(g["name"], g["since"]) for g in export["segments"]] == [("Lost", 3000)]

    run(store, 4000, {"c1": "At risk", "c2": "Lost", "c4": "Champions"})  # produced again
    assert transitions(store, since=4000) == [row("Champions", "At risk", 4000)]
    produced = {r["name"]: r["size"] for r in store.read(Q.segment_sizes)}
    assert produced == {"Champions": 1, "Lost": 1, "At risk": 1}

    erase(store, Q, b"k" * 32, "c1", actor="test")
    assert transitions(store) == [row("At risk", "Lost", 3000), row("Champions", None, 2000)]
