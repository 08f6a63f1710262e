"""Bot platforms' own webhook shapes over the session context: Dialogflow CX for now.

A Dialogflow CX agent calls `POST /v1/integrations/dialogflow-cx` as a webhook, with the API
key as a configured `X-API-Key` header. The ckg session is the session parameter
`ckg_session_id`, else the last path segment of `sessionInfo.session` (so a site that calls
detectIntent with its ckg session id as the Dialogflow session id needs no parameter). The
answer sets `ckg_*` session parameters and says one text message chosen by the fulfillment tag.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request

from api.context import context_text
from api.deps import ChatbotKey
from api.errors import SessionNotMapped
from api.routes.sessions import load_context
from api.schemas import (
    ContextPublic,
    ContextQuery,
    DialogflowFulfillmentPublic,
    DialogflowMessagePublic,
    DialogflowParametersPublic,
    DialogflowSessionInfoPublic,
    DialogflowTextPublic,
    DialogflowWebhookPublic,
    DialogflowWebhookRequest,
)
from graph.model import check_id

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/integrations", tags=["integrations"])

GREETING = "Hello! How can I help you today?"
OFFERS = 3  # products named by the `recommend` message


@router.post(
    "/dialogflow-cx",
    response_model=DialogflowWebhookPublic,
    responses={
        404: {
            "description": "Unknown session (session_not_found), or the request names none "
            "(session_not_mapped); Dialogflow raises webhook.error.not-found."
        },
        503: {"description": "Store unavailable; retry after the Retry-After seconds."},
    },
)
async def dialogflow_cx(
    body: DialogflowWebhookRequest, request: Request, _key: ChatbotKey
) -> DialogflowWebhookPublic:
    """Dialogflow CX webhook: the session's context as session parameters and a message.

    Tags: `recommend` offers the top suggested products, `context` answers the prompt snippet,
    any other tag the top trigger's words (else a greeting). Without personalization consent
    the personal parameters are null, which removes them from the Dialogflow session.
    """
    session_id = ckg_session(body)
    params = ContextQuery()
    ctx = await load_context(request, session_id, params)
    tag = body.fulfillment_info.tag
    text = context_text(ctx, params.max_tokens) if tag == "context" else what_to_say(ctx, tag)
    logger.debug("dialogflow-cx tag %r for session %s", tag, session_id)
    return DialogflowWebhookPublic(
        fulfillment_response=DialogflowFulfillmentPublic(
            messages=[DialogflowMessagePublic(text=DialogflowTextPublic(text=[text]))]
        ),
        session_info=DialogflowSessionInfoPublic(parameters=session_parameters(ctx)),
    )


def ckg_session(body: DialogflowWebhookRequest) -> str:
    """The parameter when given (already checked as an id), else Dialogflow's session id."""
    given = body.session_info.parameters.ckg_session_id
    if given is not None:
        return given
    tail = (body.session_info.session or "").rsplit("/", 1)[-1]
    try:
        return check_id(tail)
    except ValueError:
        raise SessionNotMapped(
            "set the session parameter ckg_session_id, or use the ckg session id as the "
            "Dialogflow session id"
        ) from None


def session_parameters(ctx: ContextPublic) -> DialogflowParametersPublic:
    """The context's facts a flow branches on; personal ones only when personalized."""
    customer = ctx.customer if ctx.personalized else None
    cart = ctx.session.cart
    return DialogflowParametersPublic(
        ckg_session_id=ctx.session_id,
        ckg_personalized=ctx.personalized,
        ckg_tier=customer.tier if customer else None,
        ckg_segments=[s.name for s in customer.segments if s.name] if customer else None,
        ckg_cart_items=cart.items,
        ckg_cart_value=cart.value,
        ckg_cart_abandoned=cart.abandoned,
        ckg_trigger_ids=[t.id for t in ctx.triggers],
        ckg_top_trigger=ctx.triggers[0].say if ctx.triggers else None,
    )


def what_to_say(ctx: ContextPublic, tag: str) -> str:
    """`recommend`: the top suggestions; otherwise the top trigger's words, else a greeting."""
    if tag == "recommend" and ctx.recommendations:
        names = [_label(r.name, r.product_id) for r in ctx.recommendations[:OFFERS]]
        return f"You might like: {', '.join(names)}."
    return ctx.triggers[0].say if ctx.triggers else GREETING


def _label(name: str | None, fallback: str) -> str:
    """Catalogue names are often upper case; a bot says them in sentence case."""
    if not name:
        return fallback
    return name.capitalize() if name.isupper() else name
