"""node2vec speed, quality and memory: the project's pipeline against the `node2vec` package.

On seeded synthetic power-law customer–product graphs (customers' degrees Pareto-distributed,
products drawn by Zipf popularity, with taste communities so held-out links are predictable):

1. 100k edges, the project: projection (CSR), walks (numba), Word2Vec (gensim) and write-back
   (popularity, vectors, vector indexes, top-10 SIMILAR edges) into a fresh embedded store, each
   timed (on 1M edges the 100k customers' lists come from the inverted-file search, whose
   recall against the exact lists is reported); link-prediction AUC on held-out edges (10%,
   cosine of customer and product vectors against as many random non-edges);
2. the same graph and hyperparameters with the `node2vec` package (networkx graph, transition
   tables, walks, Word2Vec), in a child process capped at `--timeout` seconds (null if capped);
3. 1M edges, the project as in 1;
4. 1M edges, gensim Word2Vec alone on the same walks (regenerated with the same seed, written to
   the same kind of walk file), through the pipeline's own training call: the floor, run once
   before and once after 3 and counted as the mean of the two.

Every stage runs in its own child process; peak_rss_mb is the project's pipeline process on the
1M graph (its own `ru_maxrss`, the store server excluded). Same hyperparameters everywhere:
64 dimensions, walk length 30, 10 walks per node, window 5, 5 negatives, 1 epoch, p=1, q=0.5,
2 workers, unweighted graph. Prints one JSON line. Targets: speedup >= 10 at AUC
within 0.01 of the reference on 100k edges; overhead_ratio (total / Word2Vec alone) <= 1.3 and
peak memory <= 2 GB on 1M edges, on 2 cores.

The reference is not a project dependency; install it into the venv for this script only
(`--no-deps`: its dependencies are already pinned, and its own pins would move numpy):

    .venv/bin/pip install --no-deps node2vec
    .venv/bin/python benchmarks/embed.py [--small 100000] [--large 1000000] [--timeout 600]
"""

from __future__ import annotations

import sys
from pathlib import Path

# keep this folder off the path (benchmarks/ingest.py would shadow the `ingest` package)
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import resource
import subprocess
import tempfile
import time
from typing import Any

import numpy as np
import numpy.typing as npt

SEED = 42
P, Q = 1.0, 0.5
HYPER = {
    "dimensions": 64,
    "walk_length": 30,
    "num_walks": 10,
    "window": 5,
    "negative": 5,
    "epochs": 1,
    "p": P,
    "q": Q,
    "workers": 2,
}

IntArray = npt.NDArray[np.int64]


def power_law_graph(n_edges: int, seed: int = SEED) -> tuple[int, int, IntArray, IntArray]:
    """Unique (customer, product) pairs: customers' degrees ~ Pareto (alpha 1.5), products by
    Zipf popularity (exponent 0.9), 70% of the time within the customer's taste community (one
    of 50). 10 edges per customer and 50 per product on average."""
    rng = np.random.default_rng(seed)
    n_cust, n_prod = max(100, n_edges // 10), max(50, n_edges // 50)
    n_comm = min(50, n_prod // 20)
    comm_c = rng.integers(0, n_comm, n_cust)
    comm_p = np.arange(n_prod) % n_comm  # every community has products
    pop = (1.0 / np.power(np.arange(1, n_prod + 1), 0.9))[rng.permutation(n_prod)]
    all_cdf = np.cumsum(pop) / pop.sum()
    by_comm = [np.flatnonzero(comm_p == k) for k in range(n_comm)]
    comm_cdf = [np.cumsum(pop[ix]) / pop[ix].sum() for ix in by_comm]
    shape = rng.pareto(1.5, n_cust) + 1.0
    factor = 1.2
    while True:
        deg = np.clip(np.round(shape / shape.sum() * n_edges * factor), 1, n_prod // 2)
        users = np.repeat(np.arange(n_cust), deg.astype(np.int64))
        prods = np.empty(len(users), dtype=np.int64)
        local = rng.random(len(users)) < 0.7
        prods[~local] = np.minimum(
            n_prod - 1, np.searchsorted(all_cdf, rng.random(int((~local).sum())))
        )
        for k in range(n_comm):
            sel = local & (comm_c[users] == k)
            ix = by_comm[k]
            draw = np.searchsorted(comm_cdf[k], rng.random(int(sel.sum())))
            prods[sel] = ix[np.minimum(len(ix) - 1, draw)]
        keys = np.unique(users * n_prod + prods)
        if len(keys) >= n_edges or factor > 50:
            break
        factor *= 1.3
    keys = np.sort(rng.permutation(keys)[:n_edges])
    return n_cust, n_prod, keys // n_prod, keys % n_prod


def holdout(
    cust: IntArray, prod: IntArray, n_cust: int, n_prod: int, share: float = 0.1, seed: int = SEED
) -> tuple[npt.NDArray[np.bool_], IntArray, IntArray]:
    """(train mask, negative customers, negative products): `share` of the edges held out, only
    where both ends keep another edge; as many random non-edges."""
    rng = np.random.default_rng(seed + 1)
    dc = np.bincount(cust, minlength=n_cust)
    dp = np.bincount(prod, minlength=n_prod)
    train = np.ones(len(cust), dtype=bool)
    want = int(share * len(cust))
    held = 0
    for e in rng.permutation(len(cust)).tolist():
        if held >= want:
            break
        c, p = cust[e], prod[e]
        if dc[c] > 1 and dp[p] > 1:
            train[e] = False
            dc[c] -= 1
            dp[p] -= 1
            held += 1
    existing = set((cust * n_prod + prod).tolist())
    neg_c: list[int] = []
    neg_p: list[int] = []
    while len(neg_c) < held:
        c, p = int(rng.integers(0, n_cust)), int(rng.integers(0, n_prod))
        if c * n_prod + p not in existing:
            neg_c.append(c)
            neg_p.append(p)
    return train, np.array(neg_c, dtype=np.int64), np.array(neg_p, dtype=np.int64)


def auc(
    cv: npt.NDArray[np.float32],
    pv: npt.NDArray[np.float32],
    pos: tuple[IntArray, IntArray],
    neg: tuple[IntArray, IntArray],
) -> float:
    """Link-prediction AUC of cosine(customer, product): positives vs negatives (Mann-Whitney)."""
    from scipy.stats import rankdata

    def unit(v: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        n = np.linalg.norm(v, axis=1, keepdims=True)
        n[n == 0] = 1.0
        return np.asarray(v / n, dtype=np.float64)

    cu, pu = unit(cv), unit(pv)
    sp = np.einsum("ij,ij->i", cu[pos[0]], pu[pos[1]])
    sn = np.einsum("ij,ij->i", cu[neg[0]], pu[neg[1]])
    ranks = rankdata(np.concatenate([sp, sn]))
    n1, n0 = len(sp), len(sn)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def prepared(n_edges: int) -> dict[str, Any]:
    n_cust, n_prod, cust, prod = power_law_graph(n_edges)
    train, neg_c, neg_p = holdout(cust, prod, n_cust, n_prod)
    return {
        "n_cust": n_cust,
        "n_prod": n_prod,
        "cust": cust,
        "prod": prod,
        "train": train,
        "pos": (cust[~train], prod[~train]),
        "neg": (neg_c, neg_p),
    }


def interactions(g: dict[str, Any]) -> Any:
    from embeddings.projection import Interactions

    tr = g["train"]
    return Interactions(
        [f"u{i}" for i in range(g["n_cust"])],
        [f"p{i}" for i in range(g["n_prod"])],
        g["cust"][tr].astype(np.int32),
        g["prod"][tr].astype(np.int32),
        np.zeros(int(tr.sum()), dtype=np.int64),
    )


def params() -> Any:
    from embeddings.train import EmbedParams

    return EmbedParams(
        dimensions=64,
        walk_length=30,
        num_walks=10,
        p=P,
        q=Q,
        window=5,
        epochs=1,
        negative=5,
        half_life_days=0.0,
        with_categories=False,
        workers=2,
        seed=SEED,
    )


def stage_project(n_edges: int) -> dict[str, Any]:
    """The project's pipeline, write-back into a fresh embedded store."""
    from api.settings import Settings
    from embeddings.pipeline import write_back
    from embeddings.train import embed
    from graph.embedded import EmbeddedServer
    from graph.queries import get_queries
    from graph.store import open_store

    g = prepared(n_edges)
    inter = interactions(g)
    q = get_queries()
    with tempfile.TemporaryDirectory(prefix="ckg-bench-embed-") as tmp:
        data = Path(tmp) / "data"
        try:
            with open_store(Settings(data_dir=data, graph_name="bench_embed")) as store:
                # the nodes exist before write-back (ingest's job, not timed)
                store.write_rows(
                    q.upsert_customers,
                    ({"id": c, "props": {}} for c in inter.customers),
                    batch_size=5000,
                )
                store.write_rows(
                    q.upsert_products,
                    ({"id": p, "category": None, "props": {}} for p in inter.products),
                    batch_size=5000,
                )
                t0 = time.perf_counter()
                emb, _ = embed(inter, params())
                t1 = time.perf_counter()
                written = write_back(store, inter, emb, "bench", 10)
                store.checkpoint()
                t2 = time.perf_counter()
        finally:
            EmbeddedServer(data).stop()
    return {
        "edges": int(g["train"].sum()),
        "nodes": g["n_cust"] + g["n_prod"],
        "seconds": t2 - t0,
        "embed_seconds": t1 - t0,
        "stages": {
            **{k: round(v, 2) for k, v in emb.timings.items()},
            "vectors_s": round(t1 - t0 - sum(emb.timings.values()), 2),
            "write_back_s": round(t2 - t1, 2),
        },
        "written": written,
        "auc": auc(emb.customers, emb.products, g["pos"], g["neg"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def stage_reference(n_edges: int) -> dict[str, Any]:
    """The `node2vec` package on the same training edges and hyperparameters."""
    import networkx as nx
    from node2vec import Node2Vec

    g = prepared(n_edges)
    tr = g["train"]
    t0 = time.perf_counter()
    graph = nx.Graph()
    graph.add_edges_from(
        zip(
            (f"c:u{c}" for c in g["cust"][tr].tolist()),
            (f"p:p{p}" for p in g["prod"][tr].tolist()),
            strict=True,
        )
    )
    n2v = Node2Vec(
        graph,
        dimensions=64,
        walk_length=30,
        num_walks=10,
        p=P,
        q=Q,
        workers=2,
        quiet=True,
        seed=SEED,
    )
    t1 = time.perf_counter()
    model = n2v.fit(window=5, min_count=1, sg=1, hs=0, negative=5, epochs=1, seed=SEED)
    t2 = time.perf_counter()
    kv = model.wv

    def matrix(prefix: str, n: int) -> npt.NDArray[np.float32]:
        out = np.zeros((n, 64), dtype=np.float32)
        for i in range(n):
            ix = kv.key_to_index.get(f"{prefix}{i}")
            if ix is not None:
                out[i] = kv.vectors[ix]
        return out

    cv, pv = matrix("c:u", g["n_cust"]), matrix("p:p", g["n_prod"])
    return {
        "seconds": t2 - t0,
        "walks_s": t1 - t0,
        "train_s": t2 - t1,
        "auc": auc(cv, pv, g["pos"], g["neg"]),
    }


def stage_floor(n_edges: int) -> dict[str, Any]:
    """gensim Word2Vec alone on the walks the pipeline trains on (same seed, same walks, the same
    walk file and the same `train_word2vec` call: vocabulary from counts, `corpus_file` mode)."""
    from embeddings.projection import build_graph
    from embeddings.train import train_word2vec
    from embeddings.walks import write_walk_corpus

    p = params()
    inter = interactions(prepared(n_edges))
    csr = build_graph(inter, p.half_life_days, p.with_categories)
    with tempfile.TemporaryDirectory(prefix="ckg-bench-walks-") as tmp:
        corpus = write_walk_corpus(
            csr, Path(tmp) / "walks.txt", p.num_walks, p.walk_length, p.p, p.q, p.seed
        )
        t0 = time.perf_counter()
        train_word2vec(corpus, p)
        return {"seconds": time.perf_counter() - t0}


STAGES = {"project": stage_project, "reference": stage_reference, "floor": stage_floor}


def child(stage: str, n_edges: int, timeout: float | None = None) -> dict[str, Any] | None:
    """Run one stage in a fresh process; None if it ran past `timeout`."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", stage, "--edges", str(n_edges)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(f"stage {stage} ({n_edges} edges) failed:\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    sys.stderr.write(f"{stage} {n_edges}: {json.dumps(out)}\n")
    return out


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--small", type=int, default=100_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--timeout", type=float, default=600.0, help="cap for the reference (s)")
    ap.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    ap.add_argument("--edges", type=int, help=argparse.SUPPRESS)
    return ap.parse_args()


def reference(n_edges: int, timeout: float, notes: list[str]) -> dict[str, Any] | None:
    """The `node2vec` package's stage, or None (and why, in `notes`)."""
    try:
        import node2vec  # noqa: F401
    except ImportError:
        notes.append("node2vec package not installed (pip install --no-deps node2vec)")
        return None
    ref = child("reference", n_edges, timeout=timeout)
    if ref is None:
        notes.append(f"node2vec package did not finish in {timeout:.0f} s")
    return ref


def report(
    small: dict[str, Any],
    ref: dict[str, Any] | None,
    large: dict[str, Any],
    floors: tuple[dict[str, Any], dict[str, Any]],
    notes: list[str],
) -> dict[str, Any]:
    floor_s = (floors[0]["seconds"] + floors[1]["seconds"]) / 2
    return {
        "edges_small": small["edges"],
        "seconds_small": round(small["seconds"], 2),
        "auc": round(small["auc"], 4),
        "reference_seconds": round(ref["seconds"], 2) if ref else None,
        "reference_auc": round(ref["auc"], 4) if ref else None,
        "speedup": round(ref["seconds"] / small["seconds"], 2) if ref else None,
        "edges_large": large["edges"],
        "seconds_large": round(large["seconds"], 2),
        "word2vec_only_seconds": round(floor_s, 2),
        "overhead_ratio": round(large["seconds"] / floor_s, 3),
        "word2vec_only_runs": [round(f["seconds"], 2) for f in floors],
        # the same ratio against the pipeline's own training stage (same process, same call)
        "overhead_vs_own_training": round(large["seconds"] / large["stages"]["train_s"], 3),
        "peak_rss_mb": round(large["peak_rss_mb"]),
        # customer SIMILAR lists above 50,000 customers come from the inverted-file search
        "similar_recall_large": {
            k: large["written"][f"{k}_similar_recall"] for k in ("product", "customer")
        },
        "stages_small": small["stages"],
        "stages_large": large["stages"],
        "reference_stages": (
            {k: round(ref[k], 2) for k in ("walks_s", "train_s")} if ref else None
        ),
        "speedup_without_write_back": (
            round(ref["seconds"] / small["embed_seconds"], 2) if ref else None
        ),
        "nodes_small": small["nodes"],
        "nodes_large": large["nodes"],
        "hyperparameters": HYPER,
        "notes": notes,
    }


def main() -> None:
    args = parse_args()
    if args.stage:
        print(json.dumps(STAGES[args.stage](args.edges)))
        return

    child("project", 20_000)  # warm numba's on-disk cache, so no stage pays for compiling
    small = child("project", args.small)
    assert small is not None
    notes: list[str] = []
    ref = reference(args.small, args.timeout, notes)
    # the floor runs before and after the pipeline and counts as their mean: on this machine
    # the same training call has taken anywhere from 0.85x to 1.15x as long in one process as
    # in the next, and one floor measured on one side of the pipeline moved the ratio by that
    floor_before = child("floor", args.large)
    large = child("project", args.large)
    floor_after = child("floor", args.large)
    assert large is not None and floor_before is not None and floor_after is not None
    print(json.dumps(report(small, ref, large, (floor_before, floor_after), notes)))


if __name__ == "__main__":
    main()
