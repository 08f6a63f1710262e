"""Text the store can carry: strings that have a UTF-8 form.

JSON's `\\ud800` escape decodes to a lone UTF-16 surrogate, a Python string no UTF-8 encoder
accepts: the store's clients fail on it while packing the command, as a fault of ours rather than
the caller's. pydantic refuses such strings only in fields with a length or pattern constraint;
`Text` (a field type) and `require_text` (for a value a route already holds) refuse them
everywhere else, with the same 422 as any invalid field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

INVALID_TEXT = "text must be valid Unicode: a lone UTF-16 surrogate (such as \\ud800) is not"


def encodable(value: str) -> bool:
    """True when `value` has a UTF-8 form (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def no_surrogates(value: str) -> str:
    """A pydantic validator: the value as is, or a ValueError."""
    if not encodable(value):
        raise ValueError(INVALID_TEXT)
    return value


Text = Annotated[str, AfterValidator(no_surrogates)]


def require_text(value: str, *loc: str | int) -> str:
    """`no_surrogates` for a value a route holds: the app's 422 for the field at `loc`."""
    if encodable(value):
        return value
    # "input" is left out: the answer must not carry the very text it refuses
    raise RequestValidationError(
        [{"type": "string_unicode", "loc": loc, "msg": INVALID_TEXT, "input": None}]
    )
