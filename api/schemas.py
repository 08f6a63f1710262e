"""Response models of the read API, one family per resource. Times are ISO 8601 UTC strings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from graph.model import Purpose

Verbosity = Literal["full", "concise"]
DeviceName = Literal["desktop", "mobile", "tablet", "unknown"]


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class ConsentPublic(_Public):
    purpose: Purpose
    granted: bool
    at: str
    source: str | None = None


class SegmentPublic(_Public):
    kind: str | None = None
    name: str | None = None
    score: float | None = None


class RfmPublic(_Public):
    r: int | None = None
    f: int | None = None
    m: int | None = None


class CustomerSummaryPublic(_Public):
    """Pseudonymous: ids, scores and aggregates only; personal data lives on PII nodes."""

    id: str
    tier: str | None = None
    tier_since: str | None = None
    points: int = 0
    lifetime_value: float = 0.0
    orders: int = 0
    rfm: RfmPublic | None = None
    segments: list[SegmentPublic] = []
    preferred_categories: list[str] = []
    first_seen: str | None = None
    last_seen: str | None = None
    country: str | None = None
    sessions: int | None = None


class CustomerPublic(_Public):
    id: str
    purpose: Purpose
    personalized: bool
    profile: CustomerSummaryPublic | None
    consents: list[ConsentPublic]


class ViewPublic(_Public):
    product_id: str
    name: str | None = None
    views: int
    dwell_ms: int
    last_at: str | None = None


class SearchPublic(_Public):
    text: str
    count: int
    last_at: str | None = None


class CartLinePublic(_Public):
    product_id: str
    name: str | None = None
    qty: int
    unit_price: float | None = None
    value: float | None = None


class CartPublic(_Public):
    lines: list[CartLinePublic]
    items: int
    value: float
    idle_minutes: float | None = None
    abandoned: bool


class SessionStatePublic(_Public):
    id: str
    channel: str | None = None
    device: str | None = None
    started_at: str | None = None
    last_seen_at: str | None = None
    events: int | None = None
    intent: str | None = None
    last_chat_intent: str | None = None
    views: list[ViewPublic] = []
    searches: list[SearchPublic] = []
    cart: CartPublic


class PromotionPublic(_Public):
    id: str
    text: str


class TemporalPublic(_Public):
    timezone: str
    timezone_source: Literal["request", "customer", "default"]
    local_time: str
    part_of_day: Literal["night", "morning", "afternoon", "evening"]
    weekday: str
    season: Literal["winter", "spring", "summer", "autumn"]
    promotions: list[PromotionPublic]


class TriggerPublic(_Public):
    id: str
    priority: int
    say: str


class RecommendationPublic(_Public):
    product_id: str
    name: str | None = None
    score: float | None = None
    source: Literal["similar", "recommended", "popular"]
    personal: bool
    reason: str


class ContextPublic(_Public):
    """What a chatbot needs for its next turn, already filtered by consent."""

    session_id: str
    as_of: str
    purpose: Purpose
    personalized: bool
    anonymous: bool
    customer_id: str | None
    verbosity: Verbosity
    customer: CustomerSummaryPublic | None
    session: SessionStatePublic
    temporal: TemporalPublic
    triggers: list[TriggerPublic]
    recommendations: list[RecommendationPublic]
    consents: list[ConsentPublic]
