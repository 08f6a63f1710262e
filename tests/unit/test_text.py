"""api.text: text with a UTF-8 form passes, lone surrogates are a 422 at the edge."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from api.text import Text, encodable, require_text


class Named(BaseModel):
    name: Text


@pytest.mark.parametrize("good", ["", "plain", "é✓", "😀", "\ufffd", "a\x00b"])
def test_text_with_a_utf8_form_passes(good: str) -> None:
    assert encodable(good)
    assert Named(name=good).name == good
    assert require_text(good, "body", "name") == good


@pytest.mark.parametrize("bad", ["\ud800", "a\udc00b", "\udfff\ud800", "😀\ud83d"])
def test_lone_surrogates_are_refused(bad: str) -> None:
    assert not encodable(bad)
    with pytest.raises(ValidationError):
        Named(name=bad)
    with pytest.raises(RequestValidationError) as caught:
        require_text(bad, "body", "name")
    (error,) = caught.value.errors()
    assert error["loc"] == ("body", "name")
    assert error["input"] is None
    str(error["msg"]).encode("utf-8")  # the message itself can be sent
