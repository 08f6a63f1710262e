"""POST /v1/events: a batch of events in, one result per item out.

Good items are stored even when others in the batch are bad; the answer is then 422 with a
reason per bad item (and 200 when every item was accepted or already stored), so a client can
resend exactly the rejected ones after fixing them. An item that is not a JSON object is one
such bad item (`not_an_object`), not a bad request. Every rejected item also goes to the
dead-letter file, as from a file load.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import IngestKey, PrivacyKey, SettingsDep, StoreDep
from api.errors import PayloadTooLarge
from api.schemas import EventBatchCreate, EventBatchPublic, EventResultPublic
from api.text import encodable
from ingest.loader import Loader
from ingest.report import DeadLetter, dead_letter_path
from ingest.sources import SourceRecord

router = APIRouter(prefix="/v1/events", tags=["events"])

_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}


def _record(source: str, index: int, item: Any) -> SourceRecord:
    """The item as the loader's input record; a non-object one as a file load reads one, with
    its JSON text (escaped where it holds text without a UTF-8 form, so the dead letter can
    hold it)."""
    if isinstance(item, dict):
        return SourceRecord(source, index, item)
    text = json.dumps(item, ensure_ascii=False)
    if not encodable(text):
        text = json.dumps(item)
    kind = "null" if item is None else _JSON_TYPES.get(type(item), type(item).__name__)
    return SourceRecord(source, index, None, text, "not_an_object", f"a JSON {kind}, not an object")


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
    privacy_key: PrivacyKey,
) -> EventBatchPublic:
    """Store a batch of events; idempotent by `event_id`."""
    if len(body.events) > settings.api_max_events:
        raise PayloadTooLarge(f"at most {settings.api_max_events} events per request")
    source = f"http:{key.name}"
    records = [_record(source, i, item) for i, item in enumerate(body.events)]
    dead = dead_letter_path(settings, "http")
    # one batch at a time (threads here, processes via the file lock): the duplicate check and
    # the write must not interleave with another loader's
    lock: threading.Lock = request.app.state.ingest_lock
    with lock, store.exclusive(), DeadLetter(dead) as dl:
        loader = Loader(
            store,
            dl,
            batch_size=len(records),
            record_outcomes=True,
            privacy_key=privacy_key,
            source="http",
        )
        result = loader.load(records)
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
