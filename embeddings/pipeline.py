"""`ckg embed` and `ckg evaluate`: project, walk, train, evaluate, write back, promote.

Order matters: a candidate is evaluated (time split) before anything reaches the serving graph.
Its Model node is always recorded; its vectors, SIMILAR edges and popularity are written back
and it is promoted only when it is not worse than the promoted model on the same split (the
promoted model's parameters are re-run on that split when its stored metrics came from another
one). A model's id is a hash of its parameters, seed and data snapshot, so running `ckg embed`
twice on the same data rewrites the same node and the same edges: counts do not change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.evaluate import (
    Cases,
    Metrics,
    Scorer,
    als_scorer,
    evaluate_scorer,
    item_knn_scorer,
    new_item_cases,
    popularity_scorer,
)
from embeddings.item_models import (
    TooLarge,
    ease_grid,
    ease_scorer,
    rp3beta_grid,
    rp3beta_scorer,
    tune,
)
from embeddings.projection import DAY_MS, Interactions, load_interactions
from embeddings.recommender import BlendParams, GraphRecommender, recent_popularity
from embeddings.serving import MODEL_KIND
from embeddings.train import (
    EXACT_LIMIT,
    Embeddings,
    EmbedParams,
    embed,
    normalize,
    similar_recall,
    top_k_similar,
)
from graph.catalog import Query
from graph.errors import CkgError, QueryError
from graph.queries import get_queries
from graph.store import Store

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
# (neighbour indexes, scores) per row, as `top_k_similar` returns them
TopK = tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]
_VECTOR_BATCH = 1000  # rows per write of vectors and SIMILAR lists


class NotEnoughData(CkgError):
    """The store holds too few purchases to train or to evaluate."""

    reason = "not_enough_data"


def _quiet(_: str) -> None:
    return None


@dataclass
class Evaluation:
    cutoff_ms: int
    results: dict[str, Metrics]
    split: dict[str, Any]
    # the tuned baselines' chosen hyperparameters and validation scores
    tuned: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Identifies the split, so metrics from different splits are never compared."""
        return json.dumps({"cutoff_ms": self.cutoff_ms, **self.split}, sort_keys=True)

    def table(self) -> list[dict[str, Any]]:
        return [{"recommender": name, **m.as_dict()} for name, m in self.results.items()]


def naive_node2vec_scorer(train: Interactions, params: EmbedParams) -> Scorer:
    """The starting point: customer-to-product cosine of plain node2vec (uniform walks on the
    raw bipartite graph, one epoch), with the candidate's size and seed."""
    naive = replace(params, p=1.0, q=1.0, epochs=1, half_life_days=0.0, with_categories=False)
    emb, _ = embed(train, naive)
    cu, pu = normalize(emb.customers), normalize(emb.products)

    def score(rows: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        return np.asarray(cu[rows] @ pu.T, dtype=np.float64)

    return score


def graph_scorer(
    train: Interactions, params: EmbedParams, blend: BlendParams, progress: Progress = _quiet
) -> GraphRecommender:
    emb, _ = embed(train, params, progress)
    return GraphRecommender(train, emb, blend)


def evaluate(
    inter: Interactions,
    cutoff_ms: int,
    params: EmbedParams,
    blend: BlendParams,
    baselines: bool = True,
    progress: Progress = _quiet,
) -> Evaluation:
    """Train everything strictly before the cutoff; score new-item purchases after it."""
    train, test = inter.split(cutoff_ms)
    cases = new_item_cases(train, test)
    if train.n_events == 0 or len(cases.customers) == 0:
        raise NotEnoughData(
            f"no customer bought something new after the cutoff ({train.n_events} purchases "
            f"before it, {test.n_events} after)"
        )
    results: dict[str, Metrics] = {}
    tuned: dict[str, dict[str, Any]] = {}
    if baselines:
        progress("baseline: popularity (last 90 days)")
        results["popularity_90d"] = evaluate_scorer(popularity_scorer(train), train, cases)
        progress("baseline: item-kNN (cosine on co-purchase)")
        results["item_knn"] = evaluate_scorer(item_knn_scorer(train), train, cases)
        progress("baseline: implicit ALS")
        results["als"] = evaluate_scorer(als_scorer(train, seed=params.seed), train, cases)
        tuned.update(_tuned_baselines(train, cases, results, progress))
        progress("naive node2vec (uniform walks, raw graph, 1 epoch)")
        results["node2vec_naive"] = evaluate_scorer(
            naive_node2vec_scorer(train, params), train, cases
        )
    progress("ckg: node2vec + co-purchase + recency")
    rec = graph_scorer(train, params, blend, progress)
    results["ckg"] = evaluate_scorer(rec.scores, train, cases)
    split = {"train_purchases": train.n_events, "test_purchases": test.n_events}
    return Evaluation(cutoff_ms, results, split, tuned)


def _tuned_baselines(
    train: Interactions, cases: Cases, results: dict[str, Metrics], progress: Progress
) -> dict[str, dict[str, Any]]:
    """EASE^R and RP3beta, each with the hyperparameters that won on the validation split;
    what they chose (or why they were left out) goes beside the table."""
    tuned: dict[str, dict[str, Any]] = {}
    for name, make, grid in (
        ("ease", ease_scorer, ease_grid()),
        ("rp3beta", rp3beta_scorer, rp3beta_grid()),
    ):
        progress(f"baseline: {name} (hyperparameters tuned on validation)")
        try:
            best = tune(make, grid, train)
        except (TooLarge, ValueError) as exc:
            logger.info("baseline %s left out: %s", name, exc)
            tuned[name] = {"left_out": str(exc)}
            continue
        results[name] = evaluate_scorer(best.scorer, train, cases)
        tuned[name] = {**best.params, "validation": best.validation.as_dict()}
    return tuned


def default_cutoff(inter: Interactions, days: int = 90) -> int:
    """The test period is the last `days` days of data, or the last quarter of a shorter
    history, cut at a day boundary (UTC)."""
    if inter.n_events == 0:
        raise NotEnoughData("the store holds no purchases")
    first, last = int(inter.at.min()), int(inter.at.max())
    span = min(days * DAY_MS, (last - first) // 4)
    return (last - span) // DAY_MS * DAY_MS


def model_id(params: EmbedParams, blend: BlendParams, snapshot: dict[str, Any]) -> str:
    text = json.dumps(
        {"params": params.identity(), "blend": blend.as_dict(), "data": snapshot}, sort_keys=True
    )
    return f"{MODEL_KIND}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@dataclass
class EmbedReport:
    model_id: str
    promoted: bool
    evaluation: Evaluation
    incumbent: str | None
    incumbent_metrics: Metrics | None
    written: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "promoted": self.promoted,
            "incumbent": self.incumbent,
            "incumbent_metrics": (
                self.incumbent_metrics.as_dict() if self.incumbent_metrics else None
            ),
            "evaluation": self.evaluation.table(),
            "tuned": self.evaluation.tuned,
            "cutoff": self.evaluation.cutoff_ms,
            "written": self.written,
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }


def _metrics_from(stored: dict[str, Any], key: str) -> Metrics | None:
    ev = stored.get("evaluation") or {}
    if ev.get("key") != key or "ckg" not in ev.get("results", {}):
        return None
    m = ev["results"]["ckg"]
    return Metrics(m["hr@10"], m["precision@10"], m["recall@10"], m["ndcg@10"], m["cases"])


def _params_from(stored: dict[str, Any]) -> tuple[EmbedParams, BlendParams]:
    p = json.loads(stored["params"])
    return EmbedParams(**p["embed"]), BlendParams.stored(p["blend"])


def run_embed(
    store: Store,
    params: EmbedParams,
    blend: BlendParams,
    cutoff_ms: int | None = None,
    force: bool = False,
    similar_k: int = 10,
    recommend_k: int = 100,
    progress: Progress = _quiet,
) -> EmbedReport:
    """Evaluate a candidate, train it on every purchase, record its Model node, and publish it
    when it is not worse than the promoted model (or `force`)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    progress("reading purchases from the store")
    inter = load_interactions(store)
    timings["read_s"] = time.perf_counter() - t0
    if inter.n_events == 0:
        raise NotEnoughData("the store holds no purchases; ingest some first")
    cutoff = cutoff_ms if cutoff_ms is not None else default_cutoff(inter)

    t0 = time.perf_counter()
    evaluation = evaluate(inter, cutoff, params, blend, baselines=True, progress=progress)
    timings["evaluate_s"] = time.perf_counter() - t0

    snapshot = inter.snapshot()
    mid = model_id(params, blend, snapshot)
    incumbent, incumbent_metrics = _incumbent(store, inter, evaluation, mid, progress)
    candidate = evaluation.results["ckg"]
    promoted = force or incumbent_metrics is None or candidate.not_worse_than(incumbent_metrics)

    t0 = time.perf_counter()
    progress("training on all purchases")
    emb, _ = embed(inter, params, progress)
    timings.update({f"full_{k}": v for k, v in emb.timings.items()})
    timings["train_full_s"] = time.perf_counter() - t0

    _record_model(store, mid, params, blend, snapshot, evaluation)
    written: dict[str, float] = {}
    if promoted:
        t0 = time.perf_counter()
        written = _publish(store, inter, emb, blend, mid, similar_k, recommend_k, progress)
        timings["write_back_s"] = time.perf_counter() - t0
    return EmbedReport(
        mid,
        promoted,
        evaluation,
        incumbent["id"] if incumbent else None,
        incumbent_metrics,
        written,
        timings,
    )


def _incumbent(
    store: Store, inter: Interactions, evaluation: Evaluation, mid: str, progress: Progress
) -> tuple[dict[str, Any] | None, Metrics | None]:
    """The promoted model and its metrics on the candidate's split: stored ones when they came
    from that split, else its parameters re-evaluated on it. No metrics when the candidate is
    the promoted model itself (or none is promoted)."""
    current = store.read_one(get_queries().promoted_model, {"kind": MODEL_KIND})
    incumbent = current["model"] if current else None
    if incumbent is None or incumbent["id"] == mid:
        return incumbent, None
    stored_metrics = json.loads(incumbent.get("metrics") or "{}")
    metrics = _metrics_from(stored_metrics, evaluation.key)
    if metrics is None:
        progress("re-evaluating the promoted model's parameters on this split")
        old_params, old_blend = _params_from(incumbent)
        metrics = evaluate(
            inter, evaluation.cutoff_ms, old_params, old_blend, baselines=False
        ).results["ckg"]
    return incumbent, metrics


def _record_model(
    store: Store,
    mid: str,
    params: EmbedParams,
    blend: BlendParams,
    snapshot: dict[str, Any],
    evaluation: Evaluation,
) -> None:
    """The Model node, written for every candidate, promoted or not."""
    metrics = {
        "evaluation": {
            "key": evaluation.key,
            "cutoff_ms": evaluation.cutoff_ms,
            "results": {n: m.as_dict() for n, m in evaluation.results.items()},
            "tuned": evaluation.tuned,
        }
    }
    store.write(
        get_queries().upsert_model,
        {
            "id": mid,
            "kind": MODEL_KIND,
            "params": json.dumps(
                {"embed": params.as_dict(), "blend": blend.as_dict()}, sort_keys=True
            ),
            "seed": params.seed,
            "snapshot": json.dumps(snapshot, sort_keys=True),
            "metrics": json.dumps(metrics, sort_keys=True),
            "created_at": int(time.time() * 1000),
        },
    )


def _publish(
    store: Store,
    inter: Interactions,
    emb: Embeddings,
    blend: BlendParams,
    mid: str,
    similar_k: int,
    recommend_k: int,
    progress: Progress,
) -> dict[str, float]:
    """Write the promoted model's results to the serving graph, then mark it promoted."""
    q = get_queries()
    with store.exclusive():  # no erasure or load interleaves with the write-back
        progress("writing vectors, SIMILAR edges and popularity back")
        written = write_back(store, inter, emb, mid, similar_k, progress)
        progress("writing each customer's recommendations")
        written.update(write_recommendations(store, inter, emb, blend, mid, recommend_k))
        store.write(q.promote_model, {"id": mid, "kind": MODEL_KIND})
    store.checkpoint()
    logger.info("model %s promoted: %s", mid, ", ".join(f"{k} {v:g}" for k, v in written.items()))
    return written


def _similar_rows(
    ids: list[str],
    top: TopK,
    known: npt.NDArray[np.bool_],
) -> Iterator[dict[str, Any]]:
    """Rows {id, ids, scores} (rank = position): parallel lists encode and parse faster than a
    map per edge."""
    idx, sc = top
    scores = np.round(sc.astype(np.float64), 6).tolist()
    for i in np.flatnonzero(known).tolist():
        row = idx[i]
        n = int((row >= 0).sum())
        yield {"id": ids[i], "ids": [ids[j] for j in row[:n].tolist()], "scores": scores[i][:n]}


def _vector_rows(
    ids: list[str], vectors: npt.NDArray[np.float32], known: npt.NDArray[np.bool_]
) -> Iterator[dict[str, Any]]:
    rounded = np.round(vectors.astype(np.float64), 6)
    for i in np.flatnonzero(known).tolist():
        yield {"id": ids[i], "vector": rounded[i].tolist()}


def _recommended_rows(
    inter: Interactions, rec: GraphRecommender, k: int, batch: int = 256
) -> Iterator[dict[str, Any]]:
    n = len(inter.customers)
    has_history = np.diff(rec.seen.indptr) > 0
    for lo in range(0, n, batch):
        rows = np.arange(lo, min(n, lo + batch), dtype=np.int32)
        rows = rows[has_history[rows]]
        for c, recs in zip(rows.tolist(), rec.recommend(rows, k), strict=True):
            yield {
                "id": inter.customers[c],
                "items": [
                    {
                        "product": inter.products[r.product],
                        "score": r.score,
                        "rank": r.rank,
                        "rank_all": r.rank_all,
                        "reason": r.reason,
                        "via": inter.products[r.via] if r.via is not None else None,
                        "via_score": None if r.via_score is None else round(r.via_score, 6),
                        "buyers": r.buyers,
                    }
                    for r in recs
                ],
            }


def write_recommendations(
    store: Store, inter: Interactions, emb: Embeddings, blend: BlendParams, mid: str, k: int
) -> dict[str, int]:
    """Each customer's top-k of the evaluated recommender (the same GraphRecommender and
    `top_k` as `ckg evaluate`'s "ckg", trained on every purchase) as RECOMMENDED edges that
    replace the previous model's; serving reads them in rank order. Safe to repeat."""
    q = get_queries()
    rec = GraphRecommender(inter, emb, blend)
    r = store.write_rows(
        q.replace_recommended, _recommended_rows(inter, rec, k), {"model": mid}, batch_size=100
    )
    store.write(q.drop_stale_recommended, {"model": mid})
    return {"recommended_created": r.counters.get("relationships_created", 0)}


def write_back(
    store: Store,
    inter: Interactions,
    emb: Embeddings,
    mid: str,
    k: int,
    progress: Progress = _quiet,
) -> dict[str, float]:
    """Vectors, vector indexes, top-k SIMILAR edges replacing the previous model's, and the
    recent popularity the cold-start fallback ranks by. Safe to repeat."""
    q = get_queries()
    out: dict[str, float] = {}
    # the top-k lists (BLAS and numba, both off the GIL) are computed in a thread while the store
    # is busy indexing the vectors: on a few cores that hides most of one behind the other
    with ThreadPoolExecutor(max_workers=1) as pool:
        product_top = pool.submit(top_k_similar, emb.products, emb.known_products, k)
        customer_top = pool.submit(top_k_similar, emb.customers, emb.known_customers, k)
        # before the vectors: once a node is in a vector index, every property write to it
        # updates the index too (20k products: 4 s after, a fraction of that before)
        _write_popularity(store, inter)
        _create_vector_indexes(store)
        _write_vectors(store, inter, emb, progress)
        progress("replacing SIMILAR edges")
        out["product_similar_created"] = _write_similar(
            store,
            q.replace_product_similar,
            inter.products,
            product_top.result(),
            emb.known_products,
            mid,
        )
        out["customer_similar_created"] = _write_similar(
            store,
            q.replace_customer_similar,
            inter.customers,
            customer_top.result(),
            emb.known_customers,
            mid,
        )
        out.update(_similar_recalls(emb, product_top.result(), customer_top.result()))
    store.write(q.drop_stale_product_similar, {"model": mid})
    store.write(q.drop_stale_customer_similar, {"model": mid})
    out["products_embedded"] = int(emb.known_products.sum())
    out["customers_embedded"] = int(emb.known_customers.sum())
    return out


def _write_popularity(store: Store, inter: Interactions) -> None:
    pop = recent_popularity(inter)
    store.write_rows(
        get_queries().set_product_popularity,
        (
            {"id": p, "popularity": round(float(v), 6)}
            for p, v in zip(inter.products, pop.tolist(), strict=True)
        ),
        batch_size=5000,
    )


def _create_vector_indexes(store: Store) -> None:
    q = get_queries()
    for idx_query in (q.create_product_vector_index, q.create_customer_vector_index):
        try:
            store.write(idx_query)
        except QueryError as exc:  # FalkorDB has no IF NOT EXISTS
            if "already indexed" not in str(exc):
                raise


def _write_vectors(store: Store, inter: Interactions, emb: Embeddings, progress: Progress) -> None:
    q = get_queries()
    progress("writing product vectors")
    store.write_rows(
        q.set_product_embeddings,
        _vector_rows(inter.products, emb.products, emb.known_products),
        batch_size=_VECTOR_BATCH,
    )
    progress("writing customer vectors")
    store.write_rows(
        q.set_customer_embeddings,
        _vector_rows(inter.customers, emb.customers, emb.known_customers),
        batch_size=_VECTOR_BATCH,
    )


def _write_similar(
    store: Store, query: Query, ids: list[str], top: TopK, known: npt.NDArray[np.bool_], mid: str
) -> int:
    """One kind's SIMILAR edges, replacing the previous model's; how many were created."""
    r = store.write_rows(
        query, _similar_rows(ids, top, known), {"model": mid}, batch_size=_VECTOR_BATCH
    )
    return r.counters.get("relationships_created", 0)


def _similar_recalls(emb: Embeddings, product_top: TopK, customer_top: TopK) -> dict[str, float]:
    """Exact lists score 1.0; the clustered search above EXACT_LIMIT reports its recall."""
    out: dict[str, float] = {}
    for name, vectors, known, top in (
        ("product", emb.products, emb.known_products, product_top),
        ("customer", emb.customers, emb.known_customers, customer_top),
    ):
        out[f"{name}_similar_recall"] = (
            round(similar_recall(vectors, known, top[0]), 4)
            if int(known.sum()) > EXACT_LIMIT
            else 1.0
        )
    return out
