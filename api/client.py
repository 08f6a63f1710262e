"""A typed client for the ckg HTTP API: what bots, the examples and the MCP server call.

It needs httpx and pydantic only, so an integrator's process (a Rasa action server, an agent)
installs neither the store drivers nor the models. The answer models name the fields a bot
reads and keep any others (`extra="allow"`): a newer server never breaks an older client, and
a test holds every field named here to the server's OpenAPI document.

Every call is safe to repeat (reads, consent updates that set a state, events that are
idempotent by `event_id`), so all of them are retried on 502/503/504 and on connection errors,
waiting what `Retry-After` asks (capped) or a growing back-off.

    with CkgClient("http://127.0.0.1:8000", api_key) as ckg:
        print(ckg.context_text("retail:536365", ContextOptions(max_tokens=120)))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict

__all__ = [
    "AsyncCkgClient",
    "AuthError",
    "CkgApiError",
    "CkgClient",
    "ConsentState",
    "ContextOptions",
    "Customer",
    "EventBatchResult",
    "InvalidRequest",
    "KeyInfo",
    "NotFoundError",
    "Recommendations",
    "SessionContext",
    "Unavailable",
]

RETRY_STATUSES = frozenset({502, 503, 504})
MAX_WAIT_S = 30.0  # a Retry-After beyond this is cut to it

# --- answers -------------------------------------------------------------------------------


class Answer(BaseModel):
    """Base of the answer models: unknown fields are kept, never an error."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Consent(Answer):
    purpose: str
    granted: bool
    at: str | None = None
    source: str | None = None


class Segment(Answer):
    kind: str | None = None
    name: str | None = None
    score: float | None = None


class Rfm(Answer):
    r: int | None = None
    f: int | None = None
    m: int | None = None


class CustomerSummary(Answer):
    id: str
    tier: str | None = None
    points: int = 0
    lifetime_value: float = 0.0
    orders: int = 0
    rfm: Rfm | None = None
    segments: list[Segment] = []
    preferred_categories: list[str] = []
    first_seen: str | None = None
    last_seen: str | None = None
    country: str | None = None


class Customer(Answer):
    id: str
    purpose: str
    personalized: bool
    profile: CustomerSummary | None = None
    consents: list[Consent] = []


class CartLine(Answer):
    product_id: str
    name: str | None = None
    qty: int
    unit_price: float | None = None
    value: float | None = None


class Cart(Answer):
    lines: list[CartLine] = []
    items: int = 0
    value: float = 0.0
    idle_minutes: float | None = None
    abandoned: bool = False


class View(Answer):
    product_id: str
    name: str | None = None
    views: int = 0


class SessionState(Answer):
    id: str
    channel: str | None = None
    device: str | None = None
    started_at: str | None = None
    last_seen_at: str | None = None
    intent: str | None = None
    views: list[View] = []
    cart: Cart


class Trigger(Answer):
    id: str
    priority: int
    say: str


class Suggestion(Answer):
    """A product the context suggests, and why (`source`: similar, recommended, popular)."""

    product_id: str
    name: str | None = None
    score: float | None = None
    source: str
    personal: bool
    reason: str


class SessionContext(Answer):
    session_id: str
    as_of: str
    personalized: bool
    anonymous: bool
    customer_id: str | None = None
    customer: CustomerSummary | None = None
    session: SessionState
    triggers: list[Trigger] = []
    recommendations: list[Suggestion] = []
    consents: list[Consent] = []


class PathStep(Answer):
    label: str | None = None
    type: str | None = None
    id: str | None = None
    name: str | None = None
    score: float | None = None


class Reason(Answer):
    kind: str
    text: str
    path: list[PathStep] = []


class RecommendedProduct(Answer):
    product_id: str
    name: str | None = None
    score: float
    reason: Reason


class Recommendations(Answer):
    subject: str
    personalized: bool
    items: list[RecommendedProduct] = []
    model: str | None = None


class EventResult(Answer):
    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: str | None = None
    reason: str | None = None
    message: str | None = None


class EventBatchResult(Answer):
    """Per item: accepted, duplicate (already stored) or rejected with its reason; the
    accepted ones are stored even when others are rejected."""

    accepted: int
    duplicates: int
    rejected: int
    items: list[EventResult] = []


class ConsentDecision(Answer):
    purpose: str
    granted: bool
    at: str | None = None
    source: str | None = None
    default: bool = False


class ConsentState(Answer):
    customer_id: str
    consents: list[ConsentDecision] = []

    def granted(self, purpose: str) -> bool:
        return any(c.purpose == purpose and c.granted for c in self.consents)


class KeyInfo(Answer):
    """The key the client presents: its name and scopes."""

    name: str
    scopes: list[str] = []


# --- errors --------------------------------------------------------------------------------


class CkgApiError(Exception):
    """The API refused or failed a call: its status, machine-readable reason and message."""

    def __init__(
        self, status: int, reason: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class AuthError(CkgApiError):
    """401 (no or unknown key) or 403 (the key lacks the scope)."""


class NotFoundError(CkgApiError):
    """404: no such session, customer or product."""


class InvalidRequest(CkgApiError):
    """400/409/413/422: the call itself must change."""


class Unavailable(CkgApiError):
    """503 (or a broken connection) after the last retry."""


_ERRORS: dict[int, type[CkgApiError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    503: Unavailable,
}


def _error(response: httpx.Response) -> CkgApiError:
    reason, message = "http_error", response.reason_phrase or str(response.status_code)
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict):
        reason = str(detail.get("reason", reason))
        message = str(detail.get("message", message))
    status = response.status_code
    kind = _ERRORS.get(status, InvalidRequest if 400 <= status < 500 else CkgApiError)
    return kind(status, reason, message, _retry_after(response))


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return min(MAX_WAIT_S, max(0.0, float(raw))) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the back-off


# --- calls ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request and how its answer is read: the part both clients share."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    model: type[Answer] | None = None  # None: the answer is text
    also_ok: tuple[int, ...] = ()  # statuses whose body is still the answer

    def read(self, response: httpx.Response) -> Any:
        if response.status_code != 200 and response.status_code not in self.also_ok:
            raise _error(response)
        if self.model is None:
            return response.text
        return self.model.model_validate(response.json())


def _id(value: str) -> str:
    return quote(value, safe="")


def _query(**params: Any) -> dict[str, Any]:
    """Query parameters without the unset ones; times as ISO 8601, flags as true/false."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[name] = value
    return out


@dataclass(frozen=True)
class ContextOptions:
    """How the context is read: the route's query parameters (see the API reference)."""

    max_tokens: int | None = None  # the text snippet's budget
    tz: str | None = None  # IANA zone for the temporal part
    device: str | None = None  # overrides the session's device
    verbosity: str | None = None  # full or concise
    at: datetime | None = None  # replay as of this instant (with a UTC offset)


def context_call(session_id: str, fmt: Literal["json", "text"], opts: ContextOptions) -> Call:
    model = SessionContext if fmt == "json" else None
    query = _query(
        format=fmt,
        max_tokens=opts.max_tokens,
        tz=opts.tz,
        device=opts.device,
        verbosity=opts.verbosity,
        at=opts.at,
    )
    return Call("GET", f"/v1/sessions/{_id(session_id)}/context", query, model=model)


def customer_recommendations_call(
    customer_id: str, k: int, include_purchased: bool, category: str | None
) -> Call:
    query = _query(k=k, include_purchased=include_purchased, category=category)
    path = f"/v1/customers/{_id(customer_id)}/recommendations"
    return Call("GET", path, query, model=Recommendations)


def session_recommendations_call(session_id: str, k: int, category: str | None) -> Call:
    path = f"/v1/sessions/{_id(session_id)}/recommendations"
    return Call("GET", path, _query(k=k, category=category), model=Recommendations)


def similar_products_call(sku: str, k: int) -> Call:
    path = f"/v1/products/{_id(sku)}/similar"
    return Call("GET", path, _query(k=k), model=Recommendations)


def events_call(events: Sequence[Mapping[str, Any]]) -> Call:
    # 422 carries the batch's outcome: the rejected items' reasons, the others stored
    body = {"events": list(events)}
    return Call("POST", "/v1/events", body=body, model=EventBatchResult, also_ok=(422,))


def customer_call(customer_id: str, purpose: str) -> Call:
    path = f"/v1/customers/{_id(customer_id)}"
    return Call("GET", path, _query(purpose=purpose), model=Customer)


def consents_call(customer_id: str) -> Call:
    return Call("GET", f"/v1/customers/{_id(customer_id)}/consents", model=ConsentState)


def key_call() -> Call:
    return Call("GET", "/v1/keys/self", model=KeyInfo)


def update_consents_call(customer_id: str, decisions: Mapping[str, bool], source: str) -> Call:
    body = {"consents": dict(decisions), "source": source}
    path = f"/v1/customers/{_id(customer_id)}/consents"
    return Call("PUT", path, body=body, model=ConsentState)


@dataclass
class Retry:
    """When to try a call again: after `Retry-After` (capped) or back-off, `retries` times."""

    retries: int = 3
    backoff_s: float = 0.25
    max_wait_s: float = MAX_WAIT_S

    def wait(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before the next attempt, or None to stop here."""
        if attempt >= self.retries:
            return None
        if response is not None:
            if response.status_code not in RETRY_STATUSES:
                return None
            after = _retry_after(response)
            if after is not None:
                return min(self.max_wait_s, after)
        return min(self.max_wait_s, self.backoff_s * 2.0**attempt)


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Accept": "application/json, text/plain"}


def _broken(exc: httpx.TransportError) -> Unavailable:
    return Unavailable(503, "connection_failed", f"{type(exc).__name__}: {exc}")


# --- the clients ---------------------------------------------------------------------------


class CkgClient:
    """Blocking client; one connection pool per instance (use it as a context manager)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        max_wait_s: float = MAX_WAIT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry = Retry(retries, max_wait_s=max_wait_s)
        self._http = httpx.Client(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    def send(self, call: Call) -> Any:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = self._http.request(
                    call.method, call.path, params=dict(call.params), json=call.body
                )
            except httpx.TransportError as exc:
                if (pause := self.retry.wait(attempt, None)) is None:
                    raise _broken(exc) from exc
            else:
                if (pause := self.retry.wait(attempt, response)) is None:
                    return call.read(response)
            time.sleep(pause)
            attempt += 1

    def context(self, session_id: str, opts: ContextOptions | None = None) -> SessionContext:
        """Who is this, what are they doing, what to offer: the chatbot's read per turn."""
        call = context_call(session_id, "json", opts or ContextOptions())
        answer: SessionContext = self.send(call)
        return answer

    def context_text(self, session_id: str, opts: ContextOptions | None = None) -> str:
        """The same as a prompt snippet within `opts.max_tokens`, as the bot pastes it."""
        text: str = self.send(context_call(session_id, "text", opts or ContextOptions()))
        return text

    def customer_recommendations(
        self,
        customer_id: str,
        *,
        k: int = 10,
        include_purchased: bool = False,
        category: str | None = None,
    ) -> Recommendations:
        call = customer_recommendations_call(customer_id, k, include_purchased, category)
        answer: Recommendations = self.send(call)
        return answer

    def session_recommendations(
        self, session_id: str, *, k: int = 10, category: str | None = None
    ) -> Recommendations:
        answer: Recommendations = self.send(session_recommendations_call(session_id, k, category))
        return answer

    def similar_products(self, sku: str, *, k: int = 10) -> Recommendations:
        answer: Recommendations = self.send(similar_products_call(sku, k))
        return answer

    def record_events(self, events: Sequence[Mapping[str, Any]]) -> EventBatchResult:
        answer: EventBatchResult = self.send(events_call(events))
        return answer

    def customer(self, customer_id: str, *, purpose: str = "personalization") -> Customer:
        answer: Customer = self.send(customer_call(customer_id, purpose))
        return answer

    def consents(self, customer_id: str) -> ConsentState:
        answer: ConsentState = self.send(consents_call(customer_id))
        return answer

    def update_consents(
        self, customer_id: str, decisions: Mapping[str, bool], *, source: str
    ) -> ConsentState:
        answer: ConsentState = self.send(update_consents_call(customer_id, decisions, source))
        return answer

    def key(self) -> KeyInfo:
        """What this client's key may do."""
        answer: KeyInfo = self.send(key_call())
        return answer

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CkgClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncCkgClient:
    """The same calls for asyncio code (agents, the MCP server)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        max_wait_s: float = MAX_WAIT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.retry = Retry(retries, max_wait_s=max_wait_s)
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    async def send(self, call: Call) -> Any:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = await self._http.request(
                    call.method, call.path, params=dict(call.params), json=call.body
                )
            except httpx.TransportError as exc:
                if (pause := self.retry.wait(attempt, None)) is None:
                    raise _broken(exc) from exc
            else:
                if (pause := self.retry.wait(attempt, response)) is None:
                    return call.read(response)
            await asyncio.sleep(pause)
            attempt += 1

    async def context(self, session_id: str, opts: ContextOptions | None = None) -> SessionContext:
        call = context_call(session_id, "json", opts or ContextOptions())
        answer: SessionContext = await self.send(call)
        return answer

    async def context_text(self, session_id: str, opts: ContextOptions | None = None) -> str:
        text: str = await self.send(context_call(session_id, "text", opts or ContextOptions()))
        return text

    async def customer_recommendations(
        self,
        customer_id: str,
        *,
        k: int = 10,
        include_purchased: bool = False,
        category: str | None = None,
    ) -> Recommendations:
        call = customer_recommendations_call(customer_id, k, include_purchased, category)
        answer: Recommendations = await self.send(call)
        return answer

    async def session_recommendations(
        self, session_id: str, *, k: int = 10, category: str | None = None
    ) -> Recommendations:
        call = session_recommendations_call(session_id, k, category)
        answer: Recommendations = await self.send(call)
        return answer

    async def similar_products(self, sku: str, *, k: int = 10) -> Recommendations:
        answer: Recommendations = await self.send(similar_products_call(sku, k))
        return answer

    async def record_events(self, events: Sequence[Mapping[str, Any]]) -> EventBatchResult:
        answer: EventBatchResult = await self.send(events_call(events))
        return answer

    async def customer(self, customer_id: str, *, purpose: str = "personalization") -> Customer:
        answer: Customer = await self.send(customer_call(customer_id, purpose))
        return answer

    async def consents(self, customer_id: str) -> ConsentState:
        answer: ConsentState = await self.send(consents_call(customer_id))
        return answer

    async def update_consents(
        self, customer_id: str, decisions: Mapping[str, bool], *, source: str
    ) -> ConsentState:
        call = update_consents_call(customer_id, decisions, source)
        answer: ConsentState = await self.send(call)
        return answer

    async def key(self) -> KeyInfo:
        answer: KeyInfo = await self.send(key_call())
        return answer

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncCkgClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
