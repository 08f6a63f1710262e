"""`ckg embed` on the bundled real sample, on each engine: write-back is idempotent,
SIMILAR and RECOMMENDED edges are replaced (never added), promotion follows the evaluation, and
what the API and `ckg recommend` serve is the recommender `ckg evaluate` measures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from api.settings import Settings
from embeddings import item_models, serving
from embeddings.evaluate import top_k, user_item
from embeddings.pipeline import graph_scorer, run_embed
from embeddings.projection import load_interactions
from embeddings.recommender import REASONS, BlendParams
from embeddings.serving import MODEL_KIND
from embeddings.train import EmbedParams
from graph.catalog import QueryCatalog
from graph.queries import get_queries
from graph.store import Store, open_store
from ingest.datasets import RETAIL_SAMPLE
from ingest.run import ingest_file
from tests.helpers import store_env, wipe

FAST = EmbedParams(dimensions=16, num_walks=3, walk_length=10, epochs=1, seed=5)
REC_K = 12  # RECOMMENDED edges per customer in these tests (100 by default)


@pytest.fixture(scope="module")
def retail_store(
    tmp_path_factory: pytest.TempPathFactory,
    module_engine_settings: Settings,
    test_queries: QueryCatalog,
) -> Iterator[Store]:
    """One graph with the December 2010 sample, shared by this module's tests (loading it
    is the slow part)."""
    store = open_store(module_engine_settings)
    wipe(store, test_queries)
    ingest_file(
        store,
        RETAIL_SAMPLE,
        fmt="online-retail",
        dead_letter=tmp_path_factory.mktemp("dl") / "dl.jsonl",
    )
    try:
        yield store
    finally:
        wipe(store, test_queries)
        store.close()


def counts(store: Store) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    q = get_queries()
    nodes = {r["label"]: r["nodes"] for r in store.read(q.node_counts)}
    rels = {r["type"]: r["relationships"] for r in store.read(q.relationship_counts)}
    return nodes, rels, store.read(q.similar_counts)


def promoted_model_id(store: Store) -> str:
    current = store.read_one(get_queries().promoted_model, {"kind": MODEL_KIND})
    if current is None:
        return run_embed(store, FAST, BlendParams(), similar_k=5, recommend_k=REC_K).model_id
    return str(current["model"]["id"])


def test_embed_twice_changes_no_count(retail_store: Store) -> None:
    first = run_embed(retail_store, FAST, BlendParams(), similar_k=5, recommend_k=REC_K)
    assert first.promoted
    assert first.written["products_embedded"] > 1000
    after_first = counts(retail_store)
    recommended = retail_store.read(get_queries().recommended_counts)
    second = run_embed(retail_store, FAST, BlendParams(), similar_k=5, recommend_k=REC_K)
    assert second.model_id == first.model_id
    assert counts(retail_store) == after_first
    assert retail_store.read(get_queries().recommended_counts) == recommended
    assert recommended == [{"model": first.model_id, "edges": after_first[1]["RECOMMENDED"]}]
    assert after_first[1]["RECOMMENDED"] == first.written["recommended_created"]
    assert after_first[1]["RECOMMENDED"] >= REC_K * first.written["customers_embedded"]
    nodes, rels, similar = after_first
    assert nodes["Model"] == 1
    assert similar == [{"model": first.model_id, "edges": rels["SIMILAR"]}]
    embedded = first.written["products_embedded"] + first.written["customers_embedded"]
    assert rels["SIMILAR"] == 5 * embedded
    model = retail_store.read_one(get_queries().promoted_model, {"kind": MODEL_KIND})
    assert model is not None and model["model"]["id"] == first.model_id
    metrics = json.loads(model["model"]["metrics"])["evaluation"]["results"]
    assert {"popularity_90d", "item_knn", "als", "ease", "rp3beta", "ckg"} <= set(metrics)
    tuned = json.loads(model["model"]["metrics"])["evaluation"]["tuned"]
    assert tuned["ease"]["lam"] in item_models.EASE_LAMBDAS
    assert tuned["rp3beta"]["alpha"] in item_models.RP3_ALPHAS
    assert tuned["ease"]["validation"]["cases"] > 0


def test_a_new_model_replaces_the_old_edges(retail_store: Store) -> None:
    old_id = promoted_model_id(retail_store)
    other = EmbedParams(**{**FAST.as_dict(), "seed": 6})
    new = run_embed(retail_store, other, BlendParams(), similar_k=3, recommend_k=5, force=True)
    assert new.model_id != old_id and new.promoted
    nodes, rels, similar = counts(retail_store)
    assert similar == [{"model": new.model_id, "edges": rels["SIMILAR"]}]
    assert retail_store.read(get_queries().recommended_counts) == [
        {"model": new.model_id, "edges": rels["RECOMMENDED"]}
    ]
    embedded = new.written["products_embedded"] + new.written["customers_embedded"]
    assert rels["SIMILAR"] == 3 * embedded
    promoted = retail_store.read_one(get_queries().promoted_model, {"kind": MODEL_KIND})
    assert promoted is not None and promoted["model"]["id"] == new.model_id
    assert nodes["Model"] >= 2  # the old model stays on record, unpromoted


def test_recommendation_api_is_consent_gated_and_explained(
    retail_store: Store, tmp_path: Path, module_engine_settings: Settings
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import create_key

    promoted_model_id(retail_store)
    settings = module_engine_settings.model_copy(update={"api_keys_file": tmp_path / "keys.json"})
    bot = {"X-API-Key": create_key(settings.api_keys_file, "bot", ["chatbot:read"])}
    other = {"X-API-Key": create_key(settings.api_keys_file, "x", ["ingest:write"])}
    with TestClient(create_app(settings)) as client:
        url = "/v1/customers/17850/recommendations?k=5"
        assert client.get(url).status_code == 401
        assert client.get(url, headers=other).status_code == 403
        got = client.get(url, headers=bot)
        assert got.status_code == 200, got.text
        body = got.json()
        # the sample is imported with personalization consent (source import:online-retail)
        assert body["personalized"] is True
        assert body["consents"][0]["granted"] is True
        assert body["consents"][0]["source"].startswith("import:")
        assert len(body["items"]) == 5
        assert body["model"] is not None
        for item in body["items"]:
            path = item["reason"]["path"]
            assert path[-1]["id"] == item["product_id"]
            assert item["reason"]["kind"] in REASONS
            if item["reason"]["kind"] != "popular":
                assert path[0] == {
                    "label": "Customer",
                    "type": None,
                    "id": "17850",
                    "name": None,
                    "score": None,
                }
                assert path[1]["type"] == "PURCHASED" and path[2]["label"] == "Product"

        # withdraw consent: only non-personal popularity remains
        withdraw = tmp_path / "withdraw.jsonl"
        withdraw.write_text(
            json.dumps(
                {
                    "type": "consent_changed",
                    "event_id": "withdraw-17850",
                    "customer_id": "17850",
                    "timestamp": "2012-01-01T00:00:00+00:00",
                    "purpose": "personalization",
                    "granted": False,
                    "source": "test",
                }
            )
            + "\n"
        )
        ingest_file(retail_store, withdraw, fmt="jsonl", dead_letter=tmp_path / "dl.jsonl")
        gated = client.get(url, headers=bot).json()
        assert gated["personalized"] is False
        assert gated["consents"][0]["granted"] is False
        assert {i["reason"]["kind"] for i in gated["items"]} == {"popular"}

        similar = client.get("/v1/products/85123A/similar?k=3", headers=bot)
        assert similar.status_code == 200 and len(similar.json()["items"]) == 3
        assert similar.json()["items"][0]["reason"]["path"][1]["type"] == "SIMILAR"
        assert client.get("/v1/products/nope/similar", headers=bot).status_code == 404
        session = client.get("/v1/sessions/retail:536365/recommendations?k=4", headers=bot)
        assert session.status_code == 200 and len(session.json()["items"]) == 4


def test_segments_cover_every_buyer_once_per_kind(retail_store: Store, tmp_path: Path) -> None:
    from embeddings.segments import run_segments

    promoted_model_id(retail_store)
    first = run_segments(retail_store, seed=3, report_dir=tmp_path / "report")
    rows = retail_store.read(get_queries().segment_sizes)
    buyers = sum(first["rfm"].values())
    for kind in ("rfm", "cluster", "community"):
        mine = [r for r in rows if r["kind"] == kind]
        assert sum(r["members"] for r in mine) == buyers, kind
        assert all(r["members"] == r["size"] for r in mine)
    assert {r["name"] for r in rows if r["kind"] == "rfm"} <= {
        "Champions",
        "Loyal",
        "Potential loyalists",
        "New customers",
        "At risk",
        "Hibernating",
        "Need attention",
    }
    assert first["cluster_k"] >= 2
    for png in first["plots"]:
        assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = counts(retail_store)
    again = run_segments(retail_store, seed=3)
    assert again["rfm"] == first["rfm"] and counts(retail_store) == before


def test_served_recommendations_are_the_evaluated_recommender(
    retail_store: Store, tmp_path: Path, module_engine_settings: Settings
) -> None:
    """The API and `ckg recommend` answer with exactly the top-k of the recommender that
    `ckg evaluate` scores as "ckg" (graph_scorer + top_k), trained on the same purchases."""
    from typer.testing import CliRunner

    from api.cli import app
    from api.settings import get_settings

    report = run_embed(
        retail_store, FAST, BlendParams(), similar_k=5, recommend_k=REC_K, force=True
    )
    inter = load_interactions(retail_store)
    rec = graph_scorer(inter, FAST, BlendParams())  # what evaluate() builds for "ckg"
    seen = user_item(inter)
    consented = [c for c in inter.customers[:60] if c != "17850"]
    rows = np.array([inter.customers.index(c) for c in consented], dtype=np.int32)
    scores = rec.scores(rows)
    expected = top_k(scores, seen, rows, 10)
    expected_all = top_k(scores, sp.csr_matrix(seen.shape), rows, 10)
    served: dict[str, list[str]] = {}
    for i, cid in enumerate(consented):
        got = serving.for_customer(retail_store, cid, 10)
        assert got.personalized and got.model == report.model_id
        served[cid] = [it.product_id for it in got.items]
        assert served[cid] == [inter.products[j] for j in expected[i]], cid
        assert all(it.reason.kind in REASONS for it in got.items)
        with_bought = serving.for_customer(retail_store, cid, 10, include_purchased=True)
        assert [it.product_id for it in with_bought.items] == [
            inter.products[j] for j in expected_all[i]
        ], cid

    ids = tmp_path / "customers.txt"
    ids.write_text("\n".join(consented) + "\n")
    out = tmp_path / "recs.jsonl"
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["recommend", "--customers", str(ids), "--k", "10", "--out", str(out)],
            env=store_env(module_engine_settings),
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {line["customer_id"]: line["items"] for line in lines} == served


def test_evaluate_prints_every_recommender_and_what_the_tuned_ones_chose(
    retail_store: Store, module_engine_settings: Settings
) -> None:
    from typer.testing import CliRunner

    from api.cli import app
    from api.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["evaluate", "--cutoff", "2010-12-12", "--epochs", "1", "--json", "--quiet"],
            env=store_env(module_engine_settings),
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    rows = {r["recommender"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {"popularity_90d", "item_knn", "als", "ease", "rp3beta"} | {
        "node2vec_naive",
        "ckg",
    }
    assert rows["ease"]["tuned"]["lam"] in item_models.EASE_LAMBDAS
    assert set(rows["rp3beta"]["tuned"]) == {"alpha", "beta", "validation"}
    assert "tuned" not in rows["ckg"]
    assert len({r["cases"] for r in rows.values()}) == 1  # one split for all
