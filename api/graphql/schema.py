"""The GraphQL schema: customers, sessions and products, answered by the REST building blocks.

Every answer is made by the code the REST routes use (api/context.py `customer_summary`,
`consents_public`, `build_context`; embeddings/serving.py), so consent gating, fallbacks and
shapes are theirs: without personalization consent a customer's personal fields are null,
`personalized` is false and `reason` says why, and recommendations are the non-personal
fallbacks. Fields admit the scopes of their REST routes (profile: chatbot:read or
analyst:read; recommendations, sessions and contexts: chatbot:read); a key without them gets
the field null and a `forbidden` error.

Store round trips: a customer is one profile read; its recommendations the reads of the REST
route; its sessions one read, and the contexts of every session in the request one more
(`GraphQLContext.contexts`, a DataLoader per request). Sync store and serving calls run in
the thread pool.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

import strawberry
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter
from strawberry.fastapi import BaseContext
from strawberry.types import ExecutionContext, Info

from api.auth import ApiKey, Scope, ScopeError
from api.context import InvalidParameter, Popular, build_context, consents_public, zone
from api.context import customer_summary as summary_of
from api.graphql.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    CostLimiter,
    DepthLimiter,
    ErrorReasons,
    is_fault,
)
from api.graphql.mirror import mirror
from api.rules import ContextRules
from api.schemas import (
    ConsentPublic,
    ContextPublic,
    ContextQuery,
    CustomerSummaryPublic,
    ReasonPublic,
    RecommendationsPublic,
    SegmentPublic,
)
from api.settings import Settings
from embeddings import serving
from graph.errors import CustomerNotFound, ProductNotFound, SessionNotFound
from graph.model import Purpose, check_id
from graph.queries import Queries
from graph.records import CustomerRecord, SessionContextRecord, parse_record
from graph.store import Store
from privacy.times import iso

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

PURPOSE: Purpose = "personalization"
NO_CONSENT = f"consent_missing:{PURPOSE}"
PROFILE: tuple[Scope, ...] = ("chatbot:read", "analyst:read")
CHATBOT: tuple[Scope, ...] = ("chatbot:read",)
# every scope some field admits: a key with none of them is refused before the query runs
SCOPES: tuple[Scope, ...] = PROFILE
MAX_K = 100
MAX_SESSIONS = 50
CONTEXT_RECS = 20  # the context route's own number of candidates

Consent = mirror(ConsentPublic)
Context = mirror(ContextPublic)
CustomerSummary = mirror(CustomerSummaryPublic)
Reason = mirror(ReasonPublic)
Segment = mirror(SegmentPublic)


@dataclass(frozen=True, slots=True, eq=False)
class ContextKey:
    """One context a request asks for: the session and the REST route's query parameters."""

    session_id: str
    options: ContextQuery

    def cache_key(self) -> tuple[str, str]:
        return self.session_id, self.options.model_dump_json()


class GraphQLContext(BaseContext):
    """What resolvers need, read once per request: the key, the store and the start-up state."""

    def __init__(
        self,
        key: ApiKey,
        store: Store,
        queries: Queries,
        settings: Settings,
        rules: ContextRules,
        popular: Popular,
    ) -> None:
        super().__init__()
        self.key, self.store, self.queries = key, store, queries
        self.settings, self.rules, self.popular = settings, rules, popular
        self.contexts: DataLoader[ContextKey, ContextPublic] = DataLoader(
            load_fn=self._load_contexts, cache_key_fn=ContextKey.cache_key
        )

    def need(self, scopes: tuple[Scope, ...]) -> None:
        if self.key.scopes.isdisjoint(scopes):
            raise ScopeError(f"this field needs the {' or '.join(scopes)} scope")

    async def _load_contexts(
        self, keys: Sequence[ContextKey]
    ) -> list[ContextPublic | BaseException]:
        """Every context asked for in one tick: one `session_contexts` read per distinct
        replay time (one, unless aliases ask for several), then `build_context` per key."""
        by_at: dict[int | None, set[str]] = defaultdict(set)
        for k in keys:
            by_at[_at_ms(k.options)].add(k.session_id)
        q = self.queries
        rows: dict[tuple[int | None, str], SessionContextRecord] = {}
        for at_ms, ids in by_at.items():
            params = {"session_ids": sorted(ids), "purpose": PURPOSE, "recs": CONTEXT_RECS}
            for row in await self.store.aread(q.session_contexts, {**params, "at": at_ms}):
                rec = parse_record(SessionContextRecord, row, q.session_contexts.name)
                rows[(at_ms, rec.session.id)] = rec
        top = await self.popular.top(CONTEXT_RECS)
        out: list[ContextPublic | BaseException] = []
        for k in keys:
            found = rows.get((_at_ms(k.options), k.session_id))
            if found is None:
                out.append(SessionNotFound(f"no session {k.session_id!r}"))
                continue
            try:
                out.append(self._context(found, k.options, top))
            except Exception as exc:  # that key's own error, raised as REST raises it
                out.append(exc)
        return out

    def _context(self, rec: SessionContextRecord, o: ContextQuery, top: list[Any]) -> ContextPublic:
        at_ms = _at_ms(o)
        return build_context(
            rec,
            rules=self.rules,
            purpose=PURPOSE,
            now_ms=at_ms if at_ms is not None else int(time.time() * 1000),
            popular=top,
            tz=o.tz,
            default_tz=self.settings.default_timezone,
            device=o.device,
            verbosity=o.verbosity,
            replay=at_ms is not None,
        )


def field(description: str, graphql_type: Any = None) -> Callable[[F], F]:
    """`strawberry.field` as a decorator, typed: strawberry types that form as `Any`."""
    return cast(
        "Callable[[F], F]", strawberry.field(description=description, graphql_type=graphql_type)
    )


def _at_ms(o: ContextQuery) -> int | None:
    return int(o.at.timestamp() * 1000) if o.at is not None else None


def _ctx(info: Info[GraphQLContext, None]) -> GraphQLContext:
    return info.context


def _id(value: str, name: str) -> str:
    try:
        return check_id(value)
    except ValueError as exc:
        raise InvalidParameter(f"{name}: {exc}") from None


def _count(value: int, name: str, most: int) -> int:
    if not 1 <= value <= most:
        raise InvalidParameter(f"{name} must be between 1 and {most}, not {value}")
    return value


def _options(
    tz: str | None, device: str | None, verbosity: str | None, at: str | None
) -> ContextQuery:
    """The context route's query parameters, checked as that route checks them."""
    given = {"tz": tz, "device": device, "verbosity": verbosity, "at": at}
    try:
        options = ContextQuery.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InvalidParameter(f"{where}: {first['msg']}") from None
    if options.tz is not None:
        zone(options.tz)
    if options.at is not None and options.at.tzinfo is None:
        raise InvalidParameter("`at` needs a UTC offset, e.g. 2011-12-01T10:00:00Z")
    return options


async def _context(
    info: Info[GraphQLContext, None],
    session_id: str,
    tz: str | None,
    device: str | None,
    verbosity: str | None,
    at: str | None,
) -> ContextPublic:
    ctx = _ctx(info)
    ctx.need(CHATBOT)
    return await ctx.contexts.load(ContextKey(session_id, _options(tz, device, verbosity, at)))


TZ = Annotated[str | None, strawberry.argument(description="IANA time zone.")]
DEVICE = Annotated[str | None, strawberry.argument(description="desktop, mobile, tablet, unknown.")]
VERBOSITY = Annotated[str | None, strawberry.argument(description="full or concise.")]
AT = Annotated[
    str | None, strawberry.argument(description="Replay as of this instant (ISO 8601, offset).")
]


@strawberry.type(description="A product as recommendation answers name it.")
class ProductRef:
    sku: str
    name: str | None


@strawberry.type(description="One recommended product with the graph path that explains it.")
class RecommendedItem:
    product: ProductRef
    score: float
    reason: Reason  # type: ignore[valid-type]
    personalized: bool = strawberry.field(
        description="Whether personal data chose it (false for every non-personal fallback)."
    )


def _items(answer: serving.Recommendations) -> list[RecommendedItem]:
    """The REST answer's items (`RecommendationsPublic`, as the route serves them)."""
    public = RecommendationsPublic.model_validate(answer, from_attributes=True)
    return [
        RecommendedItem(
            product=ProductRef(sku=i.product_id, name=i.name),
            score=i.score,
            reason=i.reason,
            personalized=public.personalized and i.reason.kind != "popular",
        )
        for i in public.items
    ]


@strawberry.type(description="A session of a customer, latest activity first.")
class CustomerSession:
    id: str
    channel: str | None
    device: str | None
    started_at: str | None
    last_seen_at: str | None

    @field(graphql_type=Context | None, description="As GET /v1/sessions/{id}/context.")
    async def context(
        self,
        info: Info[GraphQLContext, None],
        tz: TZ = None,
        device: DEVICE = None,
        verbosity: VERBOSITY = None,
        at: AT = None,
    ) -> ContextPublic | None:
        return await _context(info, self.id, tz, device, verbosity, at)


@strawberry.type(description="A customer: profile, consents, recommendations and sessions.")
class Customer:
    id: str
    record: strawberry.Private[CustomerRecord]

    @field(description="Whether personalization consent is in force.")
    def personalized(self, info: Info[GraphQLContext, None]) -> bool:
        _ctx(info).need(PROFILE)
        return self.record.personal

    @field(description=f"Why personal fields are null (`{NO_CONSENT}`), else null.")
    def reason(self, info: Info[GraphQLContext, None]) -> str | None:
        _ctx(info).need(PROFILE)
        return None if self.record.personal else NO_CONSENT

    @field(
        graphql_type=CustomerSummary | None,
        description="As the REST profile; null without personalization consent.",
    )
    def profile(self, info: Info[GraphQLContext, None]) -> CustomerSummaryPublic | None:
        _ctx(info).need(PROFILE)
        return summary_of(self.id, self.record) if self.record.personal else None

    @field(
        graphql_type=list[Segment] | None,  # type: ignore[valid-type]
        description="The profile's segments; null without personalization consent.",
    )
    def segments(self, info: Info[GraphQLContext, None]) -> list[SegmentPublic] | None:
        profile = self.profile(info)
        return profile.segments if profile is not None else None

    @field(
        graphql_type=list[Consent],  # type: ignore[valid-type]
        description="The decisions in force, one per purpose.",
    )
    def consents(self, info: Info[GraphQLContext, None]) -> list[ConsentPublic]:
        _ctx(info).need(PROFILE)
        return consents_public(self.record.consents)

    @field(description="As GET /v1/customers/{id}/recommendations.")
    async def recommendations(
        self,
        info: Info[GraphQLContext, None],
        k: int = 10,
        include_purchased: bool = False,
        category: str | None = None,
    ) -> list[RecommendedItem] | None:
        ctx = _ctx(info)
        ctx.need(CHATBOT)
        answer = await run_in_threadpool(
            serving.for_customer,
            ctx.store,
            self.id,
            _count(k, "k", MAX_K),
            include_purchased,
            category,
        )
        return _items(answer)

    @field(description="Latest first; null without personalization consent.")
    async def sessions(
        self, info: Info[GraphQLContext, None], limit: int = 10
    ) -> list[CustomerSession] | None:
        ctx = _ctx(info)
        ctx.need(CHATBOT)
        params = {"id": self.id, "limit": _count(limit, "limit", MAX_SESSIONS)}
        if not self.record.personal:
            return None
        rows = await run_in_threadpool(ctx.store.read, ctx.queries.customer_sessions, params)
        return [
            CustomerSession(
                id=r["id"],
                channel=r.get("channel"),
                device=r.get("device"),
                started_at=iso(r.get("started_at")),
                last_seen_at=iso(r.get("last_seen_at")),
            )
            for r in rows
        ]


@strawberry.type(description="A chat or shopping session.")
class Session:
    id: str

    @field(graphql_type=Context | None, description="As GET /v1/sessions/{id}/context.")
    async def context(
        self,
        info: Info[GraphQLContext, None],
        tz: TZ = None,
        device: DEVICE = None,
        verbosity: VERBOSITY = None,
        at: AT = None,
    ) -> ContextPublic | None:
        return await _context(info, self.id, tz, device, verbosity, at)

    @field(description="As GET /v1/sessions/{id}/recommendations.")
    async def recommendations(
        self, info: Info[GraphQLContext, None], k: int = 10, category: str | None = None
    ) -> list[RecommendedItem] | None:
        ctx = _ctx(info)
        ctx.need(CHATBOT)
        k = _count(k, "k", MAX_K)
        return _items(await run_in_threadpool(serving.for_session, ctx.store, self.id, k, category))


@strawberry.type(description="A product and its nearest products.")
class Product:
    sku: str
    name: str | None
    categories: list[str]

    @field(description="As GET /v1/products/{sku}/similar.")
    async def similar(
        self, info: Info[GraphQLContext, None], k: int = 10
    ) -> list[RecommendedItem] | None:
        ctx = _ctx(info)
        k = _count(k, "k", MAX_K)
        return _items(await run_in_threadpool(serving.similar_products, ctx.store, self.sku, k))


@strawberry.type
class Query:
    @field(description="A customer by id; null with customer_not_found when unknown.")
    async def customer(self, info: Info[GraphQLContext, None], id: str) -> Customer | None:
        ctx = _ctx(info)
        ctx.need(PROFILE)
        params = {"id": _id(id, "id"), "purpose": PURPOSE}
        rows = await run_in_threadpool(
            ctx.store.read_models, ctx.queries.customer_profile, CustomerRecord, params
        )
        if not rows:
            raise CustomerNotFound(f"no customer {id!r}")
        return Customer(id=rows[0].customer_id, record=rows[0])

    @field(description="A session by id; its fields say session_not_found.")
    def session(self, info: Info[GraphQLContext, None], id: str) -> Session | None:
        _ctx(info).need(CHATBOT)
        return Session(id=_id(id, "id"))

    @field(description="A product by SKU; null with product_not_found when unknown.")
    async def product(self, info: Info[GraphQLContext, None], sku: str) -> Product | None:
        ctx = _ctx(info)
        ctx.need(CHATBOT)
        params = {"id": _id(sku, "sku")}
        row = await run_in_threadpool(ctx.store.read_one, ctx.queries.product_card, params)
        if row is None:
            raise ProductNotFound(f"no product {sku!r}")
        return Product(sku=row["product"], name=row.get("name"), categories=row["categories"])


class CkgSchema(strawberry.Schema):
    """Logs only faults: a client's error is answered with its reason, not logged."""

    def process_errors(
        self, errors: list[Any], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_fault(error):
                logger.error("GraphQL field failed", exc_info=error.original_error)


schema = CkgSchema(
    query=Query,
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: DepthLimiter(max_depth=MAX_DEPTH),
        CostLimiter,
        ErrorReasons,
    ],
)
