"""Consent per purpose: the state in force, the append-only history, and new decisions.

Times are ISO 8601 UTC. A change is a data subject's request: it goes to the audit trail, and
is refused for an erased subject (409, `erased_subject`)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import (
    AdminKey,
    AdminOrIngestKey,
    ChatbotOrAdminKey,
    PathId,
    PrivacyKey,
    SettingsDep,
    StoreDep,
)
from api.schemas import ConsentHistoryPublic, ConsentPublic, ConsentStatePublic, ConsentUpdate
from graph.queries import Queries
from privacy.consents import change_consents, consent_history, consent_state
from privacy.times import iso

router = APIRouter(prefix="/v1/customers", tags=["consents"])


@router.get(
    "/{customer_id}/consents",
    response_model=ConsentStatePublic,
    responses={404: {"description": "Unknown customer (customer_not_found)."}},
)
def get_consents(
    customer_id: PathId,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _key: ChatbotOrAdminKey,
) -> ConsentStatePublic:
    """Per purpose, the decision in force (or the default, marked `default: true`)."""
    q: Queries = request.app.state.queries
    history = consent_history(store, q, customer_id)
    return ConsentStatePublic(
        customer_id=customer_id, consents=consent_state(history, settings.consent_defaults)
    )


@router.put(
    "/{customer_id}/consents",
    response_model=ConsentStatePublic,
    responses={
        404: {"description": "Unknown customer (customer_not_found)."},
        409: {"description": "The subject was erased (erased_subject)."},
    },
)
def put_consents(
    customer_id: PathId,
    body: ConsentUpdate,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    privacy: PrivacyKey,
    key: AdminOrIngestKey,
) -> ConsentStatePublic:
    """Record decisions (appended to the history); they apply from the next read."""
    q: Queries = request.app.state.queries
    source = f"{body.source} (key {key.name})"
    change_consents(store, q, privacy, customer_id, body.consents, source, actor=key.name)
    history = consent_history(store, q, customer_id)
    return ConsentStatePublic(
        customer_id=customer_id, consents=consent_state(history, settings.consent_defaults)
    )


@router.get(
    "/{customer_id}/consents/history",
    response_model=ConsentHistoryPublic,
    responses={404: {"description": "Unknown customer (customer_not_found)."}},
)
def get_consent_history(
    customer_id: PathId, request: Request, store: StoreDep, _key: AdminKey
) -> ConsentHistoryPublic:
    """Every decision ever recorded, oldest first, with its source and time."""
    q: Queries = request.app.state.queries
    history = consent_history(store, q, customer_id)
    return ConsentHistoryPublic(
        customer_id=customer_id,
        history=[
            ConsentPublic(purpose=r.purpose, granted=r.granted, at=iso(r.at) or "", source=r.source)
            for r in history
        ],
    )
