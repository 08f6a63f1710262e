"""POST /v1/events: a batch of events in, one result per item out.

Good items are stored even when others in the batch are bad; the answer is then 422 with a
reason per bad item (and 200 when every item was accepted or already stored), so a client can
resend exactly the rejected ones after fixing them. Every rejected item also goes to the
dead-letter file, as from a file load.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request, Response

from api.deps import IngestKey, SettingsDep, StoreDep
from api.errors import PayloadTooLarge
from api.schemas import EventBatchCreate, EventBatchPublic, EventResultPublic
from ingest.loader import Loader
from ingest.report import DeadLetter, dead_letter_path
from ingest.sources import SourceRecord

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.post(
    "",
    response_model=EventBatchPublic,
    responses={
        422: {
            "model": EventBatchPublic,
            "description": "Some items were rejected; the others are stored.",
        },
        413: {"description": "Too many events or too large a body."},
    },
)
def post_events(
    body: EventBatchCreate,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    key: IngestKey,
) -> EventBatchPublic:
    """Store a batch of events; idempotent by `event_id`."""
    if len(body.events) > settings.api_max_events:
        raise PayloadTooLarge(f"at most {settings.api_max_events} events per request")
    source = f"http:{key.name}"
    records = [SourceRecord(source, i, item) for i, item in enumerate(body.events)]
    dead = dead_letter_path(settings, "http")
    # one batch at a time (threads here, processes via the file lock): the duplicate check and
    # the write must not interleave with another loader's
    lock: threading.Lock = request.app.state.ingest_lock
    with lock, store.exclusive(), DeadLetter(dead) as dl:
        result = Loader(store, dl, batch_size=len(records), record_outcomes=True).load(records)
    rec = result.reconciliation
    items = [
        EventResultPublic(
            index=i, status=o.status, event_id=o.event_id, reason=o.reason, message=o.message
        )
        for i, o in sorted(result.outcomes.items())
    ]
    if rec.rejected:
        response.status_code = 422
    return EventBatchPublic(
        accepted=rec.accepted, duplicates=rec.duplicates, rejected=rec.rejected, items=items
    )
