"""Projection, training and evaluation on small synthetic purchase data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from embeddings.evaluate import (
    Cases,
    cosine_item_similarity,
    new_item_cases,
    purchased,
    score_cases,
    top_k,
)
from embeddings.projection import DAY_MS, Interactions, build_graph, interactions_from_rows
from embeddings.recommender import (
    BlendParams,
    GraphRecommender,
    _row_scale,
    embedding_similarity,
    recent_popularity,
)
from embeddings.train import (
    EmbedParams,
    _clustered_top_k,
    embed,
    normalize,
    similar_recall,
    top_k_similar,
)


def two_tribes(seed: int = 0) -> Interactions:
    """Customers 0-29 buy products a0-a9, customers 30-59 buy b0-b9; times over 100 days."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(60):
        tribe = "a" if c < 30 else "b"
        for _ in range(8):
            rows.append(
                (f"u{c}", f"{tribe}{rng.integers(0, 10)}", int(rng.integers(0, 100)) * DAY_MS)
            )
    cats = [(f"a{i}", "cat-a") for i in range(10)] + [(f"b{i}", "cat-b") for i in range(10)]
    return interactions_from_rows(rows, cats)


SMALL = EmbedParams(dimensions=16, num_walks=20, walk_length=20, epochs=10, seed=7)


def test_projection_is_symmetric_and_interned_in_sorted_order() -> None:
    inter = two_tribes()
    assert inter.customers == sorted(inter.customers)
    g = build_graph(inter)
    assert g.n_nodes == 60 + 20 + 2
    for v in range(g.n_nodes):
        row = g.indices[g.indptr[v] : g.indptr[v + 1]]
        assert list(row) == sorted(row)
        for u in row:
            assert v in g.indices[g.indptr[u] : g.indptr[u + 1]]
    assert g.tokens[0].startswith("c:") and g.tokens[-1] == "k:cat-b"


def test_recency_weighting_halves_at_the_half_life() -> None:
    rows = [("u1", "p1", 0), ("u1", "p2", 10 * DAY_MS)]
    g = build_graph(interactions_from_rows(rows), half_life_days=10, with_categories=False)
    w = dict(
        zip(
            g.indices[g.indptr[0] : g.indptr[1]].tolist(),
            g.weights[g.indptr[0] : g.indptr[1]].tolist(),
            strict=True,
        )
    )
    assert w[1] == 0.5 and w[2] == 1.0  # p1 (node 1) is one half-life older than p2 (node 2)


def test_same_seed_same_vectors_and_tribes_separate() -> None:
    inter = two_tribes()
    a, _ = embed(inter, SMALL)
    b, _ = embed(inter, SMALL)
    assert np.array_equal(a.products, b.products) and np.array_equal(a.customers, b.customers)
    c, _ = embed(inter, EmbedParams(**{**SMALL.as_dict(), "seed": 8}))
    assert not np.array_equal(a.products, c.products)
    idx, _ = top_k_similar(a.products, a.known_products, 3)
    tribe = [p[0] for p in inter.products]
    same = sum(tribe[j] == tribe[i] for i in range(len(tribe)) for j in idx[i])
    assert same >= 0.9 * idx.size


def test_metrics_follow_their_definitions() -> None:
    cases = Cases(np.array([0, 1], dtype=np.int32), [{5, 6}, {9}])
    recs = np.array([[5, 1, 2, 3, 4, 0, 7, 8, 10, 11], [0, 1, 2, 3, 4, 5, 6, 7, 8, 12]])
    m = score_cases(recs, cases)
    assert m.hr == 0.5 and m.precision == 0.05 and m.recall == 0.25
    ideal = 1 + 1 / np.log2(3)
    assert abs(m.ndcg - (1 / ideal) / 2) < 1e-12


def test_recommender_prefers_the_customers_tribe_and_skips_nothing_new() -> None:
    inter = two_tribes()
    train, test = inter.split(70 * DAY_MS)
    cases = new_item_cases(train, test)
    assert len(cases.customers) > 0
    emb, _ = embed(train, SMALL)
    rec = GraphRecommender(train, emb, BlendParams(popularity_weight=0.0))
    rows = [inter.customers.index("u0"), inter.customers.index("u59")]
    scores = rec.scores(np.array(rows, dtype=np.int32))
    tribe_a = np.array([p.startswith("a") for p in inter.products])
    assert scores[0, tribe_a].mean() > scores[0, ~tribe_a].mean()
    assert scores[1, ~tribe_a].mean() > scores[1, tribe_a].mean()


def test_a_stored_model_from_before_the_item_model_fields_scores_as_it_did() -> None:
    """(1 - a) of cosine co-purchase over the same decayed history, as such models were
    evaluated when they were stored."""
    inter = two_tribes()
    train, _ = inter.split(70 * DAY_MS)
    emb, _ = embed(train, SMALL)
    old = {"embedding_weight": 0.3, "popularity_weight": 0.1, "history_half_life_days": 90.0}
    blend = BlendParams.stored({**old, "neighbours": 50})
    assert blend.item_model == "cosine" and blend.item_weight is None
    rec = GraphRecommender(train, emb, blend)
    rows = np.arange(10, dtype=np.int32)
    binary = purchased(train)
    h = rec.history[rows]
    expected = (
        0.3 * _row_scale((h @ embedding_similarity(emb, 50)).toarray())
        + 0.7 * _row_scale((h @ cosine_item_similarity(binary)).toarray())
        + 0.1 * recent_popularity(train)[None, :]
    )
    assert np.allclose(rec.scores(rows), expected)


def test_every_item_item_reason_has_customers_who_bought_both() -> None:
    inter = two_tribes()
    train, _ = inter.split(70 * DAY_MS)
    emb, _ = embed(train, SMALL)
    rec = GraphRecommender(train, emb, BlendParams(embedding_weight=0.0, popularity_weight=0.0))
    binary = purchased(train)
    both = (binary.T @ binary).toarray()
    item = rec.item.toarray()
    assert np.all((item != 0) <= (both > 0))  # EASE^R weights only where someone bought both
    np.fill_diagonal(both, 0)
    rows = np.arange(20, dtype=np.int32)
    reasons = [r for recs in rec.recommend(rows, 5) for r in recs]
    linked = [r for r in reasons if r.reason == "bought_by_similar_customers"]
    assert len(linked) > len(reasons) // 2
    for r in linked:
        assert r.via is not None and r.buyers is not None and r.buyers >= 1
        assert r.via_score == pytest.approx(item[r.via, r.product])
        assert r.buyers <= both[r.via, r.product]


def test_top_k_breaks_ties_at_the_cut_by_product_index() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.5, 0.1, 0.5], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]])
    seen = sp.csr_matrix((2, 6))
    rows = np.array([0, 1], dtype=np.int32)
    assert top_k(scores, seen, rows, 3).tolist() == [[1, 0, 2], [0, 1, 2]]
    assert top_k(scores[::-1], seen, rows, 2).tolist() == [[0, 1], [1, 0]]


def clustered_vectors(n: int, seed: int = 3) -> np.ndarray:
    """Vectors around 40 random directions, like node2vec's communities."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 16))
    return (centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, 16))).astype(np.float32)


def test_clustered_top_k_finds_nearly_all_exact_neighbours_and_is_repeatable() -> None:
    v = clustered_vectors(3000)
    known = np.ones(len(v), dtype=bool)
    known[::97] = False  # rows without a vector are neither listed nor given a list
    exact, exact_sc = top_k_similar(v, known, 10)
    approx, approx_sc = top_k_similar(v, known, 10, exact_limit=1000, seed=5)
    again, _ = top_k_similar(v, known, 10, exact_limit=1000, seed=5)
    assert np.array_equal(approx, again)
    assert (approx[~known] == -1).all() and not np.isin(approx, np.flatnonzero(~known)).any()
    rows = np.flatnonzero(known)
    assert (approx[rows] >= 0).all()
    assert not (approx[rows] == rows[:, None]).any()  # never its own neighbour
    hits = sum(len(set(exact[r].tolist()) & set(approx[r].tolist())) for r in rows.tolist())
    recall = hits / (10 * len(rows))
    assert 0.9 <= recall < 1.0  # approximate, but only just (1.0 would mean it was exact)
    # scores are the true cosines of the pairs listed, best first
    assert (np.diff(approx_sc[rows], axis=1) <= 0).all()
    unit = normalize(v)
    true = np.einsum("ij,ikj->ik", unit[rows], unit[approx[rows]])
    assert np.allclose(approx_sc[rows], true, atol=1e-5)
    assert (approx_sc[rows, 0] <= exact_sc[rows, 0] + 1e-6).all()
    assert abs(similar_recall(v, known, approx, sample=len(rows)) - recall) < 1e-9
    assert similar_recall(v, known, exact) == 1.0


def test_clustered_top_k_takes_more_cells_when_the_nearest_hold_too_few() -> None:
    v = clustered_vectors(400)
    known = np.ones(len(v), dtype=bool)
    # 2*sqrt(400) = 40 cells of about 10 vectors, probing one cell: 30 neighbours need several
    idx, _ = _clustered_top_k(normalize(v), known, 30, seed=1, probe=1)
    assert (idx >= 0).all()
