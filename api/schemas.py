"""The API's public shapes: what requests carry and answers hold, one family per resource.

A family is named after its resource: `CustomerCreate` comes in, `CustomerPublic` goes out.
Every name is distinct across the API, so the OpenAPI document lists each under its own name.
Domain models that are already public as they stand (consent state, erasure receipt, personal
data fields, lifted suppression, requests report) are served as they are and re-exported here.
Times are ISO 8601 UTC strings, except in recommendation answers, which carry consent times as
epoch milliseconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StrictFloat,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from api.auth import Scope
from embeddings.serving import ReasonKind
from graph.model import EntityId, Purpose
from privacy.report import RequestsReport as RequestsReport
from privacy.subjects import ConsentState as ConsentState
from privacy.subjects import ErasureReceipt as ErasureReceipt
from privacy.subjects import PiiFields as PiiFields
from privacy.suppression import SuppressionLifted as SuppressionLifted
from privacy.times import iso

Verbosity = Literal["full", "concise"]
DeviceName = Literal["desktop", "mobile", "tablet", "unknown"]
ReadPurpose = Literal["personalization", "analytics", "profiling"]
TimezoneSource = Literal["request", "customer", "default"]


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- ids and errors ----------------------------------------------------------------------------

# `graph.model.check_id` as a JSON Schema pattern, for clients and generators: its white space
# is spelled out, because `\s` means different characters in Python and in ECMA-262 regexes.
_ID_EDGE = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
ID_PATTERN = rf"^{_ID_EDGE}(?:[^\x00-\x1f\x7f]{{0,254}}{_ID_EDGE})?$"
ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "pattern": ID_PATTERN,
    "description": "1-256 characters, no control characters, no surrounding white space.",
}
# A stored id, validated by `check_id` and documented by the schema above.
DocumentedId = Annotated[EntityId, WithJsonSchema(ID_SCHEMA)]


class _ZoneNames:
    """Documents a time zone parameter as the zones this machine knows (`ZoneInfo` refuses
    the others), read when the document is generated rather than at import."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["enum"] = sorted(available_timezones())
        return schema


TimeZoneName = Annotated[str, _ZoneNames]


class FieldErrorPublic(_Public):
    loc: list[str | int] = Field(description="Where: path, query or body, then the field.")
    msg: str
    type: str


class ErrorDetailPublic(_Public):
    reason: str = Field(description="Machine-readable, e.g. customer_not_found.")
    message: str = Field(description="For people: what went wrong and how to fix it.")
    errors: list[FieldErrorPublic] | None = Field(
        default=None, description="422 invalid_request only: every invalid field."
    )


class ErrorPublic(_Public):
    """The one shape of every error the API answers."""

    detail: ErrorDetailPublic


# --- health ------------------------------------------------------------------------------------


class HealthPublic(_Public):
    status: str
    engine: str | None = None


# --- keys ------------------------------------------------------------------------------------


class KeyPublic(_Public):
    """The presented key's name and scopes: what a tool server offers on its behalf."""

    name: str
    scopes: list[Scope]


# --- events ------------------------------------------------------------------------------------


# documented as objects; anything else is taken in and rejected as an item of its own
EventItem = Annotated[Any, WithJsonSchema({"type": "object", "additionalProperties": True})]


class EventBatchCreate(BaseModel):
    events: list[EventItem] = Field(
        min_length=1, description="Events as in the JSONL format (see README, 'Events')."
    )


class EventResultPublic(_Public):
    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: str | None = None
    reason: str | None = None
    message: str | None = None


class EventBatchPublic(_Public):
    accepted: int
    duplicates: int
    rejected: int
    items: list[EventResultPublic]


# --- consents ----------------------------------------------------------------------------------


class ConsentPublic(_Public):
    purpose: Purpose
    granted: bool
    at: str
    source: str | None = None


class ConsentStatePublic(_Public):
    customer_id: str
    consents: list[ConsentState]


class ConsentHistoryPublic(_Public):
    customer_id: str
    history: list[ConsentPublic]


class ConsentUpdate(BaseModel):
    consents: dict[Purpose, StrictBool] = Field(min_length=1, description="Purpose -> granted.")
    source: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\w:./-]+$",
        description="Where the decision was collected, e.g. web-banner.",
    )


# --- customers ---------------------------------------------------------------------------------


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


class CustomerCreate(BaseModel):
    id: DocumentedId = Field(description="The pseudonymous customer id.")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    pii: PiiFields | None = None
    consents: dict[Purpose, StrictBool] = Field(
        default_factory=dict, description="Decisions collected at sign-up; none: the defaults."
    )
    consent_source: str = Field(default="api", max_length=100, pattern=r"^[\w:./-]+$")


class CustomerCreatedPublic(_Public):
    id: str
    created: bool


class LookupRequest(BaseModel):
    """An e-mail address or a phone number (not empty); the e-mail wins when both are given."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string", "minLength": 1}}}
                for name in ("email", "phone")
            ]
        }
    )

    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)


class LookupPublic(_Public):
    customer_ids: list[str]


# --- session context ---------------------------------------------------------------------------


class ContextQuery(BaseModel):
    """The context's query parameters, validated as one model."""

    format: Literal["json", "text"] = "json"
    max_tokens: int = Field(default=400, ge=16, le=8192, description="Budget for format=text.")
    device: DeviceName | None = Field(default=None, description="Overrides the session's device.")
    verbosity: Verbosity | None = None
    tz: TimeZoneName | None = Field(default=None, max_length=64, description="IANA time zone.")
    at: datetime | None = Field(
        default=None, description="Evaluate as of this instant (ISO 8601 with offset); default now."
    )


class ViewPublic(_Public):
    product_id: str
    name: str | None = None
    views: int
    dwell_ms: int | None = Field(
        default=None, description="Time on the product's page; null when no view was timed."
    )
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
    timezone_source: TimezoneSource
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


# --- recommendations ---------------------------------------------------------------------------


class PathStepPublic(_Public):
    """A node (`label`, `id`, `name`) or a relationship (`type`, `score`) on a reason path."""

    label: str | None = None
    type: str | None = None
    id: str | None = None
    name: str | None = None
    score: float | None = None


class ReasonPublic(_Public):
    kind: ReasonKind
    text: str
    path: list[PathStepPublic]


class RecommendedProductPublic(_Public):
    product_id: str
    name: str | None
    score: float
    reason: ReasonPublic


def _iso_ms(value: object) -> object:
    return iso(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A stored time (epoch ms) as the ISO 8601 UTC string every answer uses.
IsoTime = Annotated[str, BeforeValidator(_iso_ms)]


class RecommendationConsentPublic(_Public):
    purpose: str
    granted: bool
    consent_id: str | None
    at: IsoTime | None
    source: str | None
    owner: str | None


class RecommendationsPublic(_Public):
    subject: str
    personalized: bool
    items: list[RecommendedProductPublic]
    consents: list[RecommendationConsentPublic]
    model: str | None = None


# --- analyst queries ---------------------------------------------------------------------------

# A parameter value: the scalars an analyst query compares with stored values.
_AnalystText = Annotated[str, StringConstraints(strict=True, max_length=256)]
_AnalystInt = Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)]
AnalystParamValue = Annotated[
    _AnalystText | _AnalystInt | StrictFloat | StrictBool | None,
    Field(description="A string (at most 256 characters), number, boolean or null."),
]
AnalystParamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


class AnalystQueryPublic(_Public):
    name: str = Field(description="The file's name in cypher/analyst/, without `.cypher`.")
    purpose: str
    params: list[str] = Field(description="The parameters it needs, without the `$`.")


class AnalystQueryListPublic(_Public):
    queries: list[AnalystQueryPublic]


class AnalystRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[AnalystParamName, AnalystParamValue] = Field(
        default_factory=dict,
        max_length=32,
        description="Every parameter the query names, and no other.",
    )


class GraphNodePublic(_Public):
    id: str = Field(description="Opaque; unique among the nodes and relationships of an answer.")
    labels: list[str]
    properties: dict[str, Any] = Field(description="Stored times as ISO 8601 UTC strings.")


class GraphRelationshipPublic(_Public):
    id: str
    type: str
    start: str | None = Field(description="The start node's id.")
    end: str | None = Field(description="The end node's id.")
    properties: dict[str, Any]


class AnalystResultPublic(_Public):
    query: str
    columns: list[str]
    rows: list[dict[str, Any]] = Field(
        description='Column -> value; a node or relationship is `{"~kind", "~id", ...}` '
        "with its properties, as in `nodes` and `relationships`."
    )
    truncated: bool = Field(description="True when rows beyond the limit were left off.")
    nodes: list[GraphNodePublic] = Field(description="Every node in the rows, once.")
    relationships: list[GraphRelationshipPublic] = Field(
        description="Every relationship in the rows, once."
    )


# --- integrations: Dialogflow CX webhook -------------------------------------------------------

# The subset of Dialogflow CX's WebhookRequest and WebhookResponse the webhook reads and writes,
# in Dialogflow's camelCase; unknown fields of a request are kept and ignored (Dialogflow adds
# undocumented ones).
_Camel = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)


class DialogflowSessionParameters(BaseModel):
    model_config = ConfigDict(extra="allow")

    ckg_session_id: DocumentedId | None = Field(
        default=None,
        description="The ckg session this conversation is about; when absent, the last path "
        "segment of `sessionInfo.session` (the Dialogflow session id) is taken as it.",
    )


class DialogflowSessionInfo(BaseModel):
    model_config = _Camel

    session: str | None = Field(
        default=None,
        description="projects/<p>/locations/<l>/agents/<a>[/environments/<e>]/sessions/<id>",
    )
    parameters: DialogflowSessionParameters = Field(default_factory=DialogflowSessionParameters)


class DialogflowFulfillmentInfo(BaseModel):
    model_config = _Camel

    tag: str = Field(
        default="",
        description="`recommend`: offer products; `context`: the prompt snippet as the "
        "message; anything else (`greet`): the top trigger, else a greeting.",
    )


class DialogflowWebhookRequest(BaseModel):
    """What Dialogflow CX posts to a webhook (its WebhookRequest), as far as ckg reads it."""

    model_config = _Camel

    detect_intent_response_id: str | None = None
    language_code: str | None = None
    text: str | None = None
    fulfillment_info: DialogflowFulfillmentInfo = Field(default_factory=DialogflowFulfillmentInfo)
    session_info: DialogflowSessionInfo


class DialogflowParametersPublic(_Public):
    """Session parameters the webhook sets; a personal one is null (Dialogflow then removes
    it from the session) whenever personalization consent is not in force."""

    ckg_session_id: str
    ckg_personalized: bool
    ckg_tier: str | None = Field(description="Loyalty tier; null without consent.")
    ckg_segments: list[str] | None = Field(description="Segment names; null without consent.")
    ckg_cart_items: int
    ckg_cart_value: float
    ckg_cart_abandoned: bool
    ckg_trigger_ids: list[str] = Field(description="Fired triggers, highest priority first.")
    ckg_top_trigger: str | None = Field(description="What the top trigger says, if any.")


class DialogflowSessionInfoPublic(_Public):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    parameters: DialogflowParametersPublic


class DialogflowTextPublic(_Public):
    text: list[str]


class DialogflowMessagePublic(_Public):
    text: DialogflowTextPublic


class DialogflowFulfillmentPublic(_Public):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    messages: list[DialogflowMessagePublic]
    merge_behavior: Literal["APPEND", "REPLACE"] = "APPEND"


class DialogflowWebhookPublic(_Public):
    """Dialogflow CX's WebhookResponse: what to say, and the session parameters to set."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    fulfillment_response: DialogflowFulfillmentPublic
    session_info: DialogflowSessionInfoPublic
