"""The strongest simple baselines for purchase data: EASE^R and RP3beta, item-item models with
one or two hyperparameters each, chosen on a validation split inside the training period.

EASE^R (Steck 2019): the item-item weights B minimising ||X - XB||² + λ||B||² with diag(B) = 0,
in closed form from one inverse of the item Gram matrix. RP3beta (Paudel et al. 2017): three-step
random-walk transitions item -> customer -> item, each raised to the power α, with the
destination's popularity discounted by β. Both score a customer as X_u @ W over what they
bought (binary), like item-kNN.

The dense inverse costs O(items³) time and O(items²) memory: beyond `EASE_MAX_ITEMS` products
the baseline is not computed (the evaluation says so) rather than swapping the machine.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse as sp

from embeddings.evaluate import Metrics, Scorer, evaluate_scorer, new_item_cases, purchased
from embeddings.projection import DAY_MS, Interactions

logger = logging.getLogger(__name__)

EASE_LAMBDAS = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)
RP3_ALPHAS = (0.5, 0.75, 1.0)
RP3_BETAS = (0.0, 0.2, 0.4, 0.6)
VALIDATION_DAYS = 90  # the last days of the training period, as for ckg's own weights
EASE_MAX_ITEMS = 8_000  # 8k² float64 = 512 MB per matrix, three at the peak of the inverse


class TooLarge(ValueError):
    """The catalogue is past what the dense model can hold."""


def _item_scorer(x: sp.csr_matrix, w: npt.NDArray[np.float64] | sp.spmatrix) -> Scorer:
    def score(rows: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        out = x[rows] @ w
        return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float64)

    return score


def ease_weights(x: sp.csr_matrix, lam: float) -> npt.NDArray[np.float64]:
    n = x.shape[1]
    if n > EASE_MAX_ITEMS:
        raise TooLarge(f"{n:,} products: EASE^R's dense inverse stops at {EASE_MAX_ITEMS:,}")
    g = np.asarray((x.T @ x).toarray(), dtype=np.float64)
    g[np.diag_indices(n)] += lam
    # G + λI is symmetric positive definite: a Cholesky solve is the cheap, stable inverse
    p = scipy.linalg.cho_solve(scipy.linalg.cho_factor(g, overwrite_a=True), np.eye(n))
    b = p / -np.diag(p)
    b[np.diag_indices(n)] = 0.0
    return np.asarray(b, dtype=np.float64)


def ease_scorer(train: Interactions, lam: float) -> Scorer:
    x = purchased(train)
    return _item_scorer(x, ease_weights(x, lam))


def _row_normalised(m: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(m.sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / sums) @ m)


def rp3beta_weights(x: sp.csr_matrix, alpha: float, beta: float) -> sp.csr_matrix:
    p_ui = _row_normalised(x)
    p_iu = _row_normalised(sp.csr_matrix(x.T))
    p_ui.data **= alpha
    p_iu.data **= alpha
    w = sp.csr_matrix(p_iu @ p_ui)
    pop = np.asarray(x.sum(axis=0)).ravel()
    pop[pop == 0] = 1.0
    w = sp.csr_matrix(w @ sp.diags(pop**-beta))
    w.setdiag(0.0)
    w.eliminate_zeros()
    return w


def rp3beta_scorer(train: Interactions, alpha: float, beta: float) -> Scorer:
    x = purchased(train)
    return _item_scorer(x, rp3beta_weights(x, alpha, beta))


@dataclass
class Tuned:
    """A baseline with the hyperparameters it won on validation, ready to score."""

    params: dict[str, float]
    validation: Metrics
    scorer: Scorer


def tune(
    make: Callable[..., Scorer],
    grid: Sequence[dict[str, Any]],
    train: Interactions,
    days: int = VALIDATION_DAYS,
) -> Tuned:
    """Fit each grid point on the training period minus its last `days` (its second half when
    that is shorter), score the new-item purchases of that stretch, keep the best (NDCG@10,
    then HR@10, then the first listed), and refit it on the whole training period."""
    if train.n_events == 0:
        raise ValueError("no purchases to tune on")
    first, last = int(train.at.min()), int(train.at.max())
    inner, val = train.split(last - min(days * DAY_MS, (last - first) // 2))
    cases = new_item_cases(inner, val)
    if len(cases.customers) == 0:
        raise ValueError("no new-item purchases in the validation stretch of the training period")
    best: tuple[float, float] | None = None
    chosen: tuple[dict[str, Any], Metrics] | None = None
    for point in grid:
        m = evaluate_scorer(make(inner, **point), inner, cases)
        logger.debug("validation %s %s: %s", make.__name__, point, m.as_dict())
        if best is None or (m.ndcg, m.hr) > best:
            best, chosen = (m.ndcg, m.hr), (point, m)
    assert chosen is not None
    return Tuned(dict(chosen[0]), chosen[1], make(train, **chosen[0]))


def ease_grid() -> list[dict[str, float]]:
    return [{"lam": lam} for lam in EASE_LAMBDAS]


def rp3beta_grid() -> list[dict[str, float]]:
    return [{"alpha": a, "beta": b} for a, b in itertools.product(RP3_ALPHAS, RP3_BETAS)]
