"""The REST answer models as GraphQL object types, so both APIs hold the same fields.

A mirrored type has a model's fields under the same names (camel-cased by GraphQL) and
descriptions; resolvers return the pydantic objects the REST building blocks make, and the
default resolver reads their attributes. Literal fields are plain strings in GraphQL (their
values, such as `chatbot:read`, are not GraphQL enum names).
"""

from __future__ import annotations

import dataclasses
import logging
import types
from typing import Any, Literal, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel

logger = logging.getLogger(__name__)

_SCALARS = (str, int, float, bool)
_MIRRORS: dict[type[BaseModel], Any] = {}


def _graphql_annotation(annotation: Any) -> Any:
    """The GraphQL-side annotation of one model field's type."""
    origin = get_origin(annotation)
    if origin is Literal:
        return str
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"{annotation}: only `X | None` unions can be mirrored")
        return _graphql_annotation(members[0]) | None
    if origin is list:
        (item,) = get_args(annotation)
        return list[_graphql_annotation(item)]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return mirror(annotation)
    if annotation in _SCALARS:
        return annotation
    raise TypeError(f"{annotation}: no GraphQL counterpart")


def mirror(model: type[BaseModel]) -> Any:
    """The GraphQL type of `model`, named after it without the `Public` suffix; made once."""
    if model in _MIRRORS:
        return _MIRRORS[model]
    fields = [
        (
            name,
            _graphql_annotation(info.annotation),
            dataclasses.field(default=strawberry.field(description=info.description)),
        )
        for name, info in model.model_fields.items()
    ]
    name = model.__name__.removesuffix("Public")
    cls = dataclasses.make_dataclass(name, fields)
    cls.__doc__ = model.__doc__ if model.__doc__ != BaseModel.__doc__ else None
    _MIRRORS[model] = strawberry.type(cls, name=name, description=cls.__doc__)
    return _MIRRORS[model]
