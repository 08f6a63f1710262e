"""Request dependencies as `Annotated` aliases, so routes declare what they need in one word."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from graph.errors import StoreUnavailable
from graph.settings import Settings
from graph.store import Store


def _store(request: Request) -> Store:
    store: Store | None = request.app.state.store
    if store is None:
        raise StoreUnavailable("the store is not connected")
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
