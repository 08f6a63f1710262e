"""Turn a session-context record into what a chatbot reads: facts, triggers, text.

The store query already withholds personal data without consent; this module never adds any
back. It derives facts (cart idle time, days since the last visit, local time), applies the
declarative rules, trims to the device's verbosity and renders the prompt snippet.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.prompt import Section, render
from api.replay import as_of
from api.rules import ContextRules, Limits
from api.schemas import (
    CartLinePublic,
    CartPublic,
    ConsentPublic,
    ContextPublic,
    CustomerSummaryPublic,
    PromotionPublic,
    RecommendationPublic,
    RfmPublic,
    SearchPublic,
    SegmentPublic,
    SessionStatePublic,
    TemporalPublic,
    TimezoneSource,
    TriggerPublic,
    Verbosity,
    ViewPublic,
)
from graph.errors import ClientError
from graph.model import Purpose
from graph.queries import Queries
from graph.records import (
    CartRow,
    PopularRow,
    ProfileFields,
    RecommendedRow,
    SessionContextRecord,
)
from graph.store import Store
from privacy.consent import ConsentRecord, in_force
from privacy.times import iso

DAY_MS = 86_400_000
# ISO 3166 codes of countries wholly or mostly south of the equator: their seasons are flipped.
SOUTHERN = frozenset(
    {
        "AO",
        "AR",
        "AU",
        "BO",
        "BR",
        "BW",
        "CL",
        "FJ",
        "LS",
        "MG",
        "MU",
        "MW",
        "MZ",
        "NA",
        "NZ",
        "PE",
        "PY",
        "RE",
        "SZ",
        "TZ",
        "UY",
        "ZA",
        "ZM",
        "ZW",
    }
)
_SEASONS = (
    "winter",
    "winter",
    "spring",
    "spring",
    "spring",
    "summer",
    "summer",
    "summer",
    "autumn",
    "autumn",
    "autumn",
    "winter",
)
_FLIP = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


class InvalidParameter(ClientError):
    """A request parameter is well-formed but unusable (unknown time zone)."""

    reason = "invalid_parameter"


class SessionNotStarted(InvalidParameter):
    """A replay time before the session's first event: there was no session to speak of."""

    reason = "session_not_started"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(f"{name!r} is not an IANA time zone") from None


class Popular:
    """Most-bought products, cached: one scan of purchases serves every request for a while."""

    def __init__(self, store: Store, queries: Queries, window_days: int, ttl_s: float) -> None:
        self._store, self._q = store, queries
        self._window_ms = window_days * DAY_MS
        self._ttl = ttl_s
        self._rows: list[PopularRow] = []
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def top(self, k: int = 20) -> list[PopularRow]:
        """The cached rows; the (rare) refresh is one async read, whoever else is waiting."""
        if time.monotonic() - self._at > self._ttl:
            async with self._lock:
                if time.monotonic() - self._at > self._ttl:
                    rows = await self._store.aread(
                        self._q.recent_bestsellers, {"window_ms": self._window_ms, "k": 50}
                    )
                    self._rows = [PopularRow.model_validate(r) for r in rows]
                    self._at = time.monotonic()
        return self._rows[:k]


def consents_public(records: list[ConsentRecord]) -> list[ConsentPublic]:
    """The decisions in force, one per purpose, in a stable order."""
    return [
        ConsentPublic(purpose=r.purpose, granted=r.granted, at=iso(r.at) or "", source=r.source)
        for _, r in sorted(in_force(records).items())
    ]


def customer_summary(
    customer_id: str, rec: ProfileFields, categories: int = 3, sessions: int | None = None
) -> CustomerSummaryPublic | None:
    c = rec.customer
    if c is None:
        return None
    tier = max(rec.tiers, key=lambda t: t.since or 0, default=None)
    rfm = (
        RfmPublic(r=c.rfm_r, f=c.rfm_f, m=c.rfm_m)
        if c.rfm_r is not None or c.rfm_f is not None or c.rfm_m is not None
        else None
    )
    return CustomerSummaryPublic(
        id=customer_id,
        tier=tier.name if tier else None,
        tier_since=iso(tier.since) if tier else None,
        points=c.points or 0,
        lifetime_value=round(c.ltv or 0.0, 2),
        orders=c.orders or 0,
        rfm=rfm,
        segments=[SegmentPublic(kind=s.kind, name=s.name, score=s.score) for s in rec.segments],
        preferred_categories=rec.categories[:categories],
        first_seen=iso(c.first_seen_at),
        last_seen=iso(c.last_seen_at),
        country=c.country,
        sessions=sessions if sessions is not None else len(rec.other_sessions),
    )


def _part_of_day(hour: int) -> str:
    if hour < 6:
        return "night"
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


@dataclass(frozen=True, slots=True)
class _Clock:
    """The local time of the answer, and where its time zone came from."""

    timezone: str
    source: TimezoneSource
    local: datetime
    season: str


@dataclass(frozen=True, slots=True)
class _Cart:
    """The session's cart as the rules see it (unrounded types), lines newest first."""

    lines: list[CartRow]
    items: int
    value: float
    idle: float | None
    abandoned: bool

    def public(self, max_lines: int) -> CartPublic:
        return CartPublic(
            lines=[
                CartLinePublic(
                    product_id=r.id,
                    name=r.name,
                    qty=r.qty,
                    unit_price=r.unit_price,
                    value=round(r.qty * r.unit_price, 2) if r.unit_price is not None else None,
                )
                for r in self.lines[:max_lines]
            ],
            items=self.items,
            value=self.value,
            idle_minutes=self.idle,
            abandoned=self.abandoned,
        )


def build_context(
    rec: SessionContextRecord,
    *,
    rules: ContextRules,
    purpose: Purpose,
    now_ms: int,
    popular: list[PopularRow],
    tz: str | None,
    default_tz: str,
    device: str | None,
    verbosity: Verbosity | None,
    replay: bool = False,
) -> ContextPublic:
    """The answer as of `now_ms`; with `replay`, a past instant: facts timed after it are
    already left out by the query, the session's own state is rebuilt as it was (api.replay),
    and the popular products (a ranking of the latest data) are left out too."""
    if replay:
        rec, popular = _replayed(rec, now_ms), []
    s = rec.session
    device = device or s.device
    level: Verbosity = verbosity or ("concise" if device in rules.concise_devices else "full")
    lim = rules.verbosity[level]
    clock = _clock(rec, now_ms, tz, default_tz)
    cart = _cart(rec, now_ms, rules.cart_abandoned_after_minutes)
    summary = (
        customer_summary(rec.customer_id, rec, lim.categories, sessions=len(rec.visits) + 1)
        if rec.customer_id and rec.personal
        else None
    )
    facts = _facts(rec, now_ms, device, summary, cart, clock, replay)
    return ContextPublic(
        session_id=s.id,
        as_of=iso(now_ms) or "",
        purpose=purpose,
        personalized=rec.personal,
        anonymous=rec.customer_id is None,
        customer_id=rec.customer_id,
        verbosity=level,
        customer=summary,
        session=_session_state(rec, device, facts, cart.public(lim.cart_lines), lim),
        temporal=_temporal(clock, facts, rules, s.channel, lim.promotions),
        triggers=_triggers(rec, facts, rules, lim.triggers),
        recommendations=_recommendations(rec, popular, lim.recommendations),
        consents=consents_public(rec.consents),
    )


def _replayed(rec: SessionContextRecord, at_ms: int) -> SessionContextRecord:
    started = rec.session.started_at
    if started is not None and at_ms < started:
        raise SessionNotStarted(
            f"session {rec.session.id!r} started at {iso(started)}, after `at` ({iso(at_ms)})"
        )
    return as_of(rec, at_ms)


def _clock(rec: SessionContextRecord, now_ms: int, tz: str | None, default_tz: str) -> _Clock:
    """The request's time zone, else the customer's own (a profile attribute, so consented
    only), else the default; seasons flip south of the equator."""
    personal, customer = rec.personal, rec.customer
    customer_tz = customer.timezone if personal and customer else None
    source: TimezoneSource
    if tz:
        name, source = tz, "request"
    elif customer_tz:
        name, source = customer_tz, "customer"
    else:
        name, source = default_tz, "default"
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone(name))
    country = rec.session.country or (customer.country if personal and customer else None)
    season = _SEASONS[local.month - 1]
    if country in SOUTHERN:
        season = _FLIP[season]
    return _Clock(name, source, local, season)


def _cart(rec: SessionContextRecord, now_ms: int, abandoned_after_minutes: float) -> _Cart:
    """The session's own working state: shown with or without personalization consent."""
    lines = sorted(rec.cart, key=lambda r: (-(r.updated_at or 0), r.id))
    items = sum(r.qty for r in lines)
    value = round(sum(r.qty * (r.unit_price or 0.0) for r in lines), 2)
    touched = max((r.updated_at for r in lines if r.updated_at is not None), default=None)
    idle = round((now_ms - touched) / 60_000, 1) if touched is not None else None
    abandoned = bool(
        items > 0
        and idle is not None
        and idle >= abandoned_after_minutes
        and not rec.session.purchases
    )
    return _Cart(lines, items, value, idle, abandoned)


def _facts(
    rec: SessionContextRecord,
    now_ms: int,
    device: str | None,
    summary: CustomerSummaryPublic | None,
    cart: _Cart,
    clock: _Clock,
    replay: bool,
) -> dict[str, Any]:
    """What the rules' conditions and messages may name (api/rules.py `Fact`). In a replay,
    segments (computed now) and points set after the instant are unknown."""
    s, personal, local = rec.session, rec.personal, clock.local
    known_points = rec.customer is not None and rec.customer.points is not None
    start = s.started_at if s.started_at is not None else now_ms
    # the last visit: the latest end of another session that ended before this one started
    earlier = [last for _, last in rec.visits if last is not None and last < start]
    # the first visit: no other session started, and no order was placed, before this one
    first = not any(began is not None and began < start for began, _ in rec.visits) and not any(
        at < start for at, *_ in rec.placed
    )
    chats = sorted((c for c in rec.chats if c.intent), key=lambda c: c.at or 0)
    return {
        "identified": rec.customer_id is not None,
        "personalized": personal,
        "device": device,
        "channel": s.channel,
        "intent": s.intent if personal else None,
        "last_chat_intent": chats[-1].intent if chats else None,
        "tier": summary.tier.lower() if summary and summary.tier else None,
        "points": summary.points if summary and known_points else None,
        "ltv": summary.lifetime_value if summary else None,
        "orders": summary.orders if summary else None,
        "sessions": len(rec.visits) + 1 if personal else None,
        "first_visit": first if personal else None,
        "days_since_last_visit": (
            round((start - max(earlier)) / DAY_MS, 1) if personal and earlier else None
        ),
        "segments": [g.name for g in rec.segments if g.name] if personal and not replay else None,
        "cart_items": cart.items,
        "cart_value": cart.value,
        "cart_idle_minutes": cart.idle,
        "cart_abandoned": cart.abandoned,
        "hour": local.hour,
        "weekday": local.strftime("%A").lower(),
        "part_of_day": _part_of_day(local.hour),
        "season": clock.season,
    }


def _session_state(
    rec: SessionContextRecord,
    device: str | None,
    facts: dict[str, Any],
    cart: CartPublic,
    lim: Limits,
) -> SessionStatePublic:
    s = rec.session
    views = sorted(rec.views, key=lambda v: (-(v.last_at or 0), v.id))[: lim.views]
    searches = sorted(rec.searches, key=lambda q: (-(q.last_at or 0), q.text))[: lim.searches]
    return SessionStatePublic(
        id=s.id,
        channel=s.channel,
        device=device,
        started_at=iso(s.started_at),
        last_seen_at=iso(s.last_seen_at),
        events=s.events,
        intent=facts["intent"],
        last_chat_intent=facts["last_chat_intent"],
        views=[
            ViewPublic(
                product_id=v.id,
                name=v.name,
                views=v.count,
                dwell_ms=v.dwell_ms,
                last_at=iso(v.last_at),
            )
            for v in views
        ],
        searches=[
            SearchPublic(text=q.text, count=q.count, last_at=iso(q.last_at)) for q in searches
        ],
        cart=cart,
    )


def _temporal(
    clock: _Clock, facts: dict[str, Any], rules: ContextRules, channel: str | None, k: int
) -> TemporalPublic:
    promotions = [
        PromotionPublic(id=p.id, text=p.text)
        for p in rules.promotions
        if p.active(clock.local.date(), channel)
    ][:k]
    return TemporalPublic(
        timezone=clock.timezone,
        timezone_source=clock.source,
        local_time=clock.local.isoformat(timespec="minutes"),
        part_of_day=facts["part_of_day"],
        weekday=facts["weekday"],
        season=clock.season,
        promotions=promotions,
    )


def _triggers(
    rec: SessionContextRecord, facts: dict[str, Any], rules: ContextRules, k: int
) -> list[TriggerPublic]:
    """The rules that fire on these facts, for the purposes whose consent is in force."""
    granted: set[str] = {p for p, r in in_force(rec.consents).items() if r.granted}
    return [
        TriggerPublic(id=t.id, priority=t.priority, say=t.render(facts))
        for t in rules.fired(facts, granted)
    ][:k]


def _recommendations(
    rec: SessionContextRecord, popular: list[PopularRow], k: int
) -> list[RecommendationPublic]:
    """Personal first (SIMILAR to what this session viewed, then the customer's stored
    recommendations from the promoted model), topped up with popular products."""
    exclude = {r.id for r in rec.cart}
    out: list[RecommendationPublic] = []
    if rec.personal:
        exclude |= {v.id for v in rec.views}
        for r in sorted(rec.similar, key=lambda r: (-(r.score or 0.0), r.id)):
            if r.bought or r.id in exclude or len(out) >= k:
                continue
            exclude.add(r.id)
            out.append(
                RecommendationPublic(
                    product_id=r.id,
                    name=r.name,
                    score=r.score,
                    source="similar",
                    personal=True,
                    reason=f"similar to {r.because} viewed in this session",
                )
            )
    if rec.personal:
        for stored in sorted(rec.recommended, key=lambda x: x.rank):
            if stored.id in exclude or len(out) >= k:
                continue
            exclude.add(stored.id)
            out.append(
                RecommendationPublic(
                    product_id=stored.id,
                    name=stored.name,
                    score=stored.score,
                    source="recommended",
                    personal=True,
                    reason=_recommended_reason(stored),
                )
            )
    for p in popular:
        if len(out) >= k:
            break
        if p.id in exclude:
            continue
        exclude.add(p.id)
        out.append(
            RecommendationPublic(
                product_id=p.id,
                name=p.name,
                score=None,
                source="popular",
                personal=False,
                reason=f"popular: bought by {p.buyers} customers recently",
            )
        )
    return out


def _recommended_reason(r: RecommendedRow) -> str:
    kind = (r.reason or "").replace("_", " ")
    return f"recommended for this customer ({kind}{f', via {r.via}' if r.via else ''})"


def _viewed(v: ViewPublic) -> str:
    name = _name(v.name, v.product_id)
    return name if v.dwell_ms is None else f"{name} ({v.dwell_ms // 1000}s)"


def _name(text: str | None, fallback: str) -> str:
    if not text:
        return fallback
    return text.capitalize() if text.isupper() else text


def context_text(ctx: ContextPublic, max_tokens: int) -> str:
    """The prompt snippet: who, what now, what to say, what to offer — in that order."""
    s = ctx.session
    now = [
        f"intent {s.intent}" if s.intent else "",
        f"last asked about {s.last_chat_intent}" if s.last_chat_intent else "",
    ]
    cart = [
        f"{ln.qty} x {_name(ln.name, ln.product_id)}"
        + (f" at {ln.unit_price:.2f}" if ln.unit_price is not None else "")
        for ln in s.cart.lines
    ]
    cart_label = (
        f"Cart ({s.cart.items} items, {s.cart.value:.2f}"
        + (", abandoned" if s.cart.abandoned else "")
        + ")"
    )
    sections = [
        Section("", ["; ".join(_head(ctx))]),
        Section("Say", [t.say for t in ctx.triggers], sep=" "),
        Section("Now", [x for x in now if x]),
        Section(cart_label, cart),
        Section("Customer", _profile(ctx.customer)),
        Section(
            "Offer",
            [
                f"{_name(r.name, r.product_id)} ({r.product_id}; {r.reason})"
                for r in ctx.recommendations
            ],
        ),
        Section("Viewed", [_viewed(v) for v in s.views]),
        Section("Searched", [q.text for q in s.searches]),
        Section("Promotions", [p.text for p in ctx.temporal.promotions]),
        Section(
            "Consents",
            [f"{x.purpose} {'granted' if x.granted else 'withdrawn'}" for x in ctx.consents],
            sep=", ",
        ),
    ]
    return render(sections, max_tokens)


def _head(ctx: ContextPublic) -> list[str]:
    """Who, where and when; and, without consent, the warning not to personalize."""
    s, t = ctx.session, ctx.temporal
    who = f"customer {ctx.customer_id}" if ctx.customer_id else "anonymous visitor"
    where = "".join(
        (
            f" on {s.device}" if s.device and s.device != "unknown" else "",
            f" via {s.channel}" if s.channel else "",
        )
    )
    head = [
        f"Session {s.id}: {who}{where}, {t.weekday} {t.part_of_day}"
        f" ({t.local_time[11:16]} {t.timezone}), {t.season}"
    ]
    if not ctx.personalized:
        head.append("no personalization consent: do not use personal history")
    return head


def _profile(c: CustomerSummaryPublic | None) -> list[str]:
    if c is None:
        return []
    return [
        x
        for x in (
            f"tier {c.tier}" if c.tier else "",
            f"{c.points} points" if c.points else "",
            f"{c.orders} orders, lifetime value {c.lifetime_value:.2f}",
            f"segments {', '.join(g.name for g in c.segments if g.name)}" if c.segments else "",
            f"likes {', '.join(c.preferred_categories)}" if c.preferred_categories else "",
            f"{c.sessions} visits" if c.sessions else "",
        )
        if x
    ]
