"""The GraphQL contract and the pieces of the endpoint that need no store: the persisted SDL,
the batched context query's text, the mirrored REST types and the cost of a query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse
from pydantic import BaseModel

from api.graphql.__main__ import SDL_FILE, sdl
from api.graphql.limits import MAX_COST, operation_cost
from api.graphql.mirror import mirror
from api.schemas import ContextPublic, CustomerSummaryPublic, ReasonPublic

CYPHER = Path(__file__).resolve().parents[2] / "cypher" / "context"


def test_the_persisted_schema_is_the_codes() -> None:
    assert SDL_FILE.read_text(encoding="utf-8") == sdl(), (
        "api/graphql/schema.graphql differs from the schema in api/graphql/schema.py; "
        "run `make graphql-schema` (python -m api.graphql) and commit the file"
    )


def _body(name: str) -> str:
    lines = (CYPHER / name).read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("//"))


def test_session_contexts_is_session_context_for_many_ids() -> None:
    """The batched query may differ from the one-session query by its two documented edits
    only, so a change to one that is not made to the other fails here."""
    batched = _body("session_contexts.cypher").replace(
        "UNWIND $session_ids AS session_id\nMATCH (s:Session {id: session_id})\n",
        "MATCH (s:Session {id: $session_id})\n",
    )
    batched = batched.replace(
        "WITH s, collect(coalesce(owner, linked).id)[0] AS c_id, collect(anon.id)[0] AS anon_id\n"
        "OPTIONAL MATCH (c:Customer {id: c_id})\n"
        "OPTIONAL MATCH (anon:Identity {id: anon_id})\n"
        "WITH s, c, anon\n",
        "WITH s, coalesce(owner, linked) AS c, anon\nLIMIT 1\n",
    )
    assert batched == _body("session_context.cypher")


def _names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


@pytest.mark.parametrize("model", [ContextPublic, CustomerSummaryPublic, ReasonPublic])
def test_mirrored_types_have_the_rest_fields(model: type[BaseModel]) -> None:
    definition: Any = mirror(model).__strawberry_definition__
    assert [f.python_name for f in definition.fields] == _names(model)


def _cost(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return operation_cost(parse(query).definitions, name, variables or {})


def test_cost_counts_fields_times_the_items_asked_for() -> None:
    assert _cost('{ product(sku: "p") { sku name } }') == 3
    assert _cost('{ product(sku: "p") { similar(k: 5) { score product { sku } } } }') == 1 + (
        1 + 5 * 3
    )
    query = 'query ($k: Int!) { product(sku: "p") { similar(k: $k) { score } } }'
    assert _cost(query, {"k": 7}) == 1 + 1 + 7
    assert _cost(query, {"k": 10**9}) > MAX_COST
    fragment = '{ product(sku: "p") { ...F } } fragment F on Product { sku name }'
    assert _cost(fragment) == 3
    two = 'query A { product(sku: "p") { sku } } query B { product(sku: "p") { sku name } }'
    assert _cost(two, name="A") == 2 and _cost(two, name="B") == 3
    # a fragment cycle (which validation refuses first) does not recurse forever
    assert _cost("{ ...F } fragment F on Query { ...F }") == 0
