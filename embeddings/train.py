"""node2vec = biased walks + skip-gram Word2Vec (gensim) over the walks.

Reproducibility: the same seed and data give the same vectors only with `workers=1`. The walks
are reproducible at any thread count (embeddings/walks.py), and gensim seeds its initial vectors
and its sampling from `seed`, but with several workers the order in which threads update the
shared vectors depends on scheduling. `ckg embed` therefore defaults to one worker;
`--workers N` is faster and not bit-for-bit repeatable. Tokens are strings (see projection.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from embeddings.projection import CSRGraph, Interactions, build_graph
from embeddings.walks import random_walks, walks_as_sentences

Progress = Callable[[str], None]


@dataclass(frozen=True)
class EmbedParams:
    """Everything that defines a model besides the data; stored on its Model node."""

    dimensions: int = 64
    walk_length: int = 30
    num_walks: int = 10
    p: float = 1.0
    q: float = 1.0
    window: int = 5
    epochs: int = 5
    negative: int = 5
    half_life_days: float = 120.0
    with_categories: bool = True
    workers: int = 1
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self) -> dict[str, Any]:
        """The parameters that change the vectors (workers only changes repeatability)."""
        d = self.as_dict()
        d.pop("workers")
        return d


@dataclass
class Embeddings:
    """Vectors for customers and products, rows aligned with the interactions' id tables."""

    customers: npt.NDArray[np.float32]
    products: npt.NDArray[np.float32]
    known_customers: npt.NDArray[np.bool_]
    known_products: npt.NDArray[np.bool_]
    timings: dict[str, float] = field(default_factory=dict)


def train_word2vec(sentences: list[list[str]], params: EmbedParams) -> Any:
    from gensim.models import Word2Vec

    return Word2Vec(
        sentences=sentences, vector_size=params.dimensions, window=params.window, min_count=1,
        sg=1, hs=0, negative=params.negative, workers=params.workers, seed=params.seed,
        epochs=params.epochs, compute_loss=False,
    )


def embed(inter: Interactions, params: EmbedParams,
          progress: Progress | None = None) -> tuple[Embeddings, CSRGraph]:
    """Project, walk and train; vectors come back as float32 arrays."""
    say = progress or (lambda _m: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say("projecting the interaction graph")
    g = build_graph(inter, params.half_life_days, params.with_categories)
    timings["project_s"] = time.perf_counter() - t0
    say(f"walking ({g.n_nodes:,} nodes, {g.n_edges:,} edges)")
    t0 = time.perf_counter()
    walks = random_walks(g, params.num_walks, params.walk_length, params.p, params.q,
                         params.seed)
    sentences = walks_as_sentences(walks, g.tokens)
    del walks
    timings["walk_s"] = time.perf_counter() - t0
    say(f"training Word2Vec on {len(sentences):,} walks")
    t0 = time.perf_counter()
    model = train_word2vec(sentences, params)
    timings["train_s"] = time.perf_counter() - t0
    del sentences
    kv = model.wv

    def matrix(prefix: str, ids: list[str]) -> tuple[npt.NDArray[np.float32],
                                                     npt.NDArray[np.bool_]]:
        out = np.zeros((len(ids), params.dimensions), dtype=np.float32)
        known = np.zeros(len(ids), dtype=bool)
        for i, x in enumerate(ids):
            ix = kv.key_to_index.get(f"{prefix}{x}")
            if ix is not None:
                out[i] = kv.vectors[ix]
                known[i] = True
        return out, known

    cv, ck = matrix("c:", inter.customers)
    pv, pk = matrix("p:", inter.products)
    return Embeddings(cv, pv, ck, pk, timings), g


def normalize(v: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(v / norms, dtype=np.float32)


def top_k_similar(vectors: npt.NDArray[np.float32], known: npt.NDArray[np.bool_], k: int,
                  block: int = 2048) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Each row's k most cosine-similar other rows (exact, in blocks to bound memory);
    rows without a vector get -1."""
    n = vectors.shape[0]
    k = max(0, min(k, int(known.sum()) - 1))
    idx = np.full((n, k), -1, dtype=np.int32)
    sc = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return idx, sc
    unit = normalize(vectors)
    unit[~known] = 0.0
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        s = unit[lo:hi] @ unit.T
        s[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf
        if not known.all():
            s[:, ~known] = -np.inf
        idx[lo:hi], sc[lo:hi] = _select_top_k(s, k)
    idx[~known] = -1
    sc[~known] = 0.0
    return idx, sc


@njit(cache=True, parallel=True)
def _select_top_k(s: npt.NDArray[np.float32],
                  k: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Each row's k largest entries, by value and then by column (lower first): one pass per
    row keeping a sorted buffer of k, so a row costs about one comparison per entry (a full
    argpartition of every row was the slowest step of write-back on large graphs). Entries of
    -inf are never chosen; their slots stay -1."""
    rows, cols = s.shape
    idx = np.full((rows, k), -1, dtype=np.int32)
    sc = np.full((rows, k), -np.inf, dtype=np.float32)
    for r in prange(rows):
        thr = -np.inf
        for j in range(cols):
            v = s[r, j]
            if v > thr:
                pos = k - 1
                while pos > 0 and sc[r, pos - 1] < v:
                    sc[r, pos] = sc[r, pos - 1]
                    idx[r, pos] = idx[r, pos - 1]
                    pos -= 1
                sc[r, pos] = v
                idx[r, pos] = j
                thr = sc[r, k - 1]
    return idx, sc
