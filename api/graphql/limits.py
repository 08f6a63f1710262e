"""What a GraphQL request may ask for, and how its errors name their reason.

Three limits run before any resolver: the document's size (`MaxTokensLimiter`), its aliases
(`MaxAliasesLimiter`) and its depth (`QueryDepthLimiter`; introspection fields are not
counted), then a cost: every field selected costs 1, and a field with a `k` or `limit`
argument costs that many times its selection, as it answers that many items. A query over a
limit is refused whole (no data) with a GraphQL error whose `extensions.reason` says which.

Every error leaves with `extensions.reason`: the domain error's own reason for a client
error (`customer_not_found`, `forbidden`, `invalid_parameter`) or an unavailable store, a
limit's reason, `invalid_query` for a document GraphQL refuses (syntax, unknown field, a
variable of the wrong type), and `internal_error` with a generic message for a fault of ours,
whose cause goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ASTValidationRule,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
)
from strawberry.extensions import QueryDepthLimiter, SchemaExtension

from graph.errors import CkgError, ClientError, Unavailable

logger = logging.getLogger(__name__)

MAX_DEPTH = 8
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_COST = 5000
# arguments that say how many items a field answers, and the cost assumed when one is unset
SIZE_ARGUMENTS = ("k", "limit")
DEFAULT_SIZE = 10

INTERNAL_MESSAGE = "the server failed to answer this field; the cause is in its log"
UNAVAILABLE_MESSAGE = "the store is unavailable; retry later"

# GraphQL's own refusals, told apart by their message (graphql-core and strawberry raise them
# without a code of their own)
_REFUSALS = (
    ("Document contains more than", "too_many_tokens"),
    ("exceeds maximum operation depth", "query_too_deep"),
    ("aliases found", "too_many_aliases"),
)


def _size(field: FieldNode, variables: Mapping[str, Any]) -> int:
    """How many items a field answers, from its literal or variable `k`/`limit` argument."""
    for arg in field.arguments or ():
        if arg.name.value not in SIZE_ARGUMENTS:
            continue
        value: Any = None
        if isinstance(arg.value, IntValueNode):
            value = int(arg.value.value)
        elif isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(1, value)
    return 1


def selection_cost(
    selections: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    seen: frozenset[str] = frozenset(),
) -> int:
    """The cost of a selection set; a fragment already being expanded counts nothing (the
    validation that runs first refuses fragment cycles anyway)."""
    if selections is None:
        return 0
    total = 0
    for node in selections.selections:
        if isinstance(node, FieldNode):
            inner = selection_cost(node.selection_set, fragments, variables, seen)
            total += 1 + _size(node, variables) * inner if inner else 1
        elif isinstance(node, InlineFragmentNode):
            total += selection_cost(node.selection_set, fragments, variables, seen)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in seen or name not in fragments:
                continue
            fragment = fragments[name].selection_set
            total += selection_cost(fragment, fragments, variables, seen | {name})
    return total


class DepthLimiter(QueryDepthLimiter):
    """strawberry's depth limit, kept from failing on a document the standard rules refuse:
    its rule walks the operations when it is built, and a spread of an undefined fragment
    (`{ ...F }`) raised KeyError there, answered as a fault. The standard rules running
    beside it report such a document (`Unknown fragment "F".`) as the client's mistake."""

    def __init__(self, max_depth: int = MAX_DEPTH) -> None:
        super().__init__(max_depth=max_depth)
        self.validation_rules = [_tolerant(rule) for rule in self.validation_rules]


def _tolerant(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    class Tolerant(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            try:
                super().__init__(context)
            except (KeyError, ValueError):  # what determine_depth raises on such documents
                ASTValidationRule.__init__(self, context)

    return Tolerant


class CostLimiter(SchemaExtension):
    """Refuse an operation whose cost, with its variables' values, is over `max_cost`."""

    def __init__(self, max_cost: int = MAX_COST) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.result is None:
            cost = operation_cost(document.definitions, ctx.operation_name, ctx.variables or {})
            if cost > self.max_cost:
                error = GraphQLError(
                    f"the query costs {cost}, over the limit of {self.max_cost} (every field "
                    "costs 1, and a field with `k` or `limit` that many times its selection)",
                    extensions={"reason": "query_too_costly", "cost": cost, "max": self.max_cost},
                )
                ctx.result = ExecutionResult(data=None, errors=[error])
        yield


def operation_cost(
    definitions: Any, operation_name: str | None, variables: Mapping[str, Any]
) -> int:
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    return max((selection_cost(op.selection_set, fragments, variables) for op in chosen), default=0)


class ErrorReasons(SchemaExtension):
    """Give every error of an operation its `extensions.reason` (see the module's docstring)."""

    def on_operation(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or []:
            reason, message = reason_of(error)
            error.extensions = {**(error.extensions or {}), "reason": reason}
            if message is not None:
                error.message = message


def reason_of(error: GraphQLError) -> tuple[str, str | None]:
    """The reason of an error, and the message to show instead of its own (None: its own)."""
    if error.extensions and "reason" in error.extensions:
        return str(error.extensions["reason"]), None
    cause = error.original_error
    if isinstance(cause, ClientError) or type(cause) is CkgError:
        return cause.reason, None
    if isinstance(cause, GraphQLError):  # a variable's value GraphQL refused
        return "invalid_query", None
    if isinstance(cause, Unavailable):
        return cause.reason, UNAVAILABLE_MESSAGE
    if cause is not None:
        return "internal_error", INTERNAL_MESSAGE
    for prefix, reason in _REFUSALS:
        if prefix in error.message:
            return reason, None
    return "invalid_query", None


def is_fault(error: GraphQLError) -> bool:
    """An error the operator must see: not the caller's to correct, not a store outage."""
    cause = error.original_error
    expected = (
        isinstance(cause, ClientError | Unavailable | GraphQLError) or type(cause) is CkgError
    )
    return cause is not None and not expected
