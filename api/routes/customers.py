"""GET /v1/customers/{id}: the pseudonymous profile, for a declared purpose."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from api.context import consents_public, customer_summary
from api.deps import PathId, ProfileKey, StoreDep
from api.schemas import CustomerPublic
from graph.errors import NotFound
from graph.queries import Queries
from graph.records import CustomerRecord

router = APIRouter(prefix="/v1/customers", tags=["customers"])

ReadPurpose = Literal["personalization", "analytics", "profiling"]


class CustomerNotFound(NotFound):
    reason = "customer_not_found"


@router.get(
    "/{customer_id}",
    response_model=CustomerPublic,
    responses={404: {"description": "Unknown customer (reason customer_not_found)."},
               503: {"description": "Store unavailable; retry after the Retry-After seconds."}},
)
def get_customer(
    customer_id: PathId,
    request: Request,
    store: StoreDep,
    _key: ProfileKey,
    purpose: Annotated[ReadPurpose, Query(description="Why you read it; the consent that "
                                                      "must be in force.")] = "personalization",
) -> CustomerPublic:
    """Tier, points, segments, RFM, lifetime value, preferred categories, last seen — no PII.

    Only the consents are returned when the purpose's consent is not in force.
    """
    q: Queries = request.app.state.queries
    rows = store.read_models(q.customer_profile, CustomerRecord,
                             {"id": customer_id, "purpose": purpose})
    if not rows:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    rec = rows[0]
    return CustomerPublic(
        id=rec.customer_id, purpose=purpose, personalized=rec.personal,
        profile=customer_summary(rec.customer_id, rec) if rec.personal else None,
        consents=consents_public(rec.consents))
