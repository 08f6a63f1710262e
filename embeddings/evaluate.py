"""Time-split evaluation of recommenders on stored purchases, with baselines in the same run.

Protocol: train strictly before the cutoff, test on the purchases after it. A test case is a
customer with history before the cutoff who bought at least one product after it that they had
not bought before ("new-item purchases"); every recommender returns 10 products the customer had
not bought before the cutoff. HR@10: share of cases with at least one hit; precision@10: hits /
10; recall@10: hits / new items bought; NDCG@10 with binary relevance. All averaged over cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.projection import DAY_MS, Interactions

K = 10
Scorer = Callable[[npt.NDArray[np.int32]], npt.NDArray[np.float64]]


@dataclass
class Cases:
    customers: npt.NDArray[np.int32]
    truth: list[set[int]]


@dataclass
class Metrics:
    hr: float
    precision: float
    recall: float
    ndcg: float
    cases: int

    def as_dict(self) -> dict[str, float]:
        return {
            "hr@10": round(self.hr, 4),
            "precision@10": round(self.precision, 4),
            "recall@10": round(self.recall, 4),
            "ndcg@10": round(self.ndcg, 4),
            "cases": self.cases,
        }

    def not_worse_than(self, other: Metrics, tol: float = 1e-9) -> bool:
        """The promotion rule: no worse on HR@10 and on NDCG@10."""
        return self.hr >= other.hr - tol and self.ndcg >= other.ndcg - tol


def user_item(inter: Interactions, weights: npt.NDArray[np.float64] | None = None) -> sp.csr_matrix:
    """Customer x product matrix of purchase counts (or summed `weights`)."""
    w = np.ones(inter.n_events) if weights is None else weights
    m = sp.csr_matrix(
        (w, (inter.cust, inter.prod)),
        shape=(len(inter.customers), len(inter.products)),
        dtype=np.float64,
    )
    m.sum_duplicates()
    return m


def purchased(inter: Interactions) -> sp.csr_matrix:
    """Customer x product matrix with 1 where the customer bought the product."""
    m = user_item(inter)
    m.data[:] = 1.0
    return m


def new_item_cases(train: Interactions, test: Interactions) -> Cases:
    seen = user_item(train)
    had_history = np.diff(seen.indptr) > 0
    truth: dict[int, set[int]] = {}
    for c, p in zip(test.cust.tolist(), test.prod.tolist(), strict=True):
        if had_history[c] and seen[c, p] == 0:
            truth.setdefault(c, set()).add(p)
    customers = np.array(sorted(truth), dtype=np.int32)
    return Cases(customers, [truth[int(c)] for c in customers])


def top_k(
    scores: npt.NDArray[np.float64], seen: sp.csr_matrix, rows: npt.NDArray[np.int32], k: int = K
) -> npt.NDArray[np.int64]:
    """The k best unseen products per row; ties broken by product index (deterministic)."""
    s = np.array(scores, dtype=np.float64, copy=True)
    for i, c in enumerate(rows.tolist()):
        s[i, seen.indices[seen.indptr[c] : seen.indptr[c + 1]]] = -np.inf
    # argpartition picks arbitrarily among scores tied with the k-th: keep every score above
    # the k-th, then the lowest-indexed of those equal to it, so equal ties give equal lists
    # whatever the batch (the served and the evaluated top-k must agree)
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(s, part, axis=1).min(axis=1, keepdims=True)
    above = s > kth
    tied = s == kth
    need = k - above.sum(axis=1, keepdims=True)
    keep = above | (tied & (np.cumsum(tied, axis=1) <= need))
    part = np.nonzero(keep)[1].reshape(len(s), k)
    ps = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -ps), axis=1)
    return np.asarray(np.take_along_axis(part, order, axis=1), dtype=np.int64)


def score_cases(recs: npt.NDArray[np.int64], cases: Cases, k: int = K) -> Metrics:
    hits = prec = rec = ndcg = 0.0
    disc = [1.0 / math.log2(i + 2) for i in range(k)]
    for row, truth in zip(recs.tolist(), cases.truth, strict=True):
        rel = [1.0 if p in truth else 0.0 for p in row[:k]]
        h = sum(rel)
        hits += 1.0 if h else 0.0
        prec += h / k
        rec += h / len(truth)
        ideal = sum(disc[: min(len(truth), k)])
        ndcg += sum(r * d for r, d in zip(rel, disc, strict=True)) / ideal
    n = max(1, len(cases.truth))
    return Metrics(hits / n, prec / n, rec / n, ndcg / n, len(cases.truth))


def evaluate_scorer(
    scorer: Scorer, train: Interactions, cases: Cases, batch: int = 1024
) -> Metrics:
    seen = user_item(train)
    recs = []
    for lo in range(0, len(cases.customers), batch):
        rows = cases.customers[lo : lo + batch]
        recs.append(top_k(scorer(rows), seen, rows))
    all_recs = np.concatenate(recs) if recs else np.zeros((0, K), dtype=np.int64)
    return score_cases(all_recs, cases)


# -- baselines ----------------------------------------------------------------------------------


def popularity_scorer(train: Interactions, days: float = 90.0) -> Scorer:
    """Distinct buyers per product in the last `days` before the cutoff."""
    last = int(train.at.max()) if train.n_events else 0
    recent = train.at >= last - days * DAY_MS
    pairs = np.unique(np.stack([train.cust[recent], train.prod[recent]]), axis=1)
    pop = np.bincount(pairs[1], minlength=len(train.products)).astype(np.float64)

    def score(rows: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        return np.tile(pop, (len(rows), 1))

    return score


def cosine_item_similarity(m: sp.csr_matrix) -> sp.csr_matrix:
    """Item-item cosine on a customer x product matrix (binary co-purchase by default)."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    inv = sp.diags(1.0 / norms)
    mn = m @ inv
    sim = (mn.T @ mn).tocsr()
    sim.setdiag(0.0)
    sim.eliminate_zeros()
    return sim


def item_knn_scorer(train: Interactions) -> Scorer:
    """Classic item-kNN: sum of cosine similarities (binary co-purchase) to what was bought."""
    binary = purchased(train)
    sim = cosine_item_similarity(binary)

    def score(rows: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        return np.asarray((binary[rows] @ sim).toarray(), dtype=np.float64)

    return score


def als_scorer(
    train: Interactions,
    factors: int = 64,
    iterations: int = 15,
    regularization: float = 0.05,
    alpha: float = 10.0,
    seed: int = 42,
) -> Scorer:
    """Implicit ALS (the `implicit` package), confidence 1 + alpha * log1p(count)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    seen = user_item(train)
    conf = seen.copy()
    conf.data = alpha * np.log1p(conf.data)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=factors,
            iterations=iterations,
            regularization=regularization,
            random_state=seed,
            calculate_training_loss=False,
        )
        model.fit(conf.astype(np.float32).tocsr(), show_progress=False)
    uf = np.asarray(model.user_factors)
    itf = np.asarray(model.item_factors)

    def score(rows: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        return np.asarray(uf[rows] @ itf.T, dtype=np.float64)

    return score
