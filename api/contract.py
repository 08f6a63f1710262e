"""The OpenAPI document as the API's contract: every status a route answers, in one shape.

FastAPI documents what a route declares; what the app adds around it (the key check, the store,
the body parser and limit, the 422 handler) it cannot see. `install` completes the document
from each route's dependencies: the security requirement of its key, and the error statuses
those bring, each with the one error envelope (`ErrorPublic`) instead of FastAPI's own
validation error shape. Route decorators declare only what is theirs alone (a 404 and its
reason, a second success status).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from api.auth import SECURITY_SCHEMES, security_requirement
from api.deps import KeyCheck, store_dependency
from api.schemas import ErrorPublic

REF = "#/components/schemas/"
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")

# What each status means wherever the app adds it; a route's own description comes first.
DESCRIPTIONS = {
    400: "Refused: a key header given twice (ambiguous_credentials), a body that is not JSON "
    "(http_error), or a value the store cannot take (query_failed).",
    401: "No key, or an unknown one (unauthenticated).",
    403: "The key lacks the scope this route needs (forbidden).",
    413: "The body is over the size limit (payload_too_large).",
    422: "A path, query or body value is invalid (invalid_request, invalid_parameter).",
    500: "A fault of the server (internal_error, erasure_unverified); the cause is in its log.",
    503: "The store is unavailable (store_unavailable, store_auth_failed); retry after the "
    "Retry-After seconds.",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    503: {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
}


@dataclass(frozen=True)
class Needs:
    """What a route's answers depend on, read off its dependencies."""

    security: list[dict[str, list[str]]] | None
    store: bool
    body: bool
    params: bool

    def statuses(self) -> set[int]:
        out = set()
        if self.security is not None:
            out |= {400, 401, 403, 500}
        if self.store:
            out |= {500, 503}
        if self.body:
            out |= {400, 413}
        if self.body or self.params:
            out.add(422)
        return out


def install(app: FastAPI) -> None:
    """Complete each document FastAPI generates (once per set of routes: it caches it)."""
    generate = app.openapi
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()
        if not completed or completed[0] is not document:
            complete(document, app)
            completed[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def routes(app: FastAPI) -> Iterator[Any]:
    """The app's routes as FastAPI's own document generator walks them: included routers
    expanded (FastAPI includes them lazily), each view giving the route's attributes."""
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    return iter(app.routes) if expand is None else iter(expand(app.routes))


def complete(document: dict[str, Any], app: FastAPI) -> None:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        schemas.pop(name, None)
    _, defs = models_json_schema([(ErrorPublic, "serialization")], ref_template=REF + "{model}")
    schemas.update(defs["$defs"])
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in routes(app):
        if (
            isinstance(getattr(route, "original_route", route), APIRoute)
            and route.include_in_schema
        ):
            needs = needs_of(route)
            for method in route.methods:
                operation = document["paths"][route.path_format][method.lower()]
                _complete_operation(operation, needs)


def needs_of(route: Any) -> Needs:
    """`route`: an APIRoute, or FastAPI's view of one (see `routes`)."""
    extra = route.openapi_extra or {}
    security = extra.get("security")
    store = False
    for call in _calls(route.dependant):
        if isinstance(call, KeyCheck):
            security = security_requirement(call.scopes)
        store = store or call is store_dependency
    params = bool(extra.get("parameters")) or bool(
        route.dependant.path_params or route.dependant.query_params
    )
    return Needs(security, store, route.body_field is not None, params)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _complete_operation(operation: dict[str, Any], needs: Needs) -> None:
    if needs.security is not None:
        operation["security"] = needs.security
    responses: dict[str, Any] = operation.get("responses", {})
    for status, response in responses.items():
        if _schema(response).get("$ref", "").removeprefix(REF) in _FASTAPI_ERRORS:
            responses[status] = {"description": DESCRIPTIONS[int(status)]}
    for code in needs.statuses():
        response = responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
        declared = _schema(response)
        if declared and declared != _envelope():
            # the route's own answer for this status, or the app's error
            response["content"] = _json({"anyOf": [declared, _envelope()]})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            response.setdefault("content", _json(_envelope()))
            schema = _schema(response)
            if int(status) in HEADERS and _envelope() in (schema, *schema.get("anyOf", [])):
                # the app's error answers carry these; a route's own answer (readiness) may not
                response.setdefault("headers", HEADERS[int(status)])
    operation["responses"] = dict(sorted(responses.items()))


def _schema(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response.get("content", {}).get("application/json", {}).get("schema")
    return schema or {}


def _envelope() -> dict[str, str]:
    return {"$ref": f"{REF}{ErrorPublic.__name__}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}
