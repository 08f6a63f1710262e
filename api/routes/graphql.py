"""POST (and GET, for queries) /v1/graphql: the GraphQL schema of api/graphql/schema.py.

The key is read as on every route (`api.deps.authorize`): none or an unknown one is a 401, a
key with none of the scopes a GraphQL field admits a 403, both in the REST error envelope,
before the query is looked at; each field then checks its own scopes. A request that is no
GraphQL request at all (a body that is not JSON, no query) is a 400 `invalid_graphql_request`
in that envelope. Everything else is an HTTP 200 whose `errors` carry `extensions.reason`
(api/graphql/limits.py), with the data of the fields that could be answered.

The route is left out of the OpenAPI document: the GraphQL contract is the persisted SDL,
api/graphql/schema.graphql. No IDE is served (it would load scripts from a CDN).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cross_web import HTTPException
from fastapi import Request, Response
from strawberry.fastapi import GraphQLRouter

from api.deps import authorize, store_of
from api.graphql.schema import SCOPES, GraphQLContext, schema
from graph.errors import ClientError

logger = logging.getLogger(__name__)

PATH = "/v1/graphql"


class InvalidGraphQLRequest(ClientError):
    """The request carries no GraphQL operation we can read (not JSON, no query)."""

    reason = "invalid_graphql_request"


async def graphql_context(request: Request) -> GraphQLContext:
    """Authenticate first: a refused key never reaches the query."""
    key = authorize(request, *SCOPES)
    state = request.app.state
    return GraphQLContext(
        key, store_of(request), state.queries, state.settings, state.rules, state.popular
    )


class CkgGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """Strawberry's router, whose refusals of a request leave in the API's error envelope."""

    # one HTTP route's entry, not the overloaded pair with websockets (none are served)
    async def run(  # type: ignore[override]
        self, request: Request, context: Any = None, root_value: Any = None
    ) -> Response:
        await _check_body(request)
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as exc:
            message = exc.reason
            if exc.status_code == 404:  # strawberry's answer to a GET without a query
                message = "GET needs a `query` parameter"
            raise InvalidGraphQLRequest(message) from None


async def _check_body(request: Request) -> None:
    """A JSON body must be an object: strawberry reads any other JSON value as one and fails."""
    if request.method != "POST" or "json" not in request.headers.get("content-type", ""):
        return
    try:
        body = json.loads(await request.body())  # starlette keeps the body for strawberry
    except ValueError:
        raise InvalidGraphQLRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidGraphQLRequest("the body must be a JSON object with a `query`")


router = CkgGraphQLRouter(
    schema,
    path=PATH,
    graphql_ide=None,
    context_getter=graphql_context,
    include_in_schema=False,
    subscription_protocols=(),
)
