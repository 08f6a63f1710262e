"""node2vec = biased walks + skip-gram Word2Vec (gensim) over the walks.

Reproducibility: the same seed and data give the same vectors only with `workers=1`. The walks
are reproducible at any thread count (embeddings/walks.py), and gensim seeds its initial vectors
and its sampling from `seed`, but with several workers the order in which threads update the
shared vectors depends on scheduling. `ckg embed` therefore defaults to one worker;
`--workers N` is faster and not bit-for-bit repeatable.

Training reads the walks from a file (gensim's `corpus_file` mode, see walks.py): the training
itself is no faster than from a Python iterable (measured side by side), but the walks
never become Python lists of strings, which took longer than walking and most of the memory on
large graphs. That mode decays each worker's learning rate by the sentences it has seen
against the whole corpus, so with N workers the rate would only fall 1/N of the way;
`train_word2vec` passes each worker its share instead, which gives the usual linear decay
whatever the number of workers (workers stay a speed setting, see `EmbedParams.identity`), and
with one worker exactly gensim's own schedule.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from embeddings.projection import CSRGraph, Interactions, build_graph
from embeddings.walks import WalkCorpus, write_walk_corpus

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


def train_word2vec(corpus: WalkCorpus, params: EmbedParams) -> Any:
    """Skip-gram with negative sampling on a walk file; the vocabulary comes from the counts
    the walker kept (the same words and frequencies a scan of the file would find)."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=params.dimensions,
        window=params.window,
        min_count=1,
        sg=1,
        hs=0,
        negative=params.negative,
        workers=params.workers,
        seed=params.seed,
        epochs=params.epochs,
        compute_loss=False,
    )
    nodes = np.flatnonzero(corpus.counts)
    model.build_vocab_from_freq(
        dict(zip(map(str, nodes.tolist()), corpus.counts[nodes].tolist(), strict=True)),
        corpus_count=corpus.sentences,
    )
    model.train(
        corpus_file=str(corpus.path),
        total_examples=math.ceil(corpus.sentences / max(1, params.workers)),
        total_words=corpus.words,
        epochs=params.epochs,
        compute_loss=False,
    )
    return model


def embed(
    inter: Interactions, params: EmbedParams, progress: Progress | None = None
) -> tuple[Embeddings, CSRGraph]:
    """Project, walk and train; vectors come back as float32 arrays."""
    say = progress or (lambda _m: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say("projecting the interaction graph")
    g = build_graph(inter, params.half_life_days, params.with_categories)
    timings["project_s"] = time.perf_counter() - t0
    nc, npr = len(inter.customers), len(inter.products)
    cv = np.zeros((nc, params.dimensions), dtype=np.float32)
    pv = np.zeros((npr, params.dimensions), dtype=np.float32)
    row = np.full(g.n_nodes, -1, dtype=np.int64)  # node -> row of the trained vectors
    with tempfile.TemporaryDirectory(prefix="ckg-walks-") as tmp:
        say(f"walking ({g.n_nodes:,} nodes, {g.n_edges:,} edges)")
        t0 = time.perf_counter()
        corpus = write_walk_corpus(
            g,
            Path(tmp) / "walks.txt",
            params.num_walks,
            params.walk_length,
            params.p,
            params.q,
            params.seed,
        )
        timings["walk_s"] = time.perf_counter() - t0
        if corpus.words:
            say(f"training Word2Vec on {corpus.sentences:,} walks")
            t0 = time.perf_counter()
            kv = train_word2vec(corpus, params).wv
            timings["train_s"] = time.perf_counter() - t0
            row[np.array(kv.index_to_key, dtype=np.int64)] = np.arange(len(kv.index_to_key))
            vectors = np.asarray(kv.vectors, dtype=np.float32)
            ck, pk = row[:nc] >= 0, row[nc : nc + npr] >= 0
            cv[ck] = vectors[row[:nc][ck]]
            pv[pk] = vectors[row[nc : nc + npr][pk]]
    return Embeddings(cv, pv, row[:nc] >= 0, row[nc : nc + npr] >= 0, timings), g


def normalize(v: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(v / norms, dtype=np.float32)


EXACT_LIMIT = 50_000


def top_k_similar(
    vectors: npt.NDArray[np.float32],
    known: npt.NDArray[np.bool_],
    k: int,
    block: int = 512,
    exact_limit: int = EXACT_LIMIT,
    seed: int = 0,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Each row's k most cosine-similar other rows; rows without a vector get -1.

    Exact (in blocks to bound memory) up to `exact_limit` vectors: that covers every product
    catalogue and customer base we load. Above it, an all-pairs scan is quadratic (100k
    customers: about 1.3 TFLOP, half a minute of both cores during write-back), so larger sets
    take `_clustered_top_k`, which checks a few percent of the pairs; `similar_recall` measures
    what that misses."""
    n = vectors.shape[0]
    k = max(0, min(k, int(known.sum()) - 1))
    idx = np.full((n, k), -1, dtype=np.int32)
    sc = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return idx, sc
    unit = normalize(vectors)
    unit[~known] = 0.0
    if int(known.sum()) > exact_limit:
        return _clustered_top_k(unit, known, k, seed)
    for lo in range(0, n, block):
        idx[lo : lo + block], sc[lo : lo + block] = _exact_top_k(
            unit, known, np.arange(lo, min(n, lo + block)), k
        )
    idx[~known] = -1
    sc[~known] = 0.0
    return idx, sc


def _exact_top_k(
    unit: npt.NDArray[np.float32], known: npt.NDArray[np.bool_], rows: npt.NDArray[np.intp], k: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """The exact top-k of `rows` among all known rows but themselves (unit vectors, unknown
    rows zeroed)."""
    s = unit[rows] @ unit.T
    s[np.arange(len(rows)), rows] = -np.inf
    if not known.all():
        s[:, ~known] = -np.inf
    return _select_top_k(s, k)


def _clustered_top_k(
    unit: npt.NDArray[np.float32], known: npt.NDArray[np.bool_], k: int, seed: int, probe: int = 24
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Inverted-file search: spherical k-means puts the vectors in about 2*sqrt(n) cells, and
    each cell's members are scored exactly against the members of the `probe` cells nearest to
    it (itself first), batched as one matrix product per cell. Seeded, so repeatable."""
    n = unit.shape[0]
    rows = np.flatnonzero(known)
    x = np.ascontiguousarray(unit[rows])
    cells = max(1, int(2 * math.sqrt(len(rows))))
    centroids = _spherical_kmeans(x, cells, seed)
    cell = np.concatenate(
        [np.argmax(x[lo : lo + 4096] @ centroids.T, axis=1) for lo in range(0, len(rows), 4096)]
    )
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(cells + 1))
    nearest = np.argsort(-(centroids @ centroids.T), axis=1, kind="stable")
    idx = np.full((n, k), -1, dtype=np.int32)
    sc = np.zeros((n, k), dtype=np.float32)
    for c in range(cells):
        members = order[bounds[c] : bounds[c + 1]]
        if not len(members):
            continue
        parts: list[npt.NDArray[np.intp]] = []
        size = 0
        for d in nearest[c].tolist():  # the `probe` nearest cells, more if they hold < k + 1
            if len(parts) >= probe and size > k:
                break
            parts.append(order[bounds[d] : bounds[d + 1]])
            size += len(parts[-1])
        cand = np.sort(np.concatenate(parts))  # ascending, so ties break as in the exact scan
        s = x[members] @ x[cand].T
        s[np.arange(len(members)), np.searchsorted(cand, members)] = -np.inf
        li, ls = _select_top_k(s, k)
        idx[rows[members]] = np.where(li >= 0, rows[cand[np.maximum(li, 0)]], -1)
        sc[rows[members]] = np.where(li >= 0, ls, 0.0)
    return idx, sc


def _spherical_kmeans(
    x: npt.NDArray[np.float32], cells: int, seed: int, iterations: int = 10
) -> npt.NDArray[np.float32]:
    """Unit-length centroids fitted on a seeded sample of at most 40 points per cell."""
    rng = np.random.default_rng(seed)
    sample = x[np.sort(rng.choice(len(x), min(len(x), 40 * cells), replace=False))]
    centroids = sample[np.sort(rng.choice(len(sample), cells, replace=False))].copy()
    for _ in range(iterations):
        cell = np.argmax(sample @ centroids.T, axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, cell, sample)
        filled = np.bincount(cell, minlength=cells) > 0  # an empty cell keeps its centroid
        centroids[filled] = normalize(sums[filled])
    return centroids


def similar_recall(
    vectors: npt.NDArray[np.float32],
    known: npt.NDArray[np.bool_],
    idx: npt.NDArray[np.int32],
    sample: int = 500,
    seed: int = 0,
) -> float:
    """Share of the exact top-k neighbours that `idx` holds, on a seeded sample of rows (1.0
    for the exact path; the clustered one reports what it missed)."""
    rows = np.flatnonzero(known)
    k = idx.shape[1]
    if k == 0 or not len(rows):
        return 1.0
    pick = np.sort(np.random.default_rng(seed).choice(rows, min(sample, len(rows)), replace=False))
    unit = normalize(vectors)
    unit[~known] = 0.0
    exact, _ = _exact_top_k(unit, known, pick, k)
    hits = sum(
        len(set(exact[i].tolist()) & set(idx[r].tolist())) for i, r in enumerate(pick.tolist())
    )
    return hits / float(exact.size)


@njit(cache=True, parallel=True, nogil=True)
def _select_top_k(
    s: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
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
