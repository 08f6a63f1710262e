"""GET /v1/keys/self: which key this is and what it may do, for clients that adapt to it."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AnyKey
from api.schemas import KeyPublic

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.get("/self", response_model=KeyPublic)
async def key_self(key: AnyKey) -> KeyPublic:
    """The presented key's name and scopes (never its secret or hash); any valid key may ask.

    A tool server (`ckg mcp`) offers an agent only the tools these scopes allow."""
    return KeyPublic(name=key.name, scopes=sorted(key.scopes))
