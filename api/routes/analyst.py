"""Analyst queries over HTTP: the read-only files in cypher/analyst/, by name, with parameters.

Nothing but those files runs here, and only with the parameters each one names. The answer
holds the rows and, for a caller that draws them, every node and relationship in them once
(`Store.read_graph` keeps their ids, labels, types and endpoints). The /explore page uses it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from api.context import InvalidParameter
from api.deps import AnalystKey, StoreDep
from api.schemas import (
    AnalystQueryListPublic,
    AnalystQueryPublic,
    AnalystResultPublic,
    AnalystRun,
    GraphNodePublic,
    GraphRelationshipPublic,
)
from graph.catalog import Query
from graph.errors import AnalystQueryNotFound, ParameterRefused, QueryError, ReadOnlyViolation
from graph.queries import Queries
from graph.store import rows_to_table
from privacy.times import iso_times

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/analyst/queries", tags=["analyst"])

AREA = "analyst"
MAX_ROWS = 1000
QueryName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,99}$", description="A query's name.")]


def _analyst_queries(request: Request) -> dict[str, Query]:
    q: Queries = request.app.state.queries
    return {n: query for n, query in q.in_area(AREA).items() if query.is_read}


@router.get("", response_model=AnalystQueryListPublic)
async def list_queries(request: Request, _key: AnalystKey) -> AnalystQueryListPublic:
    """The saved analyst queries with their purpose and parameters."""
    found = sorted(_analyst_queries(request).values(), key=lambda q: q.name)
    return AnalystQueryListPublic(
        queries=[
            AnalystQueryPublic(name=q.name, purpose=q.purpose, params=list(q.params)) for q in found
        ]
    )


@router.post(
    "/{name}/run",
    response_model=AnalystResultPublic,
    responses={404: {"description": "No analyst query of that name (analyst_query_not_found)."}},
)
def run_query(
    name: QueryName, body: AnalystRun, request: Request, store: StoreDep, _key: AnalystKey
) -> AnalystResultPublic:
    """Run one saved analyst query; rows past the limit are left off (`truncated`).

    422 `invalid_parameter` when a parameter is missing or not one the query names; 400
    `query_failed` when the store cannot take a value (a text where the query needs a number)."""
    query = _analyst_queries(request).get(name)
    if query is None:
        raise AnalystQueryNotFound(f"no analyst query {name!r}; GET /v1/analyst/queries lists them")
    _check_params(query, body.params)
    try:
        rows = store.read_graph(query, body.params)
    except (ReadOnlyViolation, ParameterRefused):
        raise
    except QueryError as exc:
        # the files are checked at start-up, so what the store refuses now is a value
        logger.warning("analyst query %s refused its parameters: %s", name, exc)
        raise ParameterRefused(
            f"the store refused query {name!r} with these parameter values; check their types"
        ) from exc
    return _result(name, rows)


def _check_params(query: Query, given: dict[str, Any]) -> None:
    missing = [p for p in query.params if p not in given]
    unknown = sorted(set(given) - set(query.params))
    if missing or unknown:
        parts = [
            f"needs {', '.join(missing)}" if missing else "",
            f"takes no {', '.join(unknown)}" if unknown else "",
        ]
        raise InvalidParameter(f"query {query.name!r} " + " and ".join(p for p in parts if p))


def _result(name: str, rows: list[dict[str, Any]]) -> AnalystResultPublic:
    shown = [iso_times(r) for r in rows[:MAX_ROWS]]
    nodes: dict[str, GraphNodePublic] = {}
    relationships: dict[str, GraphRelationshipPublic] = {}
    for value in _graph_values(shown):
        props = {k: v for k, v in value.items() if not k.startswith("~")}
        if value["~kind"] == "node":
            nodes.setdefault(
                value["~id"],
                GraphNodePublic(id=value["~id"], labels=value["~labels"], properties=props),
            )
        else:
            relationships.setdefault(
                value["~id"],
                GraphRelationshipPublic(
                    id=value["~id"],
                    type=value["~type"],
                    start=value["~start"],
                    end=value["~end"],
                    properties=props,
                ),
            )
    return AnalystResultPublic(
        query=name,
        columns=rows_to_table(rows)[0],
        rows=shown,
        truncated=len(rows) > MAX_ROWS,
        nodes=list(nodes.values()),
        relationships=list(relationships.values()),
    )


def _graph_values(value: Any) -> Iterator[dict[str, Any]]:
    """Every node and relationship in `value`, paths opened, in the order they appear."""
    if isinstance(value, list):
        for item in value:
            yield from _graph_values(item)
    elif isinstance(value, dict):
        kind = value.get("~kind")
        if kind in ("node", "relationship"):
            yield value
        elif kind == "path":
            yield from _graph_values(value["~nodes"])
            yield from _graph_values(value["~relationships"])
        else:
            for item in value.values():
                yield from _graph_values(item)
