"""Customer segments of three kinds: RFM, behavioural clusters and co-purchase communities.

- RFM: recency (days since the last purchase), frequency (orders) and monetary value (net
  spend, `Customer.ltv`) scored 1-5 by quintile of rank (5 = best), named with the usual
  RFM map (Champions, Loyal, Potential loyalists, New, Need attention, At risk, Hibernating).
- Clusters: MiniBatchKMeans over the node2vec customer vectors plus standardised log R/F/M;
  k is the one with the best silhouette (on a seeded sample, so it scales), the inertia curve
  (elbow) is reported beside it; names come from how a centroid's R/F/M compare with everyone's.
- Communities: Louvain (networkx, seeded) on a customer–customer graph where two customers are
  linked by the products they share (each customer keeps its strongest `neighbours` links, so
  the projection stays sparse on big catalogues).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.evaluate import purchased, user_item
from embeddings.projection import DAY_MS, Interactions, load_interactions
from graph.errors import CkgError
from graph.queries import get_queries
from graph.store import Store

logger = logging.getLogger(__name__)

RFM_NAMES = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New customers",
    "At risk",
    "Hibernating",
    "Need attention",
)


@dataclass
class Segmentation:
    kind: str
    customers: list[str]
    labels: npt.NDArray[np.int64]
    names: list[str]
    scores: npt.NDArray[np.float64]
    extra: dict[str, Any] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.names))
        return {n: int(c) for n, c in zip(self.names, counts, strict=True)}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def quintile_scores(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """1-5 by rank (ties share the lower rank), so skewed money values still fill 5 bins."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.arange(n)
    # equal values get the rank of their first occurrence
    sorted_vals = values[order]
    first = np.searchsorted(sorted_vals, values, side="left")
    ranks = first.astype(np.float64)
    return np.asarray(1 + np.floor(5 * ranks / n).clip(0, 4), dtype=np.int64)


def rfm_name(r: int, f: int) -> str:
    if r >= 4 and f >= 4:
        return "Champions"
    if f >= 4 and r >= 3:
        return "Loyal"
    if r >= 4 and f >= 2:
        return "Potential loyalists"
    if r >= 4:
        return "New customers"
    if r <= 2 and f >= 3:
        return "At risk"
    if r <= 2:
        return "Hibernating"
    return "Need attention"


@dataclass
class RFM:
    customers: list[str]
    recency_days: npt.NDArray[np.float64]
    orders: npt.NDArray[np.float64]
    money: npt.NDArray[np.float64]
    r: npt.NDArray[np.int64]
    f: npt.NDArray[np.int64]
    m: npt.NDArray[np.int64]


def rfm(inter: Interactions, money: dict[str, float]) -> RFM:
    """R, F, M per customer with purchases; `money` is net spend by customer id."""
    n = len(inter.customers)
    now = int(inter.at.max()) if inter.n_events else 0
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, inter.cust, inter.at)
    orders = np.zeros(n)
    pairs = np.unique(np.stack([inter.cust.astype(np.int64), inter.at]), axis=1)
    np.add.at(orders, pairs[0], 1.0)
    keep = last >= 0
    ids = [c for c, k in zip(inter.customers, keep.tolist(), strict=True) if k]
    rec = (now - last[keep]) / DAY_MS
    freq = orders[keep]
    mon = np.array([money.get(c, 0.0) for c in ids], dtype=np.float64)
    return RFM(
        ids, rec, freq, mon, quintile_scores(-rec), quintile_scores(freq), quintile_scores(mon)
    )


def rfm_segments(x: RFM) -> Segmentation:
    named = [rfm_name(int(r), int(f)) for r, f in zip(x.r, x.f, strict=True)]
    names = [n for n in RFM_NAMES if n in set(named)]
    ix = {n: i for i, n in enumerate(names)}
    labels = np.array([ix[n] for n in named], dtype=np.int64)
    score = (x.r + x.f + x.m) / 15.0
    return Segmentation("rfm", x.customers, labels, names, score.astype(np.float64))


def behaviour_features(x: RFM, vectors: dict[str, list[float]]) -> npt.NDArray[np.float64]:
    """Standardised log R/F/M, plus the customer's node2vec vector (zeros when it has none)."""
    base = np.stack(
        [np.log1p(x.recency_days), np.log1p(x.orders), np.log1p(np.clip(x.money, 0, None))], axis=1
    )
    base = (base - base.mean(axis=0)) / np.where(base.std(axis=0) > 0, base.std(axis=0), 1.0)
    dim = len(next(iter(vectors.values()))) if vectors else 0
    emb = np.zeros((len(x.customers), dim))
    for i, c in enumerate(x.customers):
        v = vectors.get(c)
        if v is not None:
            emb[i] = v
    if dim:
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        emb = emb / np.where(norms > 0, norms, 1.0)
    return np.asarray(np.hstack([base, emb]), dtype=np.float64)


def cluster_name(centroid_rfm: npt.NDArray[np.float64]) -> str:
    """Words for a centroid's standardised log R, F, M (recency: lower is better)."""
    r, f, m = centroid_rfm
    recency = "recent" if r < -0.3 else "lapsed" if r > 0.3 else "steady"
    frequency = "frequent" if f > 0.3 else "occasional" if f < -0.3 else "regular"
    spend = "big spenders" if m > 0.3 else "small spenders" if m < -0.3 else "mid spenders"
    return f"{recency} {frequency} {spend}"


def clusters(
    x: RFM,
    vectors: dict[str, list[float]],
    seed: int = 42,
    ks: range = range(2, 9),
    sample: int = 5000,
) -> Segmentation:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import silhouette_score

    feats = behaviour_features(x, vectors)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(feats), size=min(sample, len(feats)), replace=False)
    ks = range(ks.start, min(ks.stop, len(feats)))
    inertia, silhouette, models = {}, {}, {}
    for k in ks:
        km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=1024)
        km.fit(feats)
        models[k] = km
        inertia[k] = float(km.inertia_)
        silhouette[k] = float(silhouette_score(feats[pick], km.labels_[pick], random_state=seed))
    best = max(silhouette, key=lambda k: (silhouette[k], -k))
    km = models[best]
    labels = np.asarray(km.labels_, dtype=np.int64)
    names: list[str] = []
    for c in range(best):
        name = cluster_name(feats[labels == c, :3].mean(axis=0))
        names.append(name if name not in names else f"{name} ({c + 1})")
    dist = km.transform(feats)[np.arange(len(feats)), labels]
    score = 1.0 / (1.0 + dist)
    return Segmentation(
        "cluster",
        x.customers,
        labels,
        names,
        score.astype(np.float64),
        {"k": best, "inertia": inertia, "silhouette": silhouette, "features": feats},
    )


def communities(
    inter: Interactions,
    customers: list[str],
    seed: int = 42,
    neighbours: int = 20,
    product_names: dict[str, str] | None = None,
    min_size: int = 5,
) -> Segmentation:
    import networkx as nx

    m = purchased(inter)
    shared = (m @ m.T).tocsr()
    shared.setdiag(0)
    shared.eliminate_zeros()
    g = nx.Graph()
    g.add_nodes_from(range(m.shape[0]))
    for u in range(shared.shape[0]):
        lo, hi = shared.indptr[u], shared.indptr[u + 1]
        if hi == lo:
            continue
        cols, vals = shared.indices[lo:hi], shared.data[lo:hi]
        top = np.lexsort((cols, -vals))[:neighbours]
        for v, w in zip(cols[top].tolist(), vals[top].tolist(), strict=True):
            g.add_edge(u, v, weight=float(w))
    parts = nx.community.louvain_communities(g, weight="weight", seed=seed)
    parts = sorted((sorted(p) for p in parts), key=lambda p: (-len(p), p[0]))
    small = [c for p in parts if len(p) < min_size for c in p]
    parts = [p for p in parts if len(p) >= min_size] + ([sorted(small)] if small else [])
    index = {c: i for i, c in enumerate(inter.customers)}
    label_of = np.zeros(m.shape[0], dtype=np.int64)
    for i, p in enumerate(parts):
        label_of[p] = i
    names = []
    counts = np.asarray(m.sum(axis=0)).ravel()
    for i, p in enumerate(parts):
        bought = np.asarray(m[p].sum(axis=0)).ravel()
        lift = bought / np.where(counts > 0, counts, 1.0) * (bought >= 2)
        best = int(np.argmax(lift)) if lift.max() > 0 else int(np.argmax(bought))
        pid = inter.products[best]
        label = (product_names or {}).get(pid, pid)
        small_part = bool(small) and i == len(parts) - 1
        names.append("small communities" if small_part else f"{i + 1}: {label.lower()}")
    rows = [index[c] for c in customers]
    degree = np.array([g.degree(r, weight="weight") for r in rows], dtype=np.float64)
    score = degree / degree.max() if len(degree) and degree.max() > 0 else degree
    return Segmentation("community", customers, label_of[rows], names, score)


# -- the `ckg segment` run ----------------------------------------------------------------------


def load_inputs(store: Store) -> tuple[Interactions, dict[str, float], dict[str, list[float]]]:
    q = get_queries()
    inter = load_interactions(store)
    money = {str(r["customer"]): float(r["ltv"] or 0.0) for r in store.read(q.customer_money)}
    vectors = {
        str(r["customer"]): [float(v) for v in r["embedding"]]
        for r in store.read(q.customer_embeddings)
    }
    return inter, money, vectors


def write_segmentation(
    store: Store,
    seg: Segmentation,
    model: str,
    profiles: dict[str, dict[str, Any]],
    at: int | None = None,
) -> None:
    """The run's segments and memberships, `at` (epoch ms, default now) being the run's time:
    where a customer's segment of this kind changed, the old membership is kept as history."""
    q = get_queries()
    at = int(time.time() * 1000) if at is None else at
    ids = [f"{seg.kind}:{slug(n)}" for n in seg.names]
    sizes = seg.sizes()
    store.write_rows(
        q.upsert_segments,
        [
            {
                "id": i,
                "kind": seg.kind,
                "name": n,
                "size": sizes[n],
                "profile": json.dumps(profiles.get(n, {}), sort_keys=True),
            }
            for i, n in zip(ids, seg.names, strict=True)
        ],
        {"model": model},
    )
    rows = [
        {"customer": c, "segment": ids[int(lbl)], "score": round(float(s), 6)}
        for c, lbl, s in zip(seg.customers, seg.labels.tolist(), seg.scores.tolist(), strict=True)
    ]
    # a membership that changes or ends becomes history (WAS_IN_SEGMENT) rather than vanishing
    run = {"kind": seg.kind, "at": at}
    store.write_rows(q.close_changed_memberships, rows, run)
    store.write_rows(q.assign_segments, rows, {"model": model, "at": at})
    store.write(q.close_absent_memberships, run)
    store.write(q.drop_stale_segments, {**run, "ids": ids})
    logger.info(
        "segmentation %s (%s): %d customers in %d segments",
        model,
        seg.kind,
        len(seg.customers),
        len(seg.names),
    )


def profile(seg: Segmentation, x: RFM) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    pos = {c: i for i, c in enumerate(x.customers)}
    rows = np.array([pos[c] for c in seg.customers])
    for i, n in enumerate(seg.names):
        members = rows[seg.labels == i]
        if len(members) == 0:
            continue
        out[n] = {
            "size": len(members),
            "r": round(float(x.r[members].mean()), 2),
            "f": round(float(x.f[members].mean()), 2),
            "m": round(float(x.m[members].mean()), 2),
            "recency_days": round(float(np.median(x.recency_days[members])), 1),
            "orders": round(float(np.median(x.orders[members])), 1),
            "spend": round(float(np.median(x.money[members])), 2),
        }
    return out


def run_segments(
    store: Store,
    seed: int = 42,
    report_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    say("reading purchases, spend and customer vectors")
    inter, money, vectors = load_inputs(store)
    if inter.n_events == 0:
        raise CkgError("the store holds no purchases; ingest some first")
    x = rfm(inter, money)
    model = f"segments-{seed}-{inter.n_events}-{int(inter.at.max())}"
    say("RFM")
    results = {"rfm": rfm_segments(x)}
    say("behavioural clusters (MiniBatchKMeans, k by silhouette)")
    results["cluster"] = clusters(x, vectors, seed)
    say("co-purchase communities (Louvain)")
    results["community"] = communities(inter, x.customers, seed, product_names=inter.names)
    report: dict[str, Any] = {"model": model, "embedded_customers": len(vectors)}
    say("writing RFM scores and segments")
    at = int(time.time() * 1000)  # one time for the run, on every kind's history
    with store.exclusive():  # no erasure or load interleaves with the write-back
        _write_rfm(store, x)
        for kind, seg in results.items():
            write_segmentation(store, seg, model, profile(seg, x), at)
            report[kind] = seg.sizes()
    cl = results["cluster"].extra
    report["cluster_k"] = cl["k"]
    report["silhouette"] = {str(k): round(v, 4) for k, v in cl["silhouette"].items()}
    if report_dir is not None:
        say("plotting")
        report["plots"] = [str(p) for p in plot_report(report_dir, results, x, inter)]
    store.checkpoint()
    return report


def _write_rfm(store: Store, x: RFM) -> None:
    store.write_rows(
        get_queries().set_customer_rfm,
        (
            {"id": c, "r": int(r), "f": int(f), "m": int(m)}
            for c, r, f, m in zip(
                x.customers, x.r.tolist(), x.f.tolist(), x.m.tolist(), strict=True
            )
        ),
    )


def plot_report(
    out: Path, results: dict[str, Segmentation], x: RFM, inter: Interactions
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    return [
        _plot_elbow(out, results["cluster"]),
        _plot_customers_2d(out, results),
        _plot_profiles(out, results, x, inter),
    ]


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_elbow(out: Path, cl: Segmentation) -> Path:
    """Inertia and silhouette by k, the chosen k marked."""
    import matplotlib.pyplot as plt

    ks = sorted(cl.extra["inertia"])
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(ks, [cl.extra["inertia"][k] for k in ks], marker="o")
    a.set(title="Elbow: inertia by k", xlabel="k", ylabel="inertia")
    b.plot(ks, [cl.extra["silhouette"][k] for k in ks], marker="o", color="tab:green")
    b.axvline(cl.extra["k"], color="grey", linestyle="--")
    b.set(title=f"Silhouette by k (chosen k = {cl.extra['k']})", xlabel="k", ylabel="silhouette")
    return _save(fig, out / "clusters_elbow_silhouette.png")


def _plot_customers_2d(out: Path, results: dict[str, Segmentation]) -> Path:
    """Every customer on the first two principal components of the behaviour features, coloured
    by each kind's ten largest segments."""
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    xy = PCA(n_components=2, random_state=0).fit_transform(results["cluster"].extra["features"])
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    for ax, kind in zip(axes, ("rfm", "cluster", "community"), strict=True):
        seg = results[kind]
        shown = np.argsort(-np.bincount(seg.labels))[:10]
        for lbl in shown:
            pts = seg.labels == lbl
            ax.scatter(xy[pts, 0], xy[pts, 1], s=4, alpha=0.6, label=seg.names[lbl][:32])
        ax.set(title=f"{kind} segments (PCA of behaviour features)", xticks=[], yticks=[])
        ax.legend(fontsize=7, markerscale=3, loc="best")
    return _save(fig, out / "customers_2d.png")


def _plot_profiles(
    out: Path, results: dict[str, Segmentation], x: RFM, inter: Interactions
) -> Path:
    """Per kind, its eight largest segments: mean R/F/M scores above, size and most bought
    product below."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(18, 9))
    m = user_item(inter)
    for col, kind in enumerate(("rfm", "cluster", "community")):
        _plot_rfm_means(axes[0, col], kind, results[kind], x)
        _plot_sizes_and_tops(axes[1, col], kind, results[kind], inter, m)
    return _save(fig, out / "segment_profiles.png")


def _largest(
    seg: Segmentation, n: int = 8
) -> tuple[npt.NDArray[np.int64], list[str], npt.NDArray[np.int64]]:
    """The `n` largest segments: their labels, short names and sizes."""
    counts = np.bincount(seg.labels, minlength=len(seg.names))
    order = np.argsort(-counts)[:n]
    return order, [seg.names[i][:28] for i in order], counts[order]


def _plot_rfm_means(ax: Any, kind: str, seg: Segmentation, x: RFM) -> None:
    order, names, sizes = _largest(seg)
    pos = {c: i for i, c in enumerate(x.customers)}
    rows = np.array([pos[c] for c in seg.customers])
    means = np.array(
        [
            [
                x.r[rows[seg.labels == i]].mean(),
                x.f[rows[seg.labels == i]].mean(),
                x.m[rows[seg.labels == i]].mean(),
            ]
            for i in order
        ]
    )
    width = 0.27
    for j, (lbl, colr) in enumerate(
        zip("RFM", ("tab:blue", "tab:orange", "tab:green"), strict=True)
    ):
        ax.bar(np.arange(len(order)) + (j - 1) * width, means[:, j], width, label=lbl, color=colr)
    ax.set_xticks(
        np.arange(len(order)),
        [f"{n}\n(n={s})" for n, s in zip(names, sizes, strict=True)],
        rotation=30,
        ha="right",
        fontsize=7,
    )
    ax.set(title=f"{kind}: mean R/F/M score", ylim=(0, 5.5))
    ax.legend(fontsize=7)


def _plot_sizes_and_tops(
    ax: Any, kind: str, seg: Segmentation, inter: Interactions, m: Any
) -> None:
    order, names, sizes = _largest(seg)
    tops = []
    cust_index = {c: i for i, c in enumerate(inter.customers)}
    for i in order:
        members = [
            cust_index[c]
            for c, lbl in zip(seg.customers, seg.labels.tolist(), strict=True)
            if lbl == i
        ]
        bought = np.asarray(m[members].sum(axis=0)).ravel()
        best = int(np.argmax(bought))
        pid = inter.products[best]
        tops.append(f"{inter.names.get(pid, pid)[:26]}")
    ax.barh(np.arange(len(order)), sizes, color="tab:purple")
    ax.set_yticks(
        np.arange(len(order)),
        [f"{n} · top: {t}" for n, t in zip(names, tops, strict=True)],
        fontsize=7,
    )
    ax.invert_yaxis()
    ax.set(title=f"{kind}: size and most bought product", xlabel="customers")
