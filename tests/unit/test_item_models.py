"""EASE^R and RP3beta against their definitions, and the tuning that picks their
hyperparameters on a validation split inside the training period."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from embeddings import item_models
from embeddings.evaluate import Scorer, evaluate_scorer, new_item_cases
from embeddings.item_models import (
    TooLarge,
    ease_scorer,
    ease_weights,
    rp3beta_scorer,
    rp3beta_weights,
    tune,
)
from embeddings.projection import DAY_MS, Interactions, interactions_from_rows


def baskets(seed: int = 1) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((40, 7)) < 0.35).astype(np.float64))


@pytest.mark.parametrize("lam", [0.5, 10.0, 300.0])
def test_ease_is_the_constrained_least_squares_solution(lam: float) -> None:
    """Each column j of B minimises ||X_j - X b||² + λ||b||² with b_j = 0: solved directly,
    column by column, without the closed form's trick."""
    x = baskets()
    b = ease_weights(x, lam)
    dense = x.toarray()
    n = dense.shape[1]
    assert np.allclose(np.diag(b), 0.0)
    for j in range(n):
        others = [i for i in range(n) if i != j]
        a = dense[:, others]
        direct = np.linalg.solve(a.T @ a + lam * np.eye(n - 1), a.T @ dense[:, j])
        assert np.allclose(b[others, j], direct, atol=1e-8), j


def test_ease_refuses_a_catalogue_past_the_dense_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_models, "EASE_MAX_ITEMS", 6)
    with pytest.raises(TooLarge, match="7 products"):
        ease_weights(baskets(), 1.0)


def test_rp3beta_is_two_transition_steps_with_popularity_discounted() -> None:
    x = baskets(2)
    d = x.toarray()
    alpha, beta = 0.7, 0.4
    p_ui = d / np.maximum(d.sum(axis=1, keepdims=True), 1)
    p_iu = d.T / np.maximum(d.T.sum(axis=1, keepdims=True), 1)
    expected = (p_iu**alpha) @ (p_ui**alpha) / np.maximum(d.sum(axis=0), 1) ** beta
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(rp3beta_weights(x, alpha, beta).toarray(), expected)


def shop(seed: int = 4) -> Interactions:
    """Two product families bought over 120 days: family A's buyers keep buying A."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(80):
        fam = "a" if c % 2 else "b"
        for _ in range(10):
            day = int(rng.integers(0, 120))
            rows.append((f"c{c}", f"{fam}{rng.integers(0, 12)}", day * DAY_MS))
    return interactions_from_rows(rows)


@pytest.mark.parametrize("make", [ease_scorer, rp3beta_scorer])
def test_the_item_models_learn_the_families(make: object) -> None:
    inter = shop()
    train, test = inter.split(90 * DAY_MS)
    cases = new_item_cases(train, test)
    params = {"lam": 10.0} if make is ease_scorer else {"alpha": 1.0, "beta": 0.0}
    scorer = make(train, **params)  # type: ignore[operator]
    scores = scorer(cases.customers[:4])
    fam_a = [i for i, p in enumerate(inter.products) if p.startswith("a")]
    for row, c in zip(scores, cases.customers[:4].tolist(), strict=True):
        mine = fam_a if int(inter.customers[c][1:]) % 2 else sorted(set(range(24)) - set(fam_a))
        theirs = sorted(set(range(len(inter.products))) - set(mine))
        assert row[mine].mean() > row[theirs].mean()
    assert evaluate_scorer(scorer, train, cases).hr > 0.5


def test_tuning_picks_on_validation_inside_training_and_refits_on_all_of_it() -> None:
    inter = shop()
    train, _ = inter.split(100 * DAY_MS)
    seen: list[tuple[int, float]] = []

    def make(data: Interactions, sign: float) -> Scorer:
        """EASE^R's ranking, or its reverse: one grid point is plainly the best."""
        seen.append((data.n_events, sign))
        inner = ease_scorer(data, 10.0)
        return lambda rows: sign * inner(rows)

    grid = [{"sign": -1.0}, {"sign": 1.0}, {"sign": -1.0}]
    best = tune(make, grid, train, days=30)
    inner, _ = train.split(int(train.at.max()) - 30 * DAY_MS)
    assert [n for n, _ in seen[:3]] == [inner.n_events] * 3  # tuned without the last 30 days
    assert best.params == {"sign": 1.0}
    assert seen[3:] == [(train.n_events, 1.0)]  # and refitted on the whole training period
    assert best.validation.cases > 0 and best.validation.hr > 0.5


def test_tuning_without_validation_purchases_says_so() -> None:
    one_day = interactions_from_rows([("c1", "p1", 0), ("c2", "p2", 0)])
    with pytest.raises(ValueError, match="validation"):
        tune(ease_scorer, [{"lam": 1.0}], one_day)
