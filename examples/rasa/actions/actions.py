"""`action_ckg_context`: the ckg session context as Rasa slots, and the words to say.

The ckg session is the slot `ckg_session_id` when it is set (a channel connector or a custom
action can set it from the site's session), else the conversation's `sender_id`. The action
reads the context with the typed client (api/client.py: httpx and pydantic only), fills the
slots `segments`, `tier`, `cart_value`, `cart_items`, `personalized` and `top_trigger`, and
utters the top trigger (a greeting when none fires). Without personalization consent `tier`
and `segments` are set to None. An unknown session, a refused key or an unreachable API is
answered with a generic greeting and no slot changes: the conversation goes on.

Configuration, from the environment of the action server:
    CKG_API_URL  the API's base URL (default http://127.0.0.1:8000)
    CKG_API_KEY  a key with the chatbot:read scope
"""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from api.client import AsyncCkgClient, CkgApiError, NotFoundError, SessionContext

logger = logging.getLogger(__name__)

GREETING = "Hello! How can I help you today?"
SESSION_SLOT = "ckg_session_id"


def session_of(tracker: Tracker) -> str:
    """The slot when set, else the sender id (the channel's conversation id)."""
    slot = tracker.get_slot(SESSION_SLOT)
    return str(slot) if slot else str(tracker.sender_id)


def slots_of(ctx: SessionContext) -> list[dict[str, Any]]:
    """The context's facts as slot events; personal ones are None without consent."""
    customer = ctx.customer if ctx.personalized else None
    cart = ctx.session.cart
    return [
        SlotSet("segments", [s.name for s in customer.segments if s.name] if customer else None),
        SlotSet("tier", customer.tier if customer else None),
        SlotSet("cart_value", cart.value),
        SlotSet("cart_items", cart.items),
        SlotSet("personalized", ctx.personalized),
        SlotSet("top_trigger", ctx.triggers[0].say if ctx.triggers else None),
    ]


class ActionCkgContext(Action):
    def name(self) -> str:
        return "action_ckg_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        session = session_of(tracker)
        url = os.environ.get("CKG_API_URL", "http://127.0.0.1:8000")
        try:
            async with AsyncCkgClient(url, os.environ.get("CKG_API_KEY", "")) as ckg:
                ctx = await ckg.context(session)
        except NotFoundError:
            logger.info("no ckg session %r: greeting without context", session)
            dispatcher.utter_message(text=GREETING)
            return []
        except CkgApiError as exc:
            logger.warning("ckg context for %r failed: %s", session, exc)
            dispatcher.utter_message(text=GREETING)
            return []
        dispatcher.utter_message(text=ctx.triggers[0].say if ctx.triggers else GREETING)
        return slots_of(ctx)
