"""`ckg embed` on the bundled real sample in the embedded store: write-back is idempotent,
SIMILAR edges are replaced (never added), and promotion follows the evaluation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embeddings.pipeline import MODEL_KIND, run_embed
from embeddings.recommender import BlendParams
from embeddings.train import EmbedParams
from graph.queries import get_queries
from graph.settings import Settings
from graph.store import Store, open_store
from ingest.datasets import RETAIL_SAMPLE
from ingest.run import ingest_file

FAST = EmbedParams(dimensions=16, num_walks=3, walk_length=10, epochs=1, seed=5)


@pytest.fixture(scope="module")
def retail_store(tmp_path_factory: pytest.TempPathFactory,
                 _isolated_env: Path) -> Iterator[Store]:
    """One graph with the December 2010 sample, shared by this module's tests (loading it
    is the slow part)."""
    s = Settings(data_dir=_isolated_env, graph_name="t_embed_retail")
    store = open_store(s)
    ingest_file(store, RETAIL_SAMPLE, fmt="online-retail",
                dead_letter=tmp_path_factory.mktemp("dl") / "dl.jsonl")
    try:
        yield store
    finally:
        store.close()


def counts(store: Store) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    q = get_queries()
    nodes = {r["label"]: r["nodes"] for r in store.read(q.node_counts)}
    rels = {r["type"]: r["relationships"] for r in store.read(q.relationship_counts)}
    return nodes, rels, store.read(q.similar_counts)


def test_embed_twice_changes_no_count(retail_store: Store) -> None:
    first = run_embed(retail_store, FAST, BlendParams(), similar_k=5)
    assert first.promoted
    assert first.written["products_embedded"] > 1000
    after_first = counts(retail_store)
    second = run_embed(retail_store, FAST, BlendParams(), similar_k=5)
    assert second.model_id == first.model_id
    assert counts(retail_store) == after_first
    nodes, rels, similar = after_first
    assert nodes["Model"] == 1
    assert similar == [{"model": first.model_id, "edges": rels["SIMILAR"]}]
    embedded = first.written["products_embedded"] + first.written["customers_embedded"]
    assert rels["SIMILAR"] == 5 * embedded
    model = retail_store.read_one(get_queries().promoted_model, {"kind": MODEL_KIND})
    assert model is not None and model["model"]["id"] == first.model_id
    metrics = json.loads(model["model"]["metrics"])["evaluation"]["results"]
    assert {"popularity_90d", "item_knn", "als", "ckg"} <= set(metrics)


def test_a_new_model_replaces_the_old_edges(retail_store: Store) -> None:
    current = retail_store.read_one(get_queries().promoted_model, {"kind": MODEL_KIND})
    old_id = (current["model"]["id"] if current
              else run_embed(retail_store, FAST, BlendParams(), similar_k=5).model_id)
    other = EmbedParams(**{**FAST.as_dict(), "seed": 6})
    new = run_embed(retail_store, other, BlendParams(), similar_k=3, force=True)
    assert new.model_id != old_id and new.promoted
    nodes, rels, similar = counts(retail_store)
    assert similar == [{"model": new.model_id, "edges": rels["SIMILAR"]}]
    embedded = new.written["products_embedded"] + new.written["customers_embedded"]
    assert rels["SIMILAR"] == 3 * embedded
    promoted = retail_store.read_one(get_queries().promoted_model, {"kind": MODEL_KIND})
    assert promoted is not None and promoted["model"]["id"] == new.model_id
    assert nodes["Model"] >= 2  # the old model stays on record, unpromoted
