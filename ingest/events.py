"""Event models and `parse_event`, the one way a raw record becomes an event.

One frozen model per event type, a discriminated union on `type`; unknown fields are refused so
a producer's typo is caught instead of silently dropped. Values are normalised while parsing (see
`ingest.normalize` for the rules and the missing-value table). Parsing never consults the clock
or a store, so the same record always gives the same event or the same rejection.

Free text (page, url path, search query, chat intent, entities and text, order line names,
consent source, loyalty tier, profile values) is masked while parsing with `privacy.masking.mask`:
e-mail addresses and phone numbers become `<email>` and `<phone>` before anything is stored. Ids
are not masked: they are the caller's keys.

Rejection reasons (`EventRejected.reason`, for dead-letter counts and producers' dashboards):

| reason              | meaning                                                              |
|---------------------|----------------------------------------------------------------------|
| unknown_type        | `type` missing or not one of `EVENT_TYPES`                           |
| missing_id          | an `*_id` field absent or blank, or neither customer_id nor anonymous_id |
| missing_field       | another required field absent or blank (incl. currency for an amount)|
| bad_timestamp       | unparseable, impossible (2011-02-30), naive, or outside 1990-2100    |
| invalid_field       | wrong type or format (also: malformed ids, non-object input)         |
| invalid_text        | a string (value or key, anywhere in the record) that is not Unicode  |
|                     | text: a lone UTF-16 surrogate such as JSON's "\\ud800"               |
| value_out_of_range  | a number outside its bounds (negative, 0 qty, qty 10**12, 1e300)     |
| unknown_currency    | not an ISO 4217 code                                                 |
| unknown_country     | neither an alpha-2 code nor a country name `ingest.normalize` knows  |
| unexpected_field    | a field the event type does not have                                 |
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import cache
from typing import Annotated, Any, Literal, Self, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from graph.errors import CkgError
from graph.model import EntityId, Purpose
from ingest.normalize import (
    MAX_COUNT,
    MAX_DWELL_MS,
    MAX_LINES,
    MAX_POINTS,
    MAX_QTY,
    NormalizeError,
    clean_url,
    country_code,
    currency_code,
    epoch_ms,
    invalid_text_at,
    language_tag,
    money,
    show,
    to_utc,
)
from privacy.masking import mask

RejectReason = Literal[
    "unknown_type",
    "missing_id",
    "missing_field",
    "bad_timestamp",
    "invalid_field",
    "invalid_text",
    "value_out_of_range",
    "unknown_currency",
    "unknown_country",
    "unexpected_field",
    # raised by source adapters for rows that are real data but not customer events
    "not_customer_activity",
    # privacy policy at load time (privacy/policy.py, README "Privacy")
    "erased_subject",
    "no_analytics_consent",
]
REJECT_REASONS: tuple[RejectReason, ...] = get_args(RejectReason)
NOT_UNICODE = "text holds a lone UTF-16 surrogate, which is not Unicode"


class EventRejected(CkgError):
    """A record that is not a valid event; goes to the dead-letter with `reason` and `message`."""

    reason = "event_rejected"

    def __init__(
        self,
        reason: RejectReason,
        message: str,
        *,
        field: str | None = None,
        event_id: str | None = None,
        problems: tuple[tuple[str, RejectReason, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field
        self.event_id = event_id
        # Every (field, reason, message) found, first one above; fixing one at a time is slow.
        self.problems = problems


# --- field types -------------------------------------------------------------------------------


def _error(reason: str, message: str, field: str | None = None) -> PydanticCustomError:
    # The message goes through the context, never the template: input may contain braces.
    ctx: dict[str, Any] = {"detail": message}
    if field is not None:
        ctx["field"] = field
    return PydanticCustomError(reason, "{detail}", ctx)


def _context(info: ValidationInfo) -> Mapping[str, Any]:
    return info.context if isinstance(info.context, Mapping) else {}


def _strip_id(value: object) -> object:
    """Trim before the id check: ' C17850 ' from a CSV is the id, not a malformed one."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise _error("missing_id", "id is blank")
    return value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _timestamp(value: object, info: ValidationInfo) -> datetime:
    try:
        return to_utc(value, _context(info).get("default_tz"))
    except NormalizeError as exc:
        raise _error(exc.reason, exc.message) from None


def _country(value: object) -> str | None:
    try:
        return country_code(value)
    except NormalizeError as exc:
        raise _error(exc.reason, exc.message) from None


def _currency(value: object) -> str:
    try:
        return currency_code(value)
    except NormalizeError as exc:
        raise _error(exc.reason, exc.message) from None


def _money(value: object) -> float:
    try:
        return money(value)
    except NormalizeError as exc:
        raise _error(exc.reason, exc.message) from None


def _url(value: object) -> object:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return clean_url(value)
    except NormalizeError as exc:
        raise _error(exc.reason, exc.message) from None


def _chat_text(value: object, info: ValidationInfo) -> object:
    """Free text is personal data more often than not: kept only when the caller asks."""
    if not _context(info).get("keep_text"):
        return None
    return _blank_to_none(value)


def _text(max_length: int) -> StringConstraints:
    """Trimmed, bounded, and free of control characters other than tab and line breaks (a NUL
    cannot even travel as a query parameter)."""
    return StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=max_length,
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
    )


# Free text is masked after the checks, so the limits apply to what the producer sent.
Masked = AfterValidator(mask)

Id = Annotated[EntityId, BeforeValidator(_strip_id)]
OptId = Annotated[Id | None, BeforeValidator(_blank_to_none)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
Country = Annotated[str | None, BeforeValidator(_country)]
Currency = Annotated[str, BeforeValidator(_currency)]
OptCurrency = Annotated[Currency | None, BeforeValidator(_blank_to_none)]
Money = Annotated[float, BeforeValidator(_money)]
OptMoney = Annotated[Money | None, BeforeValidator(_blank_to_none)]
Qty = Annotated[int, Field(strict=True, gt=0, le=MAX_QTY)]
ShortText = Annotated[str, _text(64), Masked]
Text = Annotated[str, _text(256), Masked]
SearchText = Annotated[str, _text(512), Masked]
ChatText = Annotated[str, _text(4000), Masked]
Url = Annotated[str, _text(2048), Masked]  # the path only: `_url` drops query and fragment
ChannelName = Literal["web", "app", "chat", "store", "email", "import"]
CHANNELS: tuple[ChannelName, ...] = get_args(ChannelName)
Channel = Annotated[ChannelName, BeforeValidator(_lower)]
Device = Annotated[Literal["desktop", "mobile", "tablet", "unknown"], BeforeValidator(_lower)]


# --- models --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _EventBase(_Strict):
    event_id: Id
    customer_id: OptId = None
    anonymous_id: OptId = None
    timestamp: Timestamp
    channel: Channel = "web"
    device: Device = "unknown"
    country: Country = None

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        """Text that cannot be encoded would fail only when it reaches the store or a file."""
        field = invalid_text_at(data)
        if field is not None:
            raise _error("invalid_text", NOT_UNICODE, field)
        return data

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.customer_id is None and self.anonymous_id is None:
            raise _error(
                "missing_id", "customer_id or anonymous_id is required", field="customer_id"
            )
        return self

    @property
    def at_ms(self) -> int:
        """Epoch milliseconds (UTC), the time unit of the graph."""
        return epoch_ms(self.timestamp)


class _SessionEvent(_EventBase):
    """Behaviour happens in a session; the session context graph needs its id."""

    session_id: Id


class _OptionalSessionEvent(_EventBase):
    """Back-office and account changes often happen outside any session."""

    session_id: OptId = None


def _needs_currency(currency: str | None, field: str, *amounts: float | None) -> None:
    if currency is None and any(a is not None for a in amounts):
        raise _error("missing_field", f"currency is required with {field}", field="currency")


class ProductView(_SessionEvent):
    type: Literal["product_view"] = "product_view"
    product_id: Id
    category_id: OptId = None
    name: Text | None = None  # the product's name as the page shows it
    dwell_ms: Annotated[int, Field(strict=True, ge=0, le=MAX_DWELL_MS)] | None = None
    price: OptMoney = None  # the listed price, when the source shows it (e-shop clickstream)
    currency: OptCurrency = None

    @model_validator(mode="after")
    def _priced(self) -> Self:
        _needs_currency(self.currency, "price", self.price)
        return self


class PageView(_SessionEvent):
    type: Literal["page_view"] = "page_view"
    url: Annotated[Url | None, BeforeValidator(_url)] = None
    page: Annotated[Text | None, BeforeValidator(_blank_to_none)] = None

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if self.url is None and self.page is None:
            raise _error("missing_field", "page_view needs url or page", field="url")
        return self


class Search(_SessionEvent):
    type: Literal["search"] = "search"
    query: SearchText
    results: Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)] | None = None


class _CartChange(_SessionEvent):
    product_id: Id
    qty: Qty
    unit_price: Money
    currency: Currency


class AddToCart(_CartChange):
    type: Literal["add_to_cart"] = "add_to_cart"


class RemoveFromCart(_CartChange):
    type: Literal["remove_from_cart"] = "remove_from_cart"


class CheckoutStarted(_SessionEvent):
    type: Literal["checkout_started"] = "checkout_started"
    value: OptMoney = None
    currency: OptCurrency = None

    @model_validator(mode="after")
    def _priced(self) -> Self:
        _needs_currency(self.currency, "value", self.value)
        return self


class OrderLine(_Strict):
    product_id: Id
    qty: Qty
    unit_price: Money
    name: Text | None = None  # the product's name as the order shows it


class ReturnLine(_Strict):
    """Quantities are positive: `Cancellation.kind` gives the direction, not the sign."""

    product_id: Id
    qty: Qty
    unit_price: OptMoney = None


class Purchase(_SessionEvent):
    """`amount` is what was charged: shipping, tax and discounts make it differ from the lines."""

    type: Literal["purchase"] = "purchase"
    order_id: Id
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=MAX_LINES)]
    amount: Money
    currency: Currency


class Cancellation(_OptionalSessionEvent):
    """A cancelled order or a return; without lines it covers the whole order."""

    type: Literal["cancellation"] = "cancellation"
    order_id: Id
    kind: Annotated[Literal["cancellation", "return"], BeforeValidator(_lower)] = "cancellation"
    lines: Annotated[list[ReturnLine], Field(min_length=1, max_length=MAX_LINES)] | None = None
    amount: OptMoney = None
    currency: OptCurrency = None

    @model_validator(mode="after")
    def _priced(self) -> Self:
        prices = [line.unit_price for line in self.lines or ()]
        _needs_currency(self.currency, "an amount or line prices", self.amount, *prices)
        return self


class ChatTurn(_SessionEvent):
    type: Literal["chat_turn"] = "chat_turn"
    intent: ShortText
    entities: Annotated[dict[ShortText, Text], Field(max_length=32)] = Field(default_factory=dict)
    text: Annotated[ChatText | None, BeforeValidator(_chat_text)] = None


class ConsentChanged(_OptionalSessionEvent):
    """`granted` is strictly boolean: "no" or "0" must not be read as a legal answer."""

    type: Literal["consent_changed"] = "consent_changed"
    purpose: Annotated[Purpose, BeforeValidator(_lower)]
    granted: StrictBool
    source: ShortText


def _profile_value(key: str, value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise NormalizeError("invalid_field", "profile values are strings")
    if key == "country":
        return country_code(value)
    if key == "preferred_currency":
        return currency_code(value)
    if key == "language":
        return language_tag(value)
    if key == "preferred_channel":
        channel = value.strip().lower()
        if channel not in CHANNELS:
            raise NormalizeError("invalid_field", f"channel {show(value)} is not a known channel")
        return channel
    # timezone
    try:
        return ZoneInfo(value.strip()).key
    except (ZoneInfoNotFoundError, ValueError):
        raise NormalizeError("invalid_field", f"{show(value)} is not an IANA time zone") from None


# Non-personal attributes only: personal data (name, e-mail, phone, address) goes to the PII node
# through its own API, so an allow-list rather than a deny-list keeps it out of events.
PROFILE_FIELDS = ("country", "language", "preferred_channel", "preferred_currency", "timezone")


def _profile_fields(value: object) -> object:
    if not isinstance(value, Mapping):
        return value
    out: dict[str, str | None] = {}
    for key, item in value.items():
        name = f"fields.{key}"
        if key not in PROFILE_FIELDS:
            raise _error(
                "invalid_field",
                f"{show(key)} is not an allowed profile attribute ({', '.join(PROFILE_FIELDS)})",
                field=name,
            )
        try:
            clean = _profile_value(key, item)
        except NormalizeError as exc:
            raise _error(exc.reason, exc.message, field=name) from None
        out[key] = None if clean is None else mask(clean)
    return out


class ProfileUpdated(_OptionalSessionEvent):
    type: Literal["profile_updated"] = "profile_updated"
    fields: Annotated[dict[str, str | None], BeforeValidator(_profile_fields), Field(min_length=1)]


class LoyaltyUpdated(_OptionalSessionEvent):
    type: Literal["loyalty_updated"] = "loyalty_updated"
    points: Annotated[int, Field(strict=True, ge=0, le=MAX_POINTS)]
    tier: ShortText


Event = Annotated[
    ProductView
    | PageView
    | Search
    | AddToCart
    | RemoveFromCart
    | CheckoutStarted
    | Purchase
    | Cancellation
    | ChatTurn
    | ConsentChanged
    | ProfileUpdated
    | LoyaltyUpdated,
    Field(discriminator="type"),
]

EVENT_TYPES: dict[str, type[_EventBase]] = {
    model.model_fields["type"].default: model
    for model in (
        ProductView,
        PageView,
        Search,
        AddToCart,
        RemoveFromCart,
        CheckoutStarted,
        Purchase,
        Cancellation,
        ChatTurn,
        ConsentChanged,
        ProfileUpdated,
        LoyaltyUpdated,
    )
}


def identity_id(anonymous_id: str) -> str:
    """The id of the Identity node an anonymous (visitor) id is stored as."""
    return f"anon:{anonymous_id}"


# --- parsing -------------------------------------------------------------------------------------


@cache
def _adapter() -> TypeAdapter[Event]:
    return TypeAdapter(Event)


_RANGE_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
        "int_parsing_size",
        "too_long",
        "string_too_long",
    }
)


def _problem(err: ErrorDetails) -> tuple[str, RejectReason, str]:
    """One pydantic error as (field, reason, message)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = err["loc"][1:]  # the first element is the event type (the union's tag)
    field = str(ctx.get("field") or ".".join(str(part) for part in loc))
    last = str(loc[-1]) if loc else field
    reason: RejectReason
    message = str(ctx.get("detail") or err["msg"]).removeprefix("Value error, ")
    if kind in REJECT_REASONS:
        reason = kind  # our own codes, raised by the validators
    elif kind in ("union_tag_not_found", "union_tag_invalid"):
        reason, field = "unknown_type", "type"
        tag = ctx.get("tag")
        message = (
            "type is required"
            if kind == "union_tag_not_found"
            else f"unknown event type {show(tag)}; expected one of {', '.join(EVENT_TYPES)}"
        )
    elif kind == "extra_forbidden":
        reason, message = "unexpected_field", "field not allowed for this event type"
    elif kind in ("missing", "string_too_short", "too_short"):
        if last.endswith("_id"):
            reason = "missing_id"
        elif last == "timestamp":
            reason = "bad_timestamp"
        else:
            reason = "missing_field"
        message = "required" if kind == "missing" else "must not be empty"
    elif kind in _RANGE_ERRORS:
        reason = "value_out_of_range"
    elif last == "timestamp":
        reason = "bad_timestamp"
    else:
        reason = "invalid_field"
    return field, reason, message


def parse_event(
    raw: Mapping[str, Any], *, keep_text: bool = False, default_tz: tzinfo | None = None
) -> Event:
    """Validate, normalise and mask one raw record; raises `EventRejected` and nothing else.

    `keep_text` keeps chat turns' free text (off by default: it is personal data more often than
    not). `default_tz` is the zone a source writes naive times in (e.g. Europe/London for the
    online-retail file); without it naive times are rejected.
    """
    if not isinstance(raw, Mapping):
        raise EventRejected("invalid_field", "an event must be a JSON object")
    data = dict(raw)
    event_id = data.get("event_id")
    if not isinstance(event_id, str) or invalid_text_at(event_id) is not None:
        event_id = None  # the rejection must be writable, in JSON and in the dead-letter file
    else:
        event_id = event_id.strip() or None
    if invalid_text_at(data.get("type")) is not None:  # the models' own check comes after the tag
        message = f"type: {NOT_UNICODE}"
        raise EventRejected("invalid_text", message, field="type", event_id=event_id)
    context = {"keep_text": keep_text, "default_tz": default_tz}
    try:
        return _adapter().validate_python(data, context=context)
    except ValidationError as exc:
        problems = tuple(_problem(err) for err in exc.errors(include_url=False))
    field, reason, message = problems[0]
    raise EventRejected(
        reason, f"{field}: {message}", field=field, event_id=event_id, problems=problems
    )
