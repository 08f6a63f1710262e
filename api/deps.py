"""Request dependencies as `Annotated` aliases, so routes declare what they need in one word.

Each alias is defined here once and means one thing: a scope alias is named after the scopes it
admits, and the start-up objects (store, settings, privacy key) come off `app.state`.

The chatbot's context route is the one exception: it is called on every conversational turn,
and FastAPI's per-request parameter solving cost it about as much as the store query itself.
It is a `DirectRoute`, which hands the endpoint the bare request, and reads its key, path and
query through the plain functions below (`authorize`, `path_id`, `query_model`): the same
checks and the same error envelope, without the solver. `documented` keeps its OpenAPI
description the same as a declared route's.

A key is read by `presented_key` alone, for both kinds of route.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable
from functools import cache
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.auth import SCOPES, AmbiguousCredentials, ApiKey, KeyStore, Scope, security_requirement
from api.schemas import DocumentedId
from api.settings import Settings
from graph.errors import StoreUnavailable
from graph.store import Store

M = TypeVar("M", bound=BaseModel)


def store_of(request: Request) -> Store:
    store: Store | None = request.app.state.store
    if store is None:
        raise StoreUnavailable("the store is not connected")
    return store


async def store_dependency(request: Request) -> Store:
    return store_of(request)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _privacy_key(request: Request) -> bytes:
    key: bytes = request.app.state.privacy_key
    return key


def presented_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key a request presents, off its raw ASGI headers: `Authorization: Bearer <key>` wins
    over `X-API-Key: <key>`. A header given twice is refused: which copy a proxy, a framework
    or a server reads differs, so the API guesses neither."""
    authorization: list[bytes] = []
    x_api_key: list[bytes] = []
    for name, value in headers:
        if name == b"authorization":
            authorization.append(value)
        elif name == b"x-api-key":
            x_api_key.append(value)
    for given, header in ((authorization, "Authorization"), (x_api_key, "X-API-Key")):
        if len(given) > 1:
            raise AmbiguousCredentials(f"{header} is given {len(given)} times; send one key")
    if authorization and authorization[0][:7].lower() == b"bearer ":
        return authorization[0][7:].decode("latin-1").strip()
    return x_api_key[0].decode("latin-1") if x_api_key else None


def authorize(request: Request, *scopes: Scope) -> ApiKey:
    """The key, if it holds one of `scopes` (401 without a key, 403 without the scope): what
    every route that needs a key calls, declared (`KeyCheck`) or direct (`DirectRoute`)."""
    keys: KeyStore = request.app.state.keys
    return keys.check(presented_key(request.scope["headers"]), *scopes)


class KeyCheck:
    """A dependency that admits only keys holding one of `scopes`; the OpenAPI document lists
    them as the route's security requirement (api.contract). `async` on purpose: it never
    blocks, and a plain `def` would cost every request a trip through the thread pool."""

    def __init__(self, *scopes: Scope) -> None:
        self.scopes = scopes

    async def __call__(self, request: Request) -> ApiKey:
        return authorize(request, *self.scopes)


StoreDep = Annotated[Store, Depends(store_dependency)]
SettingsDep = Annotated[Settings, Depends(_settings)]
# the key of the keyed tokens (privacy.tokens), read once at start-up
PrivacyKey = Annotated[bytes, Depends(_privacy_key)]

ChatbotKey = Annotated[ApiKey, Depends(KeyCheck("chatbot:read"))]
IngestKey = Annotated[ApiKey, Depends(KeyCheck("ingest:write"))]
AdminKey = Annotated[ApiKey, Depends(KeyCheck("privacy:admin"))]
AnalystKey = Annotated[ApiKey, Depends(KeyCheck("analyst:read"))]
MetricsKey = Annotated[ApiKey, Depends(KeyCheck("metrics:read"))]
ChatbotOrAnalystKey = Annotated[ApiKey, Depends(KeyCheck("chatbot:read", "analyst:read"))]
ChatbotOrAdminKey = Annotated[ApiKey, Depends(KeyCheck("chatbot:read", "privacy:admin"))]
AdminOrIngestKey = Annotated[ApiKey, Depends(KeyCheck("privacy:admin", "ingest:write"))]
AnyKey = Annotated[ApiKey, Depends(KeyCheck(*SCOPES))]

# Ids in paths follow the stored-id rule (graph.model.check_id): anything else is a 422.
PathId = Annotated[DocumentedId, Path(min_length=1, max_length=256)]


def _invalid(exc: ValidationError, *where: str) -> RequestValidationError:
    """FastAPI's own error shape, so the app's one 422 handler answers both kinds of route."""
    return RequestValidationError(
        [
            {"type": e["type"], "loc": (*where, *e["loc"]), "msg": e["msg"], "input": e["input"]}
            for e in exc.errors(include_url=False)
        ]
    )


@cache
def _id_adapter() -> TypeAdapter[str]:
    """`PathId` outside FastAPI's solver: the same validators and the same schema."""
    return TypeAdapter(PathId)


def path_id(request: Request, name: str) -> str:
    try:
        return _id_adapter().validate_python(request.path_params[name])
    except ValidationError as exc:
        raise _invalid(exc, "path", name) from None


def query_model(request: Request, model: type[M]) -> M:
    """The query string as one model; unknown names are ignored, as FastAPI does."""
    try:
        if not request.scope["query_string"]:
            return model()
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise _invalid(exc, "query") from None


class DirectRoute(APIRoute):
    """A route whose endpoint is `async (Request) -> Response`, called as is: FastAPI still
    documents it (response model, `openapi_extra`), but per request only routing, the
    exception handlers and the endpoint run."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__name__}: a DirectRoute endpoint must be async")
        return endpoint


def documented(
    path_ids: tuple[str, ...], query: type[BaseModel], scopes: tuple[Scope, ...]
) -> dict[str, Any]:
    """OpenAPI parameters for a route that parses its own request: the path ids and the query
    model's fields, as FastAPI would have listed them, and the security requirement of the
    scopes its key needs (declared routes get theirs from their `KeyCheck`, see api.contract)."""
    schema = query.model_json_schema()
    if "$defs" in schema:  # their references would dangle in the OpenAPI document
        raise TypeError(f"{query.__name__}: query fields must have inline schemas")
    params: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True, "schema": _id_adapter().json_schema()}
        for n in path_ids
    ]
    for name, prop in schema["properties"].items():
        entry = {"name": name, "in": "query", "required": False, "schema": prop}
        if "description" in prop:
            entry["description"] = prop["description"]
        params.append(entry)
    return {"parameters": params, "security": security_requirement(scopes)}
