"""Online recommendations from the graph: named Cypher queries, consent gating, reasons as paths.

Personal recommendations need the subject's personalization consent in force (the latest
`Consent` with purpose personalization says granted). Without it only non-personal fallbacks
are served: recent popularity, or popular products of a category the request names. Every
answer lists the consent records it relied on, and every item carries the graph path behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graph.errors import CustomerNotFound, ProductNotFound, SessionNotFound
from graph.model import Purpose
from graph.queries import get_queries
from graph.store import Store
from privacy.consent import in_force

# the kind of model `ckg embed` trains and promotes (one promoted model per kind)
MODEL_KIND = "node2vec"

PURPOSE: Purpose = "personalization"


ReasonKind = Literal[
    "similar_to_purchased",
    "bought_by_similar_customers",
    "similar_to_viewed",
    "similar_product",
    "same_category",
    "popular",
]


@dataclass(frozen=True, slots=True)
class PathStep:
    """A node (`label`, `id`, `name`) or a relationship (`type`, `score`) on a reason path."""

    label: str | None = None
    type: str | None = None
    id: str | None = None
    name: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    text: str
    path: list[PathStep]


@dataclass(frozen=True, slots=True)
class RecommendedProduct:
    product_id: str
    name: str | None
    score: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class RecommendationConsent:
    """The personalization decision an answer relied on; all None but `owner` without one."""

    purpose: str
    granted: bool
    consent_id: str | None
    at: int | None
    source: str | None
    owner: str | None


@dataclass(frozen=True, slots=True)
class Recommendations:
    subject: str
    personalized: bool
    items: list[RecommendedProduct]
    consents: list[RecommendationConsent]
    model: str | None = None
    """The promoted model whose stored recommendations were served, if any were."""


def _name(x: Any) -> str:
    return str(x) if x else "a product"


def _consent(row: dict[str, Any]) -> RecommendationConsent:
    """The decision in force by the one rule of graph/consent.py; none means not granted."""
    rec = in_force(row.get("consents") or []).get(PURPOSE)
    return RecommendationConsent(
        purpose=PURPOSE,
        granted=bool(rec and rec.granted),
        consent_id=rec.id if rec else None,
        at=rec.at if rec else None,
        source=rec.source if rec else None,
        owner=row.get("owner"),
    )


def _product_step(pid: str, name: str | None) -> PathStep:
    return PathStep(label="Product", id=pid, name=name)


def _via_similar(
    r: dict[str, Any], label: str, subject: str, rel: Literal["PURCHASED", "VIEWED"]
) -> RecommendedProduct:
    """An item reached through the SIMILAR edge of something the subject bought or viewed."""
    via = r["via"]
    verb = "bought" if rel == "PURCHASED" else "viewed"
    return RecommendedProduct(
        product_id=r["product"],
        name=r["name"],
        score=float(r["score"]),
        reason=Reason(
            kind="similar_to_purchased" if rel == "PURCHASED" else "similar_to_viewed",
            text=f"similar to {_name(via.get('name'))} you {verb}",
            path=[
                PathStep(label=label, id=subject),
                PathStep(type=rel),
                _product_step(via["id"], via.get("name")),
                PathStep(type="SIMILAR", score=via.get("score")),
                _product_step(r["product"], r["name"]),
            ],
        ),
    )


def _popular(
    store: Store, k: int, category: str | None, exclude: set[str]
) -> list[RecommendedProduct]:
    rows = store.read(get_queries().popular_products, {"k": k + len(exclude), "category": category})
    out = []
    for r in rows:
        if r["product"] in exclude:
            continue
        path = [_product_step(r["product"], r["name"])]
        text = "popular in recent weeks"
        if category is not None:
            path = [
                PathStep(label="Category", id=category),
                PathStep(type="IN_CATEGORY"),
                *path,
            ]
            text = f"popular in {category}"
        out.append(
            RecommendedProduct(
                product_id=r["product"],
                name=r["name"],
                score=float(r["score"]),
                reason=Reason(kind="popular", text=text, path=path),
            )
        )
    return out[:k]


def popular(store: Store, k: int) -> list[RecommendedProduct]:
    """Non-personal: the cold-start answer for anyone."""
    return _popular(store, k, None, set())


def _category(store: Store, ids: list[str], k: int) -> list[RecommendedProduct]:
    rows = store.read(get_queries().category_fallback, {"ids": ids, "k": k})
    return [
        RecommendedProduct(
            product_id=r["product"],
            name=r["name"],
            score=float(r["score"]),
            reason=Reason(
                kind="same_category",
                text=f"in {r['category']}, like what was viewed",
                path=[
                    PathStep(label="Category", id=r["category"]),
                    PathStep(type="IN_CATEGORY"),
                    _product_step(r["product"], r["name"]),
                ],
            ),
        )
        for r in rows
    ]


def _fill(
    items: list[RecommendedProduct], more: list[RecommendedProduct], k: int
) -> list[RecommendedProduct]:
    seen = {i.product_id for i in items}
    for m in more:
        if len(items) >= k:
            break
        if m.product_id not in seen:
            items.append(m)
            seen.add(m.product_id)
    return items


def _recommended(customer_id: str, r: dict[str, Any]) -> RecommendedProduct:
    """A stored recommendation of the promoted model, explained by its strongest part."""
    me = PathStep(label="Customer", id=customer_id)
    item = _product_step(r["product"], r["name"])
    via_name = r.get("via_name")
    if r["reason"] == "similar_to_purchased" and r.get("via") is not None:
        reason = Reason(
            kind="similar_to_purchased",
            text=f"similar to {_name(via_name)} you bought",
            path=[
                me,
                PathStep(type="PURCHASED"),
                _product_step(r["via"], via_name),
                PathStep(type="SIMILAR", score=r.get("via_score")),
                item,
            ],
        )
    elif r["reason"] == "bought_by_similar_customers" and r.get("via") is not None:
        n = int(r.get("buyers") or 0)
        reason = Reason(
            kind="bought_by_similar_customers",
            text=f"bought by customers like you: {n} who also bought {_name(via_name)}",
            path=[
                me,
                PathStep(type="PURCHASED"),
                _product_step(r["via"], via_name),
                PathStep(type="PURCHASED", score=r.get("via_score")),
                PathStep(label="Customer", name=f"{n} other customers"),
                PathStep(type="PURCHASED"),
                item,
            ],
        )
    else:
        reason = Reason(kind="popular", text="popular in recent weeks", path=[item])
    return RecommendedProduct(
        product_id=r["product"], name=r["name"], score=float(r["score"]), reason=reason
    )


def _from_similar(
    store: Store, customer_id: str, k: int, include_purchased: bool
) -> list[RecommendedProduct]:
    """For a customer who has bought since the promoted model was trained (no stored
    recommendations yet): the SIMILAR neighbours of what they bought."""
    params = {"id": customer_id, "k": k, "include_purchased": include_purchased}
    out = []
    for r in store.read(get_queries().recommend_for_customer, params):
        out.append(_via_similar(r, "Customer", customer_id, "PURCHASED"))
    return out


def for_customer(
    store: Store,
    customer_id: str,
    k: int = 10,
    include_purchased: bool = False,
    category: str | None = None,
) -> Recommendations:
    """With personalization consent in force: the promoted model's stored top-k (the evaluated
    recommender, see embeddings/recommender.py), in its order; then, for a customer the model
    has not seen buy, SIMILAR neighbours of their purchases; then popularity (in `category` if
    given) for the rest, never repeating a purchase unless `include_purchased`."""
    q = get_queries()
    row = store.read_one(q.customer_consent, {"id": customer_id, "purpose": PURPOSE})
    if row is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    consent = _consent(row)
    items: list[RecommendedProduct] = []
    model: str | None = None
    if consent.granted:
        params = {"id": customer_id, "k": k, "include_purchased": include_purchased}
        rows = store.read(q.recommended_for_customer, params)
        items = [_recommended(customer_id, r) for r in rows]
        model = rows[0]["model"] if rows else None
        if not rows:
            items = _from_similar(store, customer_id, k, include_purchased)
    if len(items) < k:
        exclude: set[str] = set()
        if consent.granted and not include_purchased:
            exclude = {r["product"] for r in store.read(q.customer_purchased, {"id": customer_id})}
        items = _fill(items, _popular(store, k, category, exclude), k)
    return Recommendations(
        subject=customer_id,
        personalized=consent.granted,
        items=items,
        consents=[consent],
        model=model,
    )


def for_session(
    store: Store, session_id: str, k: int = 10, category: str | None = None
) -> Recommendations:
    q = get_queries()
    row = store.read_one(q.session_consent, {"id": session_id, "purpose": PURPOSE})
    if row is None:
        raise SessionNotFound(f"no session {session_id!r}")
    consent = _consent(row)
    items: list[RecommendedProduct] = []
    viewed: list[str] = []
    if consent.granted:
        for r in store.read(q.recommend_for_session, {"id": session_id, "k": k}):
            items.append(_via_similar(r, "Session", session_id, "VIEWED"))
        viewed = [r["product"] for r in store.read(q.session_viewed, {"id": session_id})]
        if len(items) < k and viewed:
            items = _fill(items, _category(store, viewed, k), k)
    items = _fill(items, _popular(store, k, category, set(viewed)), k)
    return Recommendations(
        subject=session_id, personalized=consent.granted, items=items, consents=[consent]
    )


def similar_products(store: Store, product_id: str, k: int = 10) -> Recommendations:
    """Not personal: no consent involved. Falls back to the product's category."""
    row = store.read_one(get_queries().similar_products, {"id": product_id, "k": k})
    if row is None:
        raise ProductNotFound(f"no product {product_id!r}")
    items = [
        RecommendedProduct(
            product_id=s["id"],
            name=s.get("name"),
            score=float(s["score"]),
            reason=Reason(
                kind="similar_product",
                text=f"often chosen with {_name(row['name'])}",
                path=[
                    _product_step(product_id, row["name"]),
                    PathStep(type="SIMILAR", score=s["score"]),
                    _product_step(s["id"], s.get("name")),
                ],
            ),
        )
        for s in row["similar"]
        if s.get("id") is not None
    ]
    items = _fill(items, _category(store, [product_id], k), k)
    return Recommendations(subject=product_id, personalized=False, items=items, consents=[])
