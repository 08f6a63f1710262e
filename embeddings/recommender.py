"""The project's recommender: EASE^R item-item weights blended with node2vec neighbourhoods and
recent popularity.

Scoring customer u for product i (each of the two sums scaled so u's best product scores 1):

    score(u, i) = w * sum_j r(u, j) B(j, i) + a * sum_j h(u, j) emb(j, i) + b * pop(i)

- r(u, j): 1 if u bought j, halved every `item_half_life_days` (180) of age: what u bought and
  how lately, not how often;
- B(j, i): EASE^R (Steck 2019, see item_models.py) fitted on r with λ = `ease_lambda`, kept on
  the pairs at least one customer bought together: as accurate as the dense weights on
  online-retail (validation NDCG@10 0.1549 against 0.1545 in the blend), and every weight has
  customers behind it, so the reason "bought by customers like you: n who also bought j" is
  true. Past `EASE_MAX_ITEMS` products (the dense inverse) B is co-purchase cosine (item-kNN);
- h(u, j): u's purchases of j, each decayed by its age (half-life `history_half_life_days`);
- emb(j, i): cosine of the node2vec vectors of j and i (walks over a recency-weighted
  customer–product–category graph), kept for each j's `neighbours` nearest products — exactly
  the `(:Product)-[:SIMILAR]->(:Product)` edges written back; it adds what co-purchase alone
  misses (on validation, NDCG@10 0.1535 -> 0.1549 and HR@10 0.6212 -> 0.6239 with popularity);
- pop(i): distinct buyers of i in the last 90 days, scaled to [0, 1]: the season, and the
  answer for customers with thin histories.

The weights (w = 1, a = 0.2, b = 0.05, λ = 200, half-life 180 days) were chosen on a
validation split that ends before the evaluation cutoff (train < 2011-04-01, validate to
2011-07-01), never on the test period (README, Evaluation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from embeddings.evaluate import (
    cosine_item_similarity,
    popularity_scorer,
    purchased,
    top_k,
    user_item,
)
from embeddings.item_models import EASE_MAX_ITEMS, ease_weights
from embeddings.projection import DAY_MS, Interactions
from embeddings.train import Embeddings, top_k_similar

ItemModel = Literal["ease", "cosine"]


@dataclass(frozen=True)
class BlendParams:
    embedding_weight: float = 0.2
    popularity_weight: float = 0.05
    history_half_life_days: float = 90.0
    neighbours: int = 50
    # the item-item part: EASE^R weights on the co-purchase support, or co-purchase cosine
    item_model: ItemModel = "ease"
    item_weight: float | None = 1.0  # None: 1 - embedding_weight
    item_half_life_days: float = 180.0
    item_history_cap: bool = True  # a product bought often counts once, recency decayed
    ease_lambda: float = 200.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def stored(cls, fields: dict[str, Any]) -> BlendParams:
        """Parameters read back from a Model node; a model stored before the item-item part
        had its own fields scored it as `LEGACY`."""
        return cls(**{**LEGACY, **fields})


# how models trained before EASE^R joined the blend were scored: (1 - a) of cosine co-purchase
# over the same recency-decayed history as the node2vec part
LEGACY: dict[str, Any] = {
    "item_model": "cosine",
    "item_weight": None,
    "item_half_life_days": 90.0,
    "item_history_cap": False,
    "ease_lambda": 0.0,
}


def _row_scale(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    top = m.max(axis=1, keepdims=True)
    top[top <= 0] = 1.0
    return np.asarray(m / top, dtype=np.float64)


def embedding_similarity(emb: Embeddings, neighbours: int) -> sp.csr_matrix:
    """Product x product cosine of the node2vec vectors, each row's top `neighbours` only."""
    n_prod = emb.products.shape[0]
    idx, sc = top_k_similar(emb.products, emb.known_products, neighbours)
    rows = np.repeat(np.arange(n_prod), idx.shape[1])
    keep = idx.ravel() >= 0
    return sp.csr_matrix(
        (np.clip(sc.ravel()[keep], 0.0, None).astype(np.float64), (rows[keep], idx.ravel()[keep])),
        shape=(n_prod, n_prod),
    )


def _decayed(train: Interactions, half_life_days: float, cap: bool) -> sp.csr_matrix:
    """Customer x product purchases, each halved every `half_life_days` of age before the
    last purchase; with `cap`, a pair counts at most 1 (bought often is bought, recently)."""
    last = int(train.at.max()) if train.n_events else 0
    m = user_item(train, np.power(0.5, (last - train.at) / (half_life_days * DAY_MS)))
    if cap:
        m.data = np.minimum(m.data, 1.0)
    return m


def recent_popularity(train: Interactions) -> npt.NDArray[np.float64]:
    """Distinct buyers in the last 90 days, scaled to [0, 1]."""
    pop = popularity_scorer(train)(np.zeros(1, dtype=np.int32))[0]
    top = float(pop.max()) if pop.size else 0.0
    return np.asarray(pop / top if top > 0 else pop, dtype=np.float64)


REASONS = ("similar_to_purchased", "bought_by_similar_customers", "popular")


@dataclass(frozen=True)
class Recommended:
    """One product for one customer, with the strongest part of its score as the reason.

    `rank` is its place among products the customer had not bought (what the evaluator ranks),
    `rank_all` its place among all products (what `include_purchased` serves); None when it is
    not in that top-k. For `similar_to_purchased` `via` is the bought product whose node2vec
    neighbourhood contributed most, for `bought_by_similar_customers` the bought product whose
    co-purchase link contributed most (`buyers`: other customers who bought both); `via_score`
    is that cosine. `popular` has no `via`.
    """

    product: int
    score: float
    rank: int | None
    rank_all: int | None
    reason: str
    via: int | None = None
    via_score: float | None = None
    buyers: int | None = None


class GraphRecommender:
    """Scores customers x products from the training interactions and the node2vec vectors."""

    def __init__(self, train: Interactions, emb: Embeddings, blend: BlendParams) -> None:
        self.blend = blend
        self.history = _decayed(train, blend.history_half_life_days, cap=False)
        binary = purchased(train)
        self.seen = binary
        # customers who bought both: the co-purchase support, and the `buyers` of a reason
        self.together = sp.csr_matrix(binary.T @ binary)
        self.together.setdiag(0.0)
        self.together.eliminate_zeros()
        self.item_history = (
            self.history
            if blend.item_half_life_days == blend.history_half_life_days
            and not blend.item_history_cap
            else _decayed(train, blend.item_half_life_days, cap=blend.item_history_cap)
        )
        self.item = self._item_weights(binary)
        self.emb_sim = embedding_similarity(emb, blend.neighbours)
        self.pop = recent_popularity(train)

    def _item_weights(self, binary: sp.csr_matrix) -> sp.csr_matrix:
        """EASE^R kept on the pairs some customer bought together (as good as the dense
        weights here, and every weight then has customers behind it), or cosine when asked
        for or when the catalogue is past the dense inverse."""
        if self.blend.item_model == "ease" and binary.shape[1] <= EASE_MAX_ITEMS:
            b = ease_weights(sp.csr_matrix(self.item_history), self.blend.ease_lambda)
            support = self.together.tocoo()
            return sp.csr_matrix(
                (b[support.row, support.col], (support.row, support.col)), shape=b.shape
            )
        return cosine_item_similarity(binary)

    def components(
        self, rows: npt.NDArray[np.int32]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The three weighted parts of the score: node2vec, item-item, popularity."""
        a = self.blend.embedding_weight
        w = 1.0 - a if self.blend.item_weight is None else self.blend.item_weight
        emb = _row_scale(np.asarray((self.history[rows] @ self.emb_sim).toarray()))
        item = _row_scale(np.asarray((self.item_history[rows] @ self.item).toarray()))
        return a * emb, w * item, self.blend.popularity_weight * self.pop[None, :]

    def scores(self, rows: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        emb, item, pop = self.components(rows)
        return np.asarray(emb + item + pop, dtype=np.float64)

    def recommend(self, rows: npt.NDArray[np.int32], k: int) -> list[list[Recommended]]:
        """Per customer row: the union of the top-k unseen products (exactly the evaluator's
        top-k: same scores, same `top_k`) and the top-k of all products, best first."""
        n_prod = self.seen.shape[1]
        k = min(k, n_prod)
        if k == 0 or len(rows) == 0:
            return [[] for _ in rows]
        emb, co, pop = self.components(rows)
        scores = np.asarray(emb + co + pop, dtype=np.float64)
        nothing = sp.csr_matrix(self.seen.shape, dtype=np.float64)
        unseen_top = top_k(scores, self.seen, rows, k)
        all_top = top_k(scores, nothing, rows, k)
        out: list[list[Recommended]] = []
        for i, c in enumerate(rows.tolist()):
            bought = self.seen.indices[self.seen.indptr[c] : self.seen.indptr[c + 1]]
            bought_set = set(bought.tolist())
            rank = {
                int(p): r + 1
                for r, p in enumerate(unseen_top[i].tolist())
                if int(p) not in bought_set
            }
            rank_all = {int(p): r + 1 for r, p in enumerate(all_top[i].tolist())}
            items = sorted(set(rank) | set(rank_all), key=lambda p: (-scores[i, p], p))
            hv = self.history[c].toarray().ravel()[bought]
            iv = self.item_history[c].toarray().ravel()[bought]
            emb_sub = self.emb_sim[bought][:, items].toarray() * hv[:, None]
            co_sub = self.item[bought][:, items].toarray() * iv[:, None]
            recs = []
            for col, p in enumerate(items):
                parts = (emb[i, p], co[i, p], pop[0, p])
                reason = REASONS[int(np.argmax(parts))]
                via = via_score = buyers = None
                if reason == "similar_to_purchased" and emb_sub[:, col].max() > 0:
                    j = int(np.argmax(emb_sub[:, col]))
                    via, via_score = int(bought[j]), float(self.emb_sim[bought[j], p])
                elif reason == "bought_by_similar_customers" and co_sub[:, col].max() > 0:
                    j = int(np.argmax(co_sub[:, col]))
                    via, via_score = int(bought[j]), float(self.item[bought[j], p])
                    both = int(self.together[bought[j], p])
                    buyers = both - (1 if p in bought_set else 0)
                else:
                    reason = "popular"
                recs.append(
                    Recommended(
                        p,
                        float(scores[i, p]),
                        rank.get(p),
                        rank_all.get(p),
                        reason,
                        via,
                        via_score,
                        buyers,
                    )
                )
            out.append(recs)
        return out
