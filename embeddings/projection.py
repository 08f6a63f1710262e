"""Project the interaction graph from the store into compact numpy arrays (CSR).

Purchases come out of the store once, as (customer, product, time) rows; everything downstream
(walks, the recommender, the baselines, the evaluation's time split) works on integer ids in
numpy arrays, so the store is read once per run and Python objects per edge never pile up.

Node numbering in the CSR graph: customers first, then products, then categories. Word2Vec
trains on node numbers written as decimal text (walks.py's walk file), which gensim reads as
strings: gensim 4.4 with integer tokens corrupts negative sampling, so tokens are never
integers. `CSRGraph.tokens` keeps readable names with a kind prefix (`c:`, `p:`, `k:`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from graph.queries import get_queries
from graph.store import Store

DAY_MS = 86_400_000
FAR_FUTURE_MS = 2**62

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Interactions:
    """Purchases as parallel arrays over interned customer and product ids."""

    customers: list[str]
    products: list[str]
    cust: npt.NDArray[np.int32]
    prod: npt.NDArray[np.int32]
    at: IntArray
    categories: list[str] = field(default_factory=list)
    # (product index, category index) pairs
    prod_cat: npt.NDArray[np.int32] = field(
        default_factory=lambda: np.zeros((0, 2), dtype=np.int32)
    )
    names: dict[str, str] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(self.at.shape[0])

    def snapshot(self) -> dict[str, Any]:
        """What data a model was trained on, stored on its Model node."""
        return {
            "purchases": self.n_events,
            "customers": len(self.customers),
            "products": len(self.products),
            "first_at": int(self.at.min()) if self.n_events else None,
            "last_at": int(self.at.max()) if self.n_events else None,
        }

    def split(self, cutoff_ms: int) -> tuple[Interactions, Interactions]:
        """(before, at-or-after) the cutoff, sharing the id tables so indexes stay comparable."""
        before = self.at < cutoff_ms
        return self._subset(before), self._subset(~before)

    def _subset(self, mask: npt.NDArray[np.bool_]) -> Interactions:
        return Interactions(
            self.customers,
            self.products,
            self.cust[mask],
            self.prod[mask],
            self.at[mask],
            self.categories,
            self.prod_cat,
            self.names,
        )


def interactions_from_rows(
    rows: list[tuple[str, str, int]],
    prod_cats: list[tuple[str, str]] | None = None,
    names: dict[str, str] | None = None,
) -> Interactions:
    """Intern ids in sorted order, so the same data always gives the same numbering."""
    customers = sorted({r[0] for r in rows})
    products = sorted({r[1] for r in rows} | {p for p, _ in prod_cats or []})
    c_ix = {c: i for i, c in enumerate(customers)}
    p_ix = {p: i for i, p in enumerate(products)}
    order = sorted(range(len(rows)), key=lambda i: (rows[i][2], rows[i][0], rows[i][1]))
    cust = np.fromiter((c_ix[rows[i][0]] for i in order), dtype=np.int32, count=len(rows))
    prod = np.fromiter((p_ix[rows[i][1]] for i in order), dtype=np.int32, count=len(rows))
    at = np.fromiter((rows[i][2] for i in order), dtype=np.int64, count=len(rows))
    categories = sorted({k for _, k in prod_cats or []})
    k_ix = {k: i for i, k in enumerate(categories)}
    pc = np.array(
        sorted((p_ix[p], k_ix[k]) for p, k in set(prod_cats or [])), dtype=np.int32
    ).reshape(-1, 2)
    return Interactions(customers, products, cust, prod, at, categories, pc, names or {})


def load_interactions(store: Store, before_ms: int = FAR_FUTURE_MS) -> Interactions:
    """Purchases (and product categories) from the store, strictly before `before_ms`."""
    q = get_queries()
    rows = [
        (str(r["customer"]), str(pid), int(r["at"]))
        for r in store.read(q.purchase_interactions, {"before": before_ms})
        for pid in r["products"]
    ]
    cats = [(str(r["product"]), str(r["category"])) for r in store.read(q.product_categories)]
    names = {
        str(r["product"]): str(r["name"])
        for r in store.read(q.product_names)
        if r.get("name") is not None
    }
    return interactions_from_rows(rows, cats, names)


@dataclass
class CSRGraph:
    """An undirected weighted graph: row `v`'s neighbours are `indices[indptr[v]:indptr[v+1]]`,
    sorted (the walker's neighbour test is a binary search); `cum` holds each row's running
    weight sums (a weighted draw is a binary search too)."""

    indptr: IntArray
    indices: npt.NDArray[np.int32]
    weights: npt.NDArray[np.float64]
    cum: FloatArray
    tokens: list[str]
    n_customers: int
    n_products: int

    @property
    def n_nodes(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def n_edges(self) -> int:
        return int(self.indices.shape[0] // 2)


def csr_from_edges(
    src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], w: FloatArray, n_nodes: int
) -> tuple[IntArray, npt.NDArray[np.int32], FloatArray]:
    """Symmetric CSR from undirected edges; duplicate pairs are summed."""
    a = np.concatenate([src, dst]).astype(np.int64)
    b = np.concatenate([dst, src]).astype(np.int64)
    ww = np.concatenate([w, w])
    key = a * n_nodes + b
    order = np.argsort(key, kind="stable")
    key, ww = key[order], ww[order]
    uniq, start = np.unique(key, return_index=True)
    summed = np.add.reduceat(ww, start) if len(start) else ww[:0]
    rows = uniq // n_nodes
    cols = (uniq % n_nodes).astype(np.int32)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    np.cumsum(indptr, out=indptr)
    return indptr, cols, summed.astype(np.float64)


def build_graph(
    inter: Interactions,
    half_life_days: float | None = 180.0,
    with_categories: bool = True,
    category_weight: float = 1.0,
) -> CSRGraph:
    """Customer–product edges weighted by repeat purchases with exponential recency decay
    (a purchase `half_life_days` before the newest one counts half), plus product–category
    edges. Recency matters in retail: tastes and the catalogue drift, and the season moves.
    """
    nc, npr = len(inter.customers), len(inter.products)
    nk = len(inter.categories) if with_categories else 0
    if half_life_days and inter.n_events:
        age_days = (int(inter.at.max()) - inter.at) / DAY_MS
        w = np.power(0.5, age_days / half_life_days)
    else:
        w = np.ones(inter.n_events)
    src = inter.cust.astype(np.int64)
    dst = inter.prod.astype(np.int64) + nc
    if nk and len(inter.prod_cat):
        src = np.concatenate([src, inter.prod_cat[:, 0].astype(np.int64) + nc])
        dst = np.concatenate([dst, inter.prod_cat[:, 1].astype(np.int64) + nc + npr])
        w = np.concatenate([w, np.full(len(inter.prod_cat), category_weight)])
    n = nc + npr + nk
    indptr, indices, weights = csr_from_edges(src, dst, w, n)
    cum = row_cumsum(indptr, weights)
    tokens = (
        [f"c:{c}" for c in inter.customers]
        + [f"p:{p}" for p in inter.products]
        + [f"k:{k}" for k in inter.categories[:nk]]
    )
    return CSRGraph(indptr, indices, weights, cum, tokens, nc, npr)


def row_cumsum(indptr: IntArray, weights: FloatArray) -> FloatArray:
    """Running weight sums restarting at every row."""
    total = np.cumsum(weights)
    starts = indptr[:-1]
    nonempty = indptr[1:] > starts
    offset = np.zeros(len(starts))
    offset[nonempty] = total[starts[nonempty]] - weights[starts[nonempty]]
    row_of = np.repeat(np.arange(len(starts)), np.diff(indptr))
    return np.asarray(total - offset[row_of], dtype=np.float64)
