"""Rows of the read queries, parsed into models in this one place.

Engines return nulls for missing properties and lists for pattern comprehensions; the models
turn that into typed values with defaults, so route code never pokes at raw dictionaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from graph.errors import QueryError
from privacy.consent import ConsentRecord

R = TypeVar("R", bound=BaseModel)


def _null_is_zero(value: Any) -> Any:
    return 0 if value is None else value


# A tally kept on a relationship (views, searches): both engines answer null for a
# property the relationship does not have, which counts as nothing so far.
Tally = Annotated[int, BeforeValidator(_null_is_zero)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def parse_record(model: type[R], row: Mapping[str, Any], query: str) -> R:
    """`model` from a row of `query`. A row that does not fit is a fault of ours (a 500 whose
    cause goes to the log), told by where and why; the values stay out of the message and the
    chain, as they may be personal."""
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise QueryError(
            f"query {query!r} returned a row that is not a {model.__name__}: {where}"
        ) from None


class SessionRow(_Row):
    id: str
    channel: str | None = None
    device: str | None = None
    country: str | None = None
    started_at: int | None = None
    last_seen_at: int | None = None
    intent: str | None = None
    events: int | None = None
    purchases: int | None = None


class CustomerRow(_Row):
    ltv: float | None = None
    orders: int | None = None
    points: int | None = None
    country: str | None = None
    timezone: str | None = None
    first_seen_at: int | None = None
    last_seen_at: int | None = None
    rfm_r: int | None = None
    rfm_f: int | None = None
    rfm_m: int | None = None


class TierRow(_Row):
    name: str | None = None
    since: int | None = None


class SegmentRow(_Row):
    kind: str | None = None
    name: str | None = None
    score: float | None = None


def _segments_in_order(rows: list[SegmentRow]) -> list[SegmentRow]:
    return sorted(rows, key=lambda g: (g.kind or "", g.name or "", g.score or 0.0))


def _tiers_in_order(rows: list[TierRow]) -> list[TierRow]:
    return sorted(rows, key=lambda t: (t.since or 0, t.name or ""))


# A collected list comes back in whatever order the engine walked the graph, and Neo4j and
# FalkorDB walk differently; answers and text snippets must not depend on the engine.
Segments = Annotated[list[SegmentRow], AfterValidator(_segments_in_order)]
Tiers = Annotated[list[TierRow], AfterValidator(_tiers_in_order)]


class ViewRow(_Row):
    id: str
    name: str | None = None
    count: Tally = 0
    dwell_ms: int | None = None  # unknown when no view of it was timed
    last_at: int | None = None


class SearchRow(_Row):
    text: str
    count: Tally = 0
    last_at: int | None = None


class ChatRow(_Row):
    intent: str | None = None
    at: int | None = None


def _chats_in_order(rows: list[ChatRow]) -> list[ChatRow]:
    return sorted(rows, key=lambda c: (c.at or 0, c.intent or ""))


Chats = Annotated[list[ChatRow], AfterValidator(_chats_in_order)]


class CartRow(_Row):
    id: str
    name: str | None = None
    qty: int
    unit_price: float | None = None
    updated_at: int | None = None


class SimilarRow(_Row):
    id: str
    name: str | None = None
    score: float | None = None
    because: str | None = None
    bought: bool = False


class RecommendedRow(_Row):
    id: str
    name: str | None = None
    score: float | None = None
    rank: int
    reason: str | None = None
    via: str | None = None


class PopularRow(_Row):
    id: str
    name: str | None = None
    buyers: int


class ReplayEventRow(_Row):
    """One event of the session up to the replay time (search text and chat intent only with
    consent)."""

    id: str
    type: str
    at: int
    query: str | None = None
    intent: str | None = None


class ReplayProductRow(_Row):
    """A view or cart event of the session up to the replay time, with its product."""

    event: str
    type: str
    at: int
    id: str
    name: str | None = None
    dwell_ms: int | None = None
    qty: int | None = None
    unit_price: float | None = None


def _replay_in_order(rows: list[ReplayEventRow]) -> list[ReplayEventRow]:
    return sorted(rows, key=lambda e: (e.at, e.id))


def _replay_products_in_order(rows: list[ReplayProductRow]) -> list[ReplayProductRow]:
    return sorted(rows, key=lambda e: (e.at, e.event, e.id))


class ProfileFields(_Row):
    """What a customer read returns besides consents; empty unless its purpose is granted."""

    customer: CustomerRow | None = None
    tiers: Tiers = Field(default_factory=list)
    segments: Segments = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    other_sessions: list[int | None] = Field(default_factory=list)


class CustomerRecord(ProfileFields):
    customer_id: str
    consents: list[ConsentRecord] = Field(default_factory=list)
    personal: bool = False


class SessionContextRecord(ProfileFields):
    session: SessionRow
    customer_id: str | None = None
    anonymous_id: str | None = None
    consents: list[ConsentRecord] = Field(default_factory=list)
    personal: bool = False
    views: list[ViewRow] = Field(default_factory=list)
    searches: list[SearchRow] = Field(default_factory=list)
    chats: Chats = Field(default_factory=list)
    cart: list[CartRow] = Field(default_factory=list)
    similar: list[SimilarRow] = Field(default_factory=list)
    recommended: list[RecommendedRow] = Field(default_factory=list)
    # other sessions of the person: [started_at, last_seen_at]
    visits: list[tuple[int | None, int | None]] = Field(default_factory=list)
    # orders, when the query sends them: [at, amount, purchased]
    placed: list[tuple[int, float, bool | None]] = Field(default_factory=list)
    replay: Annotated[list[ReplayEventRow], AfterValidator(_replay_in_order)] = Field(
        default_factory=list
    )
    replay_products: Annotated[
        list[ReplayProductRow], AfterValidator(_replay_products_in_order)
    ] = Field(default_factory=list)
