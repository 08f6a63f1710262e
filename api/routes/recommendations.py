"""Recommendations for the chatbot: per customer, per live session, and similar products.

Personal answers are consent-gated (see embeddings/serving.py): without personalization
consent in force the items are non-personal fallbacks and `personalized` is false; the consent
records relied on are listed in every answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ChatbotKey, PathId, StoreDep
from api.schemas import RecommendationsPublic
from embeddings import serving

router = APIRouter(prefix="/v1", tags=["recommendations"])

K = Annotated[int, Query(ge=1, le=100, description="How many items.")]
CategoryFilter = Annotated[
    str | None, Query(description="Restrict the popularity fallback to one category.")
]


def _public(answer: serving.Recommendations) -> RecommendationsPublic:
    return RecommendationsPublic.model_validate(answer, from_attributes=True)


@router.get(
    "/customers/{customer_id}/recommendations",
    response_model=RecommendationsPublic,
    responses={404: {"description": "Unknown customer (customer_not_found)."}},
)
def customer_recommendations(
    customer_id: PathId,
    store: StoreDep,
    _key: ChatbotKey,
    k: K = 10,
    include_purchased: Annotated[
        bool, Query(description="Also recommend products the customer already bought.")
    ] = False,
    category: CategoryFilter = None,
) -> RecommendationsPublic:
    """Products for a customer, each with the graph path that explains it."""
    return _public(serving.for_customer(store, customer_id, k, include_purchased, category))


@router.get(
    "/sessions/{session_id}/recommendations",
    response_model=RecommendationsPublic,
    responses={404: {"description": "Unknown session (session_not_found)."}},
)
def session_recommendations(
    session_id: PathId,
    store: StoreDep,
    _key: ChatbotKey,
    k: K = 10,
    category: CategoryFilter = None,
) -> RecommendationsPublic:
    """Products for a live session, from what it is viewing now."""
    return _public(serving.for_session(store, session_id, k, category))


@router.get(
    "/products/{sku}/similar",
    response_model=RecommendationsPublic,
    responses={404: {"description": "Unknown product (product_not_found)."}},
)
def similar_products(
    sku: PathId, store: StoreDep, _key: ChatbotKey, k: K = 10
) -> RecommendationsPublic:
    """A product's nearest products by the promoted model (category fallback)."""
    return _public(serving.similar_products(store, sku, k))
