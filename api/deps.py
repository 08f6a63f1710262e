"""Request dependencies as `Annotated` aliases, so routes declare what they need in one word."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from api.auth import ApiKey, KeyStore, Scope
from graph.errors import StoreUnavailable
from graph.model import EntityId
from graph.settings import Settings
from graph.store import Store


def store_of(request: Request) -> Store:
    store: Store | None = request.app.state.store
    if store is None:
        raise StoreUnavailable("the store is not connected")
    return store


async def _store(request: Request) -> Store:
    return store_of(request)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def require(*scopes: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that admits only keys holding one of `scopes` (401 without a key, 403
    without the scope). Dependencies here are `async def` on purpose: they never block, and a
    plain `def` would cost every request a trip through the thread pool."""

    async def check(request: Request,
              authorization: Annotated[str | None, Header()] = None,
              x_api_key: Annotated[str | None, Header()] = None) -> ApiKey:
        presented = x_api_key
        if authorization and authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
        keys: KeyStore = request.app.state.keys
        return keys.check(presented, *scopes)

    return check


StoreDep = Annotated[Store, Depends(_store)]
IngestKey = Annotated[ApiKey, Depends(require("ingest:write"))]
ChatbotKey = Annotated[ApiKey, Depends(require("chatbot:read"))]
ProfileKey = Annotated[ApiKey, Depends(require("chatbot:read", "analyst:read"))]
# Ids in paths follow the stored-id rule (graph.model.check_id): anything else is a 422.
PathId = Annotated[EntityId, Path(min_length=1, max_length=256)]
SettingsDep = Annotated[Settings, Depends(_settings)]
