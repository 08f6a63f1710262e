"""GET /v1/customers/{id}: the pseudonymous profile, for a declared purpose."""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.context import consents_public, customer_summary
from api.deps import PathId, ProfileKey, SettingsDep, StoreDep, require
from api.schemas import CustomerPublic
from graph.errors import CustomerNotFound
from graph.model import EntityId, Purpose
from graph.queries import Queries
from graph.records import CustomerRecord
from privacy.subjects import (
    ErasureReceipt,
    PiiFields,
    create_customer,
    erase,
    export,
    find_customer,
    set_pii,
)
from privacy.tokens import privacy_key

router = APIRouter(prefix="/v1/customers", tags=["customers"])

ReadPurpose = Literal["personalization", "analytics", "profiling"]
WriteKey = Annotated[ApiKey, Depends(require("ingest:write"))]
LookupKey = Annotated[ApiKey, Depends(require("chatbot:read", "privacy:admin"))]
AdminKey = Annotated[ApiKey, Depends(require("privacy:admin"))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown customer (customer_not_found)."}
}


class CustomerCreate(BaseModel):
    id: EntityId = Field(description="The pseudonymous customer id.")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    pii: PiiFields | None = None
    consents: dict[Purpose, bool] = Field(
        default_factory=dict, description="Decisions collected at sign-up; none: the defaults."
    )
    consent_source: str = Field(default="api", max_length=100, pattern=r"^[\w:./-]+$")


class CustomerCreatedPublic(BaseModel):
    id: str
    created: bool


class LookupRequest(BaseModel):
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)


class LookupPublic(BaseModel):
    customer_ids: list[str]


@router.get(
    "/{customer_id}",
    response_model=CustomerPublic,
    responses={
        404: {"description": "Unknown customer (reason customer_not_found)."},
        503: {"description": "Store unavailable; retry after the Retry-After seconds."},
    },
)
def get_customer(
    customer_id: PathId,
    request: Request,
    store: StoreDep,
    _key: ProfileKey,
    purpose: Annotated[
        ReadPurpose, Query(description="Why you read it; the consent that must be in force.")
    ] = "personalization",
) -> CustomerPublic:
    """Tier, points, segments, RFM, lifetime value, preferred categories, last seen — no PII.

    Only the consents are returned when the purpose's consent is not in force.
    """
    q: Queries = request.app.state.queries
    rows = store.read_models(
        q.customer_profile, CustomerRecord, {"id": customer_id, "purpose": purpose}
    )
    if not rows:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    rec = rows[0]
    return CustomerPublic(
        id=rec.customer_id,
        purpose=purpose,
        personalized=rec.personal,
        profile=customer_summary(rec.customer_id, rec) if rec.personal else None,
        consents=consents_public(rec.consents),
    )


@router.post("", response_model=CustomerCreatedPublic, status_code=201)
def post_customer(
    body: CustomerCreate,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    _key: WriteKey,
) -> CustomerCreatedPublic:
    """Create a customer; personal data goes to its PII node only, e-mail and phone also as
    keyed tokens. Without decisions, the configured consent defaults (opt-in: all denied) are
    recorded. 200 instead of 201 when the id exists (nothing is overwritten but the PII)."""
    q: Queries = request.app.state.queries
    created = create_customer(
        store,
        q,
        privacy_key(settings),
        body.id,
        body.country,
        body.pii,
        body.consents,
        settings.consent_defaults,
        body.consent_source,
    )
    if not created:
        response.status_code = 200
    return CustomerCreatedPublic(id=body.id, created=created)


@router.put("/{customer_id}/pii", status_code=204, responses=NOT_FOUND)
def put_pii(
    customer_id: PathId,
    body: PiiFields,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _key: WriteKey,
) -> Response:
    """Replace the customer's personal data."""
    set_pii(store, request.app.state.queries, privacy_key(settings), customer_id, body)
    return Response(status_code=204)


@router.post("/lookup", response_model=LookupPublic)
def lookup(
    body: LookupRequest, request: Request, store: StoreDep, settings: SettingsDep, _key: LookupKey
) -> LookupPublic:
    """Which customer an e-mail address or phone number belongs to, matched by keyed token."""
    ids = find_customer(
        store, request.app.state.queries, privacy_key(settings), email=body.email, phone=body.phone
    )
    return LookupPublic(customer_ids=ids)


@router.get("/{customer_id}/export", responses=NOT_FOUND)
def get_export(
    customer_id: PathId, request: Request, store: StoreDep, _key: AdminKey
) -> dict[str, Any]:
    """Everything held on the person, as JSON (data subject access request)."""
    return export(store, request.app.state.queries, customer_id)


@router.delete("/{customer_id}", response_model=ErasureReceipt, responses=NOT_FOUND)
def delete_customer(
    customer_id: PathId, request: Request, store: StoreDep, settings: SettingsDep, _key: AdminKey
) -> ErasureReceipt:
    """Erase the person's whole subgraph and suppress later events for them; idempotent: a
    repeat returns the first receipt (`already_erased: true`)."""
    lock: threading.Lock = request.app.state.ingest_lock
    with lock, store.exclusive():
        return erase(store, request.app.state.queries, privacy_key(settings), customer_id)
