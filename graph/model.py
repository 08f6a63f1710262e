"""The graph model: labels, relationship types and the properties each node carries.

These enums are the whitelist for identifiers: any label or relationship type that reaches
Cypher text must be one of them (Cypher cannot take labels as parameters). Times are stored as
epoch milliseconds (UTC) because both engines compare and index integers the same way, whereas
temporal types differ between Neo4j and FalkorDB.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from graph.errors import CkgError


class Label(StrEnum):
    CUSTOMER = "Customer"
    IDENTITY = "Identity"
    PII = "PII"
    LOYALTY_TIER = "LoyaltyTier"
    CONSENT = "Consent"
    SESSION = "Session"
    EVENT = "Event"
    PRODUCT = "Product"
    CATEGORY = "Category"
    SEARCH_QUERY = "Query"
    CART = "Cart"
    ORDER = "Order"
    SEGMENT = "Segment"
    MODEL = "Model"
    ERASURE = "Erasure"
    AUDIT = "Audit"
    LEASE = "Lease"


class RelType(StrEnum):
    IDENTIFIED_BY = "IDENTIFIED_BY"
    HAS_PII = "HAS_PII"
    HAS_TIER = "HAS_TIER"
    HAS_CONSENT = "HAS_CONSENT"
    HAD_SESSION = "HAD_SESSION"
    FIRST = "FIRST"
    NEXT = "NEXT"
    IN_SESSION = "IN_SESSION"
    HAD_EVENT = "HAD_EVENT"
    ABOUT = "ABOUT"
    VIEWED = "VIEWED"
    SEARCHED = "SEARCHED"
    HAS_CART = "HAS_CART"
    CONTAINS = "CONTAINS"
    PLACED = "PLACED"
    PURCHASED = "PURCHASED"
    IN_CATEGORY = "IN_CATEGORY"
    IN_SEGMENT = "IN_SEGMENT"
    WAS_IN_SEGMENT = "WAS_IN_SEGMENT"  # a membership a later segmentation run ended
    SIMILAR = "SIMILAR"
    RECOMMENDED = "RECOMMENDED"


# Labels whose `id` is unique: constrained on Neo4j, indexed on FalkorDB (cypher/schema/*).
KEYED_LABELS: tuple[Label, ...] = (
    Label.CUSTOMER,
    Label.PRODUCT,
    Label.CATEGORY,
    Label.SESSION,
    Label.EVENT,
    Label.SEGMENT,
    Label.LOYALTY_TIER,
    Label.CONSENT,
    Label.MODEL,
    Label.IDENTITY,
    Label.CART,
    Label.ORDER,
    Label.SEARCH_QUERY,
    Label.PII,
    Label.ERASURE,
    Label.LEASE,
)


def label(value: str) -> Label:
    """Whitelist check for a label coming from outside (a CLI flag, a request)."""
    try:
        return Label(value)
    except ValueError:
        raise CkgError(f"unknown label {value!r}") from None


def rel_type(value: str) -> RelType:
    try:
        return RelType(value)
    except ValueError:
        raise CkgError(f"unknown relationship type {value!r}") from None


_ID_RE = re.compile(r"^[^\x00-\x1f\x7f\s](?:[^\x00-\x1f\x7f]{0,254}[^\x00-\x1f\x7f\s])?$")


@lru_cache(maxsize=1 << 16)
def _id_ok(value: str) -> bool:
    """Memoised: a load checks the same product and customer ids hundreds of times."""
    return _ID_RE.fullmatch(value) is not None


def check_id(value: str) -> str:
    """Ids are 1-256 characters, no control characters, no leading or trailing white space.

    Beyond hygiene, FalkorDB's range index misses strings that are empty, start or end with white
    space, or hold control characters (FalkorDB issues #647, #1340): such an id would be stored
    but never found again, so it is refused at the edge instead.
    """
    if not isinstance(value, str) or len(value) > 256 or not _id_ok(value):
        raise ValueError(
            "ids are 1-256 characters without control characters or surrounding white space"
        )
    return value


EntityId = Annotated[str, AfterValidator(check_id)]

Purpose = Literal["personalization", "analytics", "marketing", "profiling", "sale_of_data"]
SegmentKind = Literal["rfm", "cluster", "community"]


class Node(BaseModel):
    """Base for node models: unknown properties are ignored so old readers survive new fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Customer(Node):
    id: str
    created_at: int | None = None
    country: str | None = None
    first_seen_at: int | None = None
    last_seen_at: int | None = None
    ltv: float = 0.0
    orders: int = 0
    points: int = 0
    rfm_r: int | None = Field(default=None, ge=1, le=5)
    rfm_f: int | None = Field(default=None, ge=1, le=5)
    rfm_m: int | None = Field(default=None, ge=1, le=5)


class Identity(Node):
    id: str  # "<kind>:<value>", e.g. "anon:abc123"
    kind: str
    linked_at: int | None = None


class PII(Node):
    id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    email_token: str | None = None
    phone_token: str | None = None
    updated_at: int | None = None


class LoyaltyTier(Node):
    id: str
    name: str
    rank: int


class Consent(Node):
    id: str
    purpose: Purpose
    granted: bool
    at: int
    source: str


class Session(Node):
    id: str
    started_at: int | None = None
    last_seen_at: int | None = None
    channel: str | None = None
    device: str | None = None
    country: str | None = None
    intent: str | None = None
    # counters per event type, kept by ingestion so funnels read a session, not its events
    events: int = 0
    views: int = 0
    searches: int = 0
    cart_adds: int = 0
    checkouts: int = 0
    purchases: int = 0
    chats: int = 0


class Event(Node):
    id: str
    type: str
    at: int
    channel: str | None = None
    device: str | None = None
    dwell_ms: int | None = None
    qty: int | None = None
    amount: float | None = None
    currency: str | None = None
    query: str | None = None  # a search event's text (masked), read by context replays
    results: int | None = None  # a search event's result count, when the source sent one
    tier: str | None = None  # a loyalty event's tier: its history, where HAS_TIER is the latest
    outlier: bool = False
    outlier_fields: list[str] | None = None  # see ingest/outliers.py
    outlier_rule: str | None = None


class Product(Node):
    id: str
    name: str | None = None
    price: float | None = None
    currency: str | None = None
    popularity: float | None = None  # recent buyers scaled to [0, 1], set by `ckg embed`


class Category(Node):
    id: str
    name: str | None = None


class SearchQuery(Node):
    id: str
    text: str


class Cart(Node):
    id: str
    updated_at: int | None = None
    value: float = 0.0


class Order(Node):
    id: str
    at: int
    amount: float
    currency: str | None = None
    cancelled: bool = False
    purchased: bool = False  # a purchase event named it (an order only returned stays false)


class Segment(Node):
    id: str
    kind: SegmentKind
    name: str
    size: int = 0
    model: str | None = None
    profile: str | None = None  # JSON: mean R/F/M scores, medians of recency, orders, spend
    retired_at: int | None = None  # no longer produced, kept while history points at it


class Model(Node):
    id: str
    kind: str
    params: str  # JSON text: both engines store maps only as strings
    seed: int
    metrics: str | None = None
    snapshot: str | None = None  # JSON: what data the model was trained on
    created_at: int
    promoted: bool = False
    stale: bool = False  # trained with data of a subject erased since
    stale_at: int | None = None


class Erasure(Node):
    """An erasure receipt: keyed hashes and counts only, never personal data."""

    id: str  # the subject hash
    subject_hash: str
    aliases: list[str] = Field(default_factory=list)  # hashes of erased aliases: suppressed
    at: int
    counts: str  # JSON text
    verified: bool | None = None
    previous: str | None = None  # the id of the subject's receipt before this one
    lifted_at: int | None = None  # the suppression was lifted (an audited admin action)


class Audit(Node):
    """One privacy request (export, erasure, consent change, suppression lifted) and how it
    ended; the subject only as its keyed hash, so erasures keep the trail."""

    id: str
    action: str
    subject_hash: str
    actor: str  # the API key's name, or "cli"
    at: int  # received
    completed_at: int
    duration_ms: int
    outcome: str  # complied, denied, not_found, failed
    receipt: str | None = None  # the erasure receipt's id
    purposes_granted: list[str] = Field(default_factory=list)
    purposes_withdrawn: list[str] = Field(default_factory=list)


class Lease(Node):
    """A writer lease on engines without a process-wide lock (Neo4j): who holds it and until
    when, in the server's clock. Present only while held, or left by a holder that died."""

    id: str  # the lease's name: "writer"
    holder: str  # a random token per acquisition
    expires_at: int
    touched_at: int


NODE_MODELS: dict[Label, type[Node]] = {
    Label.CUSTOMER: Customer,
    Label.IDENTITY: Identity,
    Label.PII: PII,
    Label.LOYALTY_TIER: LoyaltyTier,
    Label.CONSENT: Consent,
    Label.SESSION: Session,
    Label.EVENT: Event,
    Label.PRODUCT: Product,
    Label.CATEGORY: Category,
    Label.SEARCH_QUERY: SearchQuery,
    Label.CART: Cart,
    Label.ORDER: Order,
    Label.SEGMENT: Segment,
    Label.MODEL: Model,
    Label.ERASURE: Erasure,
    Label.AUDIT: Audit,
    Label.LEASE: Lease,
}

# Relationship properties, for the linter's schema and for readers.
REL_PROPERTIES: dict[RelType, tuple[str, ...]] = {
    RelType.HAS_TIER: ("since",),
    RelType.VIEWED: ("count", "dwell_ms", "last_at"),
    RelType.SEARCHED: ("count", "last_at"),
    RelType.CONTAINS: ("qty", "unit_price"),
    RelType.PURCHASED: ("count", "qty", "amount", "last_at"),
    RelType.IN_SEGMENT: ("score", "model", "since", "run"),
    RelType.WAS_IN_SEGMENT: ("since", "until", "score", "model"),
    RelType.SIMILAR: ("score", "model", "rank"),
    RelType.RECOMMENDED: (
        "score",
        "rank",
        "rank_all",
        "reason",
        "via",
        "via_score",
        "buyers",
        "model",
    ),
    RelType.ABOUT: ("role",),
}


# Keys of the maps the code passes in `$rows` batches (the linter checks map access too).
ROW_KEYS: tuple[str, ...] = (
    "props",
    "category",
    "prev",
    "vector",
    "ids",
    "scores",
    "popularity",
    "customer",
    "segment",
    "kind",
    "r",
    "f",
    "m",
    "profile",
    "buyer",
    "bought",
    "items",
    "product",
)


def property_keys() -> list[str]:
    # `embedding`, and Erasure properties set by the privacy queries beside its model fields
    keys: set[str] = {"embedding", "verified", "aliases", *ROW_KEYS}
    for model in NODE_MODELS.values():
        keys.update(model.model_fields)
    for props in REL_PROPERTIES.values():
        keys.update(props)
    return sorted(keys)


def parse_node(lbl: Label, props: dict[str, Any]) -> Node:
    """Records become models here and nowhere else."""
    return NODE_MODELS[lbl].model_validate(props)
