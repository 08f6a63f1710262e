"""Privacy administration: lifting a suppression, and the privacy requests report.

Both need the `privacy:admin` scope. Lifting is the only way an erased id can be written
again, and it goes to the audit trail like every other privacy request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import AdminKey, PathId, PrivacyKey, StoreDep
from api.schemas import RequestsReport, SuppressionLifted
from privacy.report import requests_report
from privacy.suppression import lift

router = APIRouter(prefix="/v1", tags=["privacy"])

INSTANT = "ISO 8601 date or date-time; without a zone, UTC."


@router.delete(
    "/suppressions/{customer_id}",
    response_model=SuppressionLifted,
    responses={404: {"description": "No suppression in force (suppression_not_found)."}},
)
def delete_suppression(
    customer_id: PathId, request: Request, store: StoreDep, privacy: PrivacyKey, key: AdminKey
) -> SuppressionLifted:
    """Lift an erased subject's suppression, so its id can be created again; its receipts
    stay, marked lifted."""
    return lift(store, request.app.state.queries, privacy, customer_id, actor=key.name)


@router.get("/privacy/report", response_model=RequestsReport)
def get_report(
    request: Request,
    store: StoreDep,
    _key: AdminKey,
    start: Annotated[datetime, Query(alias="from", description=INSTANT)],
    end: Annotated[datetime, Query(alias="to", description=INSTANT)],
) -> RequestsReport:
    """Requests to know, to delete and to opt out of sale received from `from` (inclusive) to
    `to` (exclusive): received, complied with, denied, and the median time to complete in
    milliseconds."""
    return requests_report(store, request.app.state.queries, _ms(start), _ms(end))


def _ms(moment: datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)
