"""Log output as the service configures it: one masked line per record, as text or JSON, with
the id of the request it belongs to."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.logs import NO_REQUEST, log_config, request_id
from tests.helpers import restored_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    with restored_logging():
        yield io.StringIO()


def _lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line]


def _configure(stream: io.StringIO, fmt: Any, level: str = "info") -> None:
    """The service's handlers, writing to `stream` instead of stderr and stdout."""
    logging.config.dictConfig(log_config(fmt, level))
    for name in ("", "uvicorn", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(stream)


def test_json_lines_carry_level_logger_message_request_and_masked_traceback(
    stream: io.StringIO,
) -> None:
    _configure(stream, "json")
    log = logging.getLogger("ckg.test.logs")
    log.info("plain %s", "words")
    token = request_id.set("turn-7")
    try:
        raise ValueError("no customer with e-mail jane.doe@example.com")
    except ValueError:
        log.exception("lookup for %s failed", "jane.doe@example.com")
    finally:
        request_id.reset(token)
    first, second = (json.loads(line) for line in _lines(stream))
    assert first["level"] == "info" and first["logger"] == "ckg.test.logs"
    assert first["message"] == "plain words" and first["request_id"] == NO_REQUEST
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert "exception" not in first
    assert second["level"] == "error" and second["request_id"] == "turn-7"
    assert second["message"] == "lookup for <email> failed"
    assert "ValueError: no customer with e-mail <email>" in second["exception"]
    assert "Traceback" in second["exception"]
    assert "jane.doe" not in stream.getvalue()


def test_text_lines_are_utc_level_logger_request_message(stream: io.StringIO) -> None:
    _configure(stream, "text")
    token = request_id.set("abc123")
    try:
        logging.getLogger("ckg.test.logs").warning("call +44 20 7946 0958 back")
    finally:
        request_id.reset(token)
    (line,) = _lines(stream)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ WARNING ckg\.test\.logs \[abc123\] call <phone> back",
        line,
    ), line


def test_the_level_is_honoured_and_the_access_log_fields_are_named(stream: io.StringIO) -> None:
    _configure(stream, "json", "warning")
    logging.getLogger("ckg.test.logs").info("left out")
    logging.getLogger("uvicorn.access").warning(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/v1/customers/a@b.example", "1.1", 404
    )
    (line,) = (json.loads(x) for x in _lines(stream))
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v1/customers/<email>", 404)
    assert line["client"] == "127.0.0.1:5000" and line["logger"] == "uvicorn.access"


def test_every_handler_masks_and_tags() -> None:
    config = log_config("json")
    for name, handler in config["handlers"].items():
        assert handler["filters"] == ["mask", "request_id"], name
    assert config["filters"]["mask"]["()"] == "privacy.masking.MaskingFilter"
    assert config["root"]["handlers"] == ["stderr"]
