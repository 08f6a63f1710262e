"""`ckg embed`, `evaluate`, `recommend` and `segment`: train, measure and serve the models.

numpy, gensim and the rest of embeddings/ load inside each command, never for `ckg --help`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import Quiet, iso_ms, progress, settings
from graph.errors import CkgError

if TYPE_CHECKING:
    from embeddings.train import EmbedParams

CUTOFF_ERROR = "--cutoff takes a date like 2011-07-01, not {value!r}"

Seed = Annotated[int, typer.Option(help="Random seed (walks, Word2Vec, ALS).")]
Workers = Annotated[
    int, typer.Option(min=1, help="Word2Vec threads; only 1 is bit-for-bit reproducible.")
]
Epochs = Annotated[int | None, typer.Option(min=1, help="Word2Vec epochs (default 5).")]


def _embed_params(seed: int, workers: int, epochs: int | None) -> EmbedParams:
    from embeddings.train import EmbedParams

    base = EmbedParams(seed=seed, workers=workers)
    return EmbedParams(**{**base.as_dict(), "epochs": epochs or base.epochs})


def _print_evaluation(table: list[dict[str, Any]]) -> None:
    t = Table("recommender", "HR@10", "precision@10", "recall@10", "NDCG@10", "cases")
    for row in table:
        t.add_row(
            row["recommender"],
            *(f"{row[k]:.4f}" for k in ("hr@10", "precision@10", "recall@10", "ndcg@10")),
            str(row["cases"]),
        )
    Console(stderr=True).print(t)


def _tuned_fields(tuned: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return {"tuned": tuned[name]} if name in tuned else {}


def _print_tuned(tuned: dict[str, dict[str, Any]]) -> None:
    """What each tuned baseline chose on the validation split, or why it was left out."""
    out = Console(stderr=True)
    for name, t in tuned.items():
        if "left_out" in t:
            out.print(f"{name}: left out ({t['left_out']})")
            continue
        chosen = ", ".join(f"{k}={v:g}" for k, v in t.items() if k != "validation")
        val = t["validation"]
        out.print(
            f"{name}: {chosen} (validation HR@10 {val['hr@10']:.4f}, NDCG@10 {val['ndcg@10']:.4f})"
        )


def embed_cmd(
    cutoff: Annotated[
        str | None,
        typer.Option(help="Evaluation split date (default: the last 90 days are the test period)."),
    ] = None,
    seed: Seed = 42,
    workers: Workers = 1,
    epochs: Epochs = None,
    similar_k: Annotated[int, typer.Option(min=1, max=100, help="SIMILAR edges per node.")] = 10,
    recommend_k: Annotated[
        int,
        typer.Option(
            min=1,
            max=100,
            help="RECOMMENDED edges per customer (the API serves up to this many "
            "from the evaluated recommender, then fallbacks).",
        ),
    ] = 100,
    force: Annotated[
        bool, typer.Option(help="Promote even if worse than the current model.")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Project, walk, train, evaluate, write back and promote; print the report as JSON."""
    from embeddings.pipeline import run_embed
    from embeddings.recommender import BlendParams
    from graph.store import open_store

    with open_store(settings()) as store, progress(quiet) as bar:
        task = bar.add_task("embedding", total=None)
        report = run_embed(
            store,
            _embed_params(seed, workers, epochs),
            BlendParams(),
            cutoff_ms=None if cutoff is None else iso_ms(cutoff, CUTOFF_ERROR),
            force=force,
            similar_k=similar_k,
            recommend_k=recommend_k,
            progress=lambda m: bar.update(task, description=m),
        )
    if not quiet:
        _print_evaluation(report.evaluation.table())
    typer.echo(json.dumps(report.as_dict()))


def evaluate_cmd(
    cutoff: Annotated[
        str,
        typer.Option(help="Train strictly before this date (UTC), test after, e.g. 2011-07-01."),
    ],
    seed: Seed = 42,
    workers: Workers = 1,
    epochs: Epochs = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    quiet: Quiet = False,
) -> None:
    """HR, precision, recall and NDCG at 10 on new-item purchases after the cutoff, for ckg's
    recommender and the baselines (popularity, item-kNN, implicit ALS, and EASE^R and RP3beta
    with hyperparameters tuned on a validation split inside the training period)."""
    from embeddings.pipeline import evaluate
    from embeddings.projection import load_interactions
    from embeddings.recommender import BlendParams
    from graph.store import open_store

    cut = iso_ms(cutoff, CUTOFF_ERROR)
    with open_store(settings()) as store, progress(quiet) as bar:
        task = bar.add_task("reading purchases", total=None)
        inter = load_interactions(store)
        result = evaluate(
            inter,
            cut,
            _embed_params(seed, workers, epochs),
            BlendParams(),
            progress=lambda m: bar.update(task, description=m),
        )
    if as_json:
        for row in result.table():
            typer.echo(json.dumps({**row, **_tuned_fields(result.tuned, row["recommender"])}))
    else:
        _print_evaluation(result.table())
        _print_tuned(result.tuned)
        Console().print(
            f"cutoff {cutoff}: {result.split['train_purchases']:,} purchases "
            f"before, {result.split['test_purchases']:,} after"
        )


def recommend_cmd(
    customers: Annotated[Path, typer.Option(help="Customer ids, one per line.")],
    out: Annotated[Path, typer.Option(help="Where the JSON lines go.")],
    k: Annotated[int, typer.Option(min=1, max=100, help="Items per customer.")] = 10,
    include_purchased: Annotated[bool, typer.Option(help="Allow already bought products.")] = False,
) -> None:
    """Write `{"customer_id", "items"}` per customer: the same consent-gated recommendations
    as GET /v1/customers/{id}/recommendations (unknown ids get popular products)."""
    from embeddings import serving
    from graph.errors import NotFound
    from graph.store import open_store

    if not customers.is_file():
        raise CkgError(f"no such file: {customers}")
    ids = [
        line.strip() for line in customers.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    done = 0
    with open_store(settings()) as store, out.open("w", encoding="utf-8") as f:
        for cid in ids:
            try:
                items = [
                    i.product_id
                    for i in serving.for_customer(store, cid, k, include_purchased).items
                ]
            except NotFound:
                items = [i.product_id for i in serving.popular(store, k)]
            f.write(json.dumps({"customer_id": cid, "items": items}) + "\n")
            done += 1
    sys.stderr.write(f"wrote {done} lines to {out}\n")


def segment_cmd(
    report: Annotated[
        Path | None,
        typer.Option(help="Also write PNG plots here (elbow and silhouette, 2-D map, profiles)."),
    ] = None,
    seed: Seed = 42,
    quiet: Quiet = False,
) -> None:
    """RFM segments, behavioural clusters and co-purchase communities, written as IN_SEGMENT
    to (:Segment) nodes; prints segment sizes as JSON."""
    from embeddings.segments import run_segments
    from graph.store import open_store

    with open_store(settings()) as store, progress(quiet) as bar:
        task = bar.add_task("segmenting", total=None)
        result = run_segments(
            store, seed, report, progress=lambda m: bar.update(task, description=m)
        )
    typer.echo(json.dumps(result))
