"""Customers: the pseudonymous profile read for a declared purpose, and the data-subject routes.

Creation, personal data, lookup by keyed token, export and erasure go through the privacy room
(privacy/pii.py, export.py, erasure.py); the tokens' key is the one read at start-up
(api.deps.PrivacyKey). An erased id is refused on every write (409, `erased_subject`).
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.context import consents_public, customer_summary
from api.deps import (
    AdminKey,
    ChatbotOrAdminKey,
    ChatbotOrAnalystKey,
    IngestKey,
    PathId,
    PrivacyKey,
    SettingsDep,
    StoreDep,
)
from api.schemas import (
    CustomerCreate,
    CustomerCreatedPublic,
    CustomerPublic,
    ErasureReceipt,
    LookupPublic,
    LookupRequest,
    PiiFields,
    ReadPurpose,
)
from api.text import require_text
from graph.errors import CustomerNotFound
from graph.queries import Queries
from graph.records import CustomerRecord
from privacy.erasure import erase
from privacy.export import export
from privacy.pii import create_customer, find_customer, set_pii

router = APIRouter(prefix="/v1/customers", tags=["customers"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown customer (customer_not_found)."}
}
ERASED: dict[int | str, dict[str, Any]] = {
    409: {"description": "The subject was erased; nothing is stored for it (erased_subject)."}
}


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
    _key: ChatbotOrAnalystKey,
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


@router.post(
    "",
    response_model=CustomerCreatedPublic,
    status_code=201,
    responses={
        200: {
            "model": CustomerCreatedPublic,
            "description": "The id exists already (created: false); only its PII was replaced.",
        },
        **ERASED,
    },
)
def post_customer(
    body: CustomerCreate,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    privacy: PrivacyKey,
    _key: IngestKey,
) -> CustomerCreatedPublic:
    """Create a customer; personal data goes to its PII node only, e-mail and phone also as
    keyed tokens. Without decisions, the configured consent defaults (opt-in: all denied) are
    recorded. 200 instead of 201 when the id exists (nothing is overwritten but the PII);
    409 when the id was erased."""
    require_text(body.id, "body", "id")
    q: Queries = request.app.state.queries
    created = create_customer(
        store,
        q,
        privacy,
        body.id,
        body.country,
        body.pii,
        body.consents,
        settings.consent_defaults,
        body.consent_source,
        region=settings.default_phone_region,
    )
    if not created:
        response.status_code = 200
    return CustomerCreatedPublic(id=body.id, created=created)


@router.put("/{customer_id}/pii", status_code=204, responses={**NOT_FOUND, **ERASED})
def put_pii(
    customer_id: PathId,
    body: PiiFields,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    privacy: PrivacyKey,
    _key: IngestKey,
) -> Response:
    """Replace the customer's personal data."""
    q: Queries = request.app.state.queries
    set_pii(store, q, privacy, customer_id, body, region=settings.default_phone_region)
    return Response(status_code=204)


@router.post("/lookup", response_model=LookupPublic)
def lookup(
    body: LookupRequest,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    privacy: PrivacyKey,
    _key: ChatbotOrAdminKey,
) -> LookupPublic:
    """Which customer an e-mail address or phone number belongs to, matched by keyed token of
    the normalised form (e-mail case-folded, phone in E.164)."""
    ids = find_customer(
        store,
        request.app.state.queries,
        privacy,
        email=body.email,
        phone=body.phone,
        region=settings.default_phone_region,
    )
    return LookupPublic(customer_ids=ids)


@router.get("/{customer_id}/export", responses=NOT_FOUND)
def get_export(
    customer_id: PathId, request: Request, store: StoreDep, privacy: PrivacyKey, key: AdminKey
) -> dict[str, Any]:
    """Everything held on the person, as JSON (data subject access request); times ISO 8601."""
    return export(store, request.app.state.queries, privacy, customer_id, actor=key.name)


@router.delete("/{customer_id}", response_model=ErasureReceipt, responses=NOT_FOUND)
def delete_customer(
    customer_id: PathId, request: Request, store: StoreDep, privacy: PrivacyKey, key: AdminKey
) -> ErasureReceipt:
    """Erase the person's whole subgraph and suppress every later write for them. A repeat
    returns the receipt in force (`already_erased: true`) while nothing of the person exists;
    if something does again, it is erased under a new receipt naming the one before
    (`previous`)."""
    lock: threading.Lock = request.app.state.ingest_lock
    with lock, store.exclusive():
        return erase(store, request.app.state.queries, privacy, customer_id, actor=key.name)
