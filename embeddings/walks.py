"""node2vec random walks on a CSR graph, compiled with numba.

Why not the `node2vec` package: it precomputes a transition table per (previous, current) edge
pair, which took 72 s and 2.5 GB for 100k edges here and never finished for 1M. This walker
precomputes nothing: the next step is a weighted draw from the current node's row (binary
search in running sums), then the p/q bias is applied by rejection sampling (Knight's method, as
in PecanPy's SparseOTF): accept the candidate x with probability alpha(x) / max(alpha), where
alpha is 1/p to go back, 1 to a neighbour of the previous node, 1/q further out. The expected
number of draws per step is small for the usual p, q in [0.25, 4].

Reproducible and parallel: every walk has its own random stream (splitmix64 seeded by the run
seed and the walk's number), so the walks are identical whatever the number of threads.
`cache=True` keeps the compiled code on disk: compiling costs more than walking a small graph.

For training, walks go to a text file (`write_walk_corpus`) that gensim's `corpus_file` mode reads
in C with one thread per worker: no Python list of string sentences (on 1M edges the former
conversion took longer than the walks, and most of the pipeline's memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from embeddings.projection import CSRGraph

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _uniform(state: npt.NDArray[np.uint64]) -> float:
    """One uniform draw in [0, 1) from a splitmix64 stream held in `state[0]`."""
    state[0] = state[0] + _GOLDEN
    return float(_mix(state[0]) >> _S11) * _INV53


@njit(cache=True, inline="always")
def _draw(
    indptr: npt.NDArray[np.int64],
    cum: npt.NDArray[np.float64],
    v: int,
    state: npt.NDArray[np.uint64],
) -> int:
    """A neighbour position of v, with probability proportional to the edge weight."""
    lo, hi = indptr[v], indptr[v + 1]
    total = cum[hi - 1]
    j = lo + np.searchsorted(cum[lo:hi], _uniform(state) * total, side="right")
    return int(min(j, hi - 1))


@njit(cache=True, inline="always")
def _adjacent(
    indptr: npt.NDArray[np.int64], indices: npt.NDArray[np.int32], a: int, b: int
) -> bool:
    lo, hi = indptr[a], indptr[a + 1]
    j = lo + np.searchsorted(indices[lo:hi], b)
    return bool(j < hi and indices[j] == b)


@njit(cache=True, parallel=True)
def _walks(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    cum: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int32],
    length: int,
    p: float,
    q: float,
    seed: int,
    first: int,
) -> npt.NDArray[np.int32]:
    """Walk `w` of this call is walk `first + w` of the run: its random stream depends on that
    number only, so a run cut into chunks walks exactly as one call would."""
    n = starts.shape[0]
    out = np.full((n, length), -1, dtype=np.int32)
    inv_p, inv_q = 1.0 / p, 1.0 / q
    top = max(inv_p, 1.0, inv_q)
    base = _mix(np.uint64(seed) * _GOLDEN + _GOLDEN)
    for w in prange(n):
        state = np.empty(1, dtype=np.uint64)
        state[0] = _mix(base ^ (np.uint64(first + w) * _GOLDEN))
        v = starts[w]
        out[w, 0] = v
        if indptr[v + 1] == indptr[v]:
            continue
        prev = v
        v = indices[_draw(indptr, cum, v, state)]
        out[w, 1] = v
        for step in range(2, length):
            if indptr[v + 1] == indptr[v]:
                break
            while True:
                x = indices[_draw(indptr, cum, v, state)]
                if x == prev:
                    alpha = inv_p
                elif _adjacent(indptr, indices, prev, x):
                    alpha = 1.0
                else:
                    alpha = inv_q
                if _uniform(state) * top < alpha:
                    break
            out[w, step] = x
            prev, v = v, x
    return out


def _check_bias(p: float, q: float) -> None:
    if p <= 0 or q <= 0:
        raise ValueError("p and q must be positive")


def _connected(g: CSRGraph) -> npt.NDArray[np.int32]:
    """The default start nodes: every node with an edge (both walkers must agree on them)."""
    return np.flatnonzero(np.diff(g.indptr) > 0).astype(np.int32)


def random_walks(
    g: CSRGraph,
    num_walks: int = 10,
    walk_length: int = 30,
    p: float = 1.0,
    q: float = 1.0,
    seed: int = 0,
    start_nodes: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.int32]:
    """`num_walks` walks from every start node (default: every node with an edge), as an
    (n_walks, walk_length) int32 array padded with -1 where a walk hit a dead end."""
    _check_bias(p, q)
    if start_nodes is None:
        start_nodes = _connected(g)
    starts = np.tile(start_nodes.astype(np.int32), num_walks)
    if len(starts) == 0:
        return np.zeros((0, walk_length), dtype=np.int32)
    result: npt.NDArray[np.int32] = _walks(
        g.indptr, g.indices, g.cum, starts, walk_length, float(p), float(q), int(seed), 0
    )
    return result


def walks_as_sentences(walks: npt.NDArray[np.int32], tokens: list[str]) -> list[list[str]]:
    """Readable tokens per walk, for inspection and tests (training reads the walk file)."""
    vocab = np.array(tokens, dtype=object)
    out: list[list[str]] = []
    for row in walks:
        valid = row[row >= 0]
        out.append(vocab[valid].tolist())
    return out


@njit(cache=True)
def _digits(v: int) -> int:
    n = 1
    while v >= 10:
        v //= 10
        n += 1
    return n


@njit(cache=True)
def _encode_lines(walks: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    """Walks as text: node numbers in decimal, space-separated, one walk per line (serial: a
    fraction of the walking time, and a parallel loop would add to every fresh compile)."""
    n, length = walks.shape
    sizes = np.zeros(n + 1, dtype=np.int64)
    for w in range(n):
        size = 0
        for j in range(length):
            v = walks[w, j]
            if v < 0:
                break
            size += _digits(v) + 1  # the separator after it (a space, or the newline)
        sizes[w + 1] = size
    ends = np.cumsum(sizes)
    out = np.empty(ends[n], dtype=np.uint8)
    for w in range(n):
        pos = ends[w]
        for j in range(length):
            v = walks[w, j]
            if v < 0:
                break
            d = _digits(v)
            for k in range(d - 1, -1, -1):
                out[pos + k] = 48 + v % 10
                v //= 10
            pos += d
            out[pos] = 32
            pos += 1
        if pos > ends[w]:
            out[pos - 1] = 10
    return out


@dataclass(frozen=True)
class WalkCorpus:
    """A walk file for gensim's `corpus_file` mode: one walk per line, tokens are node numbers
    (decimal strings, so gensim's integer-key trap does not apply); `counts[v]` is how often
    node v occurs, which is the vocabulary, so gensim need not scan the file for it."""

    path: Path
    counts: npt.NDArray[np.int64]
    sentences: int
    words: int


def write_walk_corpus(
    g: CSRGraph,
    path: Path,
    num_walks: int = 10,
    walk_length: int = 30,
    p: float = 1.0,
    q: float = 1.0,
    seed: int = 0,
    chunk_walks: int = 200_000,
) -> WalkCorpus:
    """The walks of `random_walks(g, ...)` (same seed, same walks), written to `path` in chunks
    so neither the walk array nor its text is ever whole in memory."""
    _check_bias(p, q)
    nodes = _connected(g)
    total = len(nodes) * num_walks
    counts = np.zeros(g.n_nodes, dtype=np.int64)
    words = 0
    with open(path, "wb") as f:
        for lo in range(0, total, chunk_walks):
            hi = min(total, lo + chunk_walks)
            starts = nodes[np.arange(lo, hi) % len(nodes)]
            walks = _walks(
                g.indptr, g.indices, g.cum, starts, walk_length, float(p), float(q), int(seed), lo
            )
            valid = walks[walks >= 0]
            counts += np.bincount(valid, minlength=g.n_nodes)
            words += len(valid)
            f.write(_encode_lines(walks).tobytes())
    return WalkCorpus(path, counts, total, words)
