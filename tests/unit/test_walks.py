"""The node2vec walker: it follows edges, honours weights and the p/q bias, and repeats itself."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from numba import get_num_threads, set_num_threads

from embeddings.projection import CSRGraph, csr_from_edges, row_cumsum
from embeddings.walks import random_walks, walks_as_sentences, write_walk_corpus


def graph(edges: list[tuple[int, int, float]], n: int) -> CSRGraph:
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    indptr, indices, weights = csr_from_edges(src, dst, w, n)
    return CSRGraph(
        indptr, indices, weights, row_cumsum(indptr, weights), [f"n{i}" for i in range(n)], n, 0
    )


# A=0, B=1, C=2, D=3: a triangle A-B-C and a pendant D on B. From B, having come from A:
# A is "return" (1/p), C is a neighbour of A (1), D is "further out" (1/q).
TRIANGLE = graph([(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (1, 3, 1.0)], 4)


def second_steps(p: float, q: float, seed: int = 3) -> npt.NDArray[np.float64]:
    walks = random_walks(
        TRIANGLE,
        num_walks=30_000,
        walk_length=3,
        p=p,
        q=q,
        seed=seed,
        start_nodes=np.array([0], dtype=np.int32),
    )
    via_b = walks[walks[:, 1] == 1]
    counts = np.bincount(via_b[:, 2], minlength=4).astype(np.float64)
    return np.asarray(counts / counts.sum(), dtype=np.float64)


def test_p_and_q_bias_the_second_step_as_node2vec_defines() -> None:
    # expected shares A:C:D = 1/p : 1 : 1/q over B's neighbours A, C, D
    for p, q in ((0.25, 1.0), (4.0, 0.25), (1.0, 1.0)):
        alpha = np.array([1 / p, 0.0, 1.0, 1 / q])
        expected = alpha / alpha.sum()
        got = second_steps(p, q)
        assert np.abs(got - expected).max() < 0.02, (p, q, got, expected)
    # and the bias is visible: returning is far likelier with a small p than with a large one
    assert second_steps(0.25, 1.0)[0] > 3 * second_steps(4.0, 1.0)[0]


def test_walks_follow_edges_and_weights() -> None:
    g = graph([(0, 1, 1.0), (0, 2, 3.0), (1, 2, 1.0), (3, 4, 1.0)], 5)
    walks = random_walks(g, num_walks=200, walk_length=10, seed=1)
    adjacency = {(a, int(b)) for a in range(5) for b in g.indices[g.indptr[a] : g.indptr[a + 1]]}
    for row in walks:
        for a, b in itertools.pairwise(row):
            assert (int(a), int(b)) in adjacency
    first = random_walks(
        g, num_walks=20_000, walk_length=2, seed=2, start_nodes=np.array([0], dtype=np.int32)
    )[:, 1]
    share_2 = float((first == 2).mean())
    assert abs(share_2 - 0.75) < 0.02  # weight 3 against weight 1


def test_isolated_nodes_are_padded_not_walked() -> None:
    g = graph([(0, 1, 1.0)], 3)
    walks = random_walks(
        g, num_walks=1, walk_length=4, seed=0, start_nodes=np.array([2, 0], dtype=np.int32)
    )
    assert walks[0].tolist() == [2, -1, -1, -1]
    assert walks_as_sentences(walks, g.tokens)[0] == ["n2"]


def test_same_seed_same_walks_at_any_thread_count() -> None:
    g = graph(
        [(i, (i * 7 + 3) % 50, 1.0 + i % 3) for i in range(50)]
        + [(i, (i + 1) % 50, 1.0) for i in range(50)],
        50,
    )
    a = random_walks(g, num_walks=5, walk_length=20, p=0.5, q=2.0, seed=11)
    b = random_walks(g, num_walks=5, walk_length=20, p=0.5, q=2.0, seed=11)
    assert np.array_equal(a, b)
    threads = get_num_threads()
    try:
        set_num_threads(1)
        single = random_walks(g, num_walks=5, walk_length=20, p=0.5, q=2.0, seed=11)
    finally:
        set_num_threads(threads)
    assert np.array_equal(a, single)
    assert not np.array_equal(
        a, random_walks(g, num_walks=5, walk_length=20, p=0.5, q=2.0, seed=12)
    )


def test_p_and_q_must_be_positive() -> None:
    with pytest.raises(ValueError):
        random_walks(TRIANGLE, p=0.0)


def test_the_walk_file_holds_the_same_walks_in_any_chunking(tmp_path: Path) -> None:
    g = graph([(i, (i * 7 + 3) % 50, 1.0 + i % 3) for i in range(40)], 53)  # 50-52 isolated
    walks = random_walks(g, num_walks=3, walk_length=12, p=0.5, q=2.0, seed=5)
    for chunk in (7, 1000):
        corpus = write_walk_corpus(
            g,
            tmp_path / f"w{chunk}.txt",
            num_walks=3,
            walk_length=12,
            p=0.5,
            q=2.0,
            seed=5,
            chunk_walks=chunk,
        )
        lines = corpus.path.read_text().splitlines()
        assert lines == [" ".join(map(str, row[row >= 0].tolist())) for row in walks]
        assert corpus.sentences == len(walks) and corpus.words == int((walks >= 0).sum())
        assert corpus.counts.tolist() == np.bincount(walks[walks >= 0], minlength=53).tolist()
