"""The service's log output: one line per record, as text or as JSON, tagged with the request
it belongs to, and masked.

Modules log through `logging.getLogger(__name__)`; this module decides where the records go.
`ckg serve` hands `log_config(...)` to uvicorn, which applies it in every worker, so the app's
records, uvicorn's error log and its access log share one format and one set of filters: the
masking filter first (personal identifiers never reach a handler unmasked), then the request id.
`RequestId` gives every HTTP request an id (the caller's `X-Request-ID` when it is a sane token,
else a fresh one), sends it back in the answer's `X-Request-ID` and tags the records logged
while the request is served, uvicorn's access line and a fault's traceback included, so an
operator can go from a 500 a client reports to its cause.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode()
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
NO_REQUEST = "-"

request_id: ContextVar[str | None] = ContextVar("ckg_request_id", default=None)

# uvicorn's access record carries (client, method, path with query, HTTP version, status)
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get() or NO_REQUEST
        return True


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message`, the time in UTC."""

    converter = staticmethod(time.gmtime)

    def __init__(self) -> None:
        super().__init__(_TEXT, "%Y-%m-%dT%H:%M:%SZ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601 UTC), level, logger, message, request id, the
    traceback when there is one, and the access log's fields by name."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            out.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


def log_config(fmt: LogFormat = "text", level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` document: everything to stderr except uvicorn's access
    log (stdout, as uvicorn has it), every handler masked and tagged."""
    formatter: dict[str, Any] = {"()": JsonFormatter if fmt == "json" else TextFormatter}
    filters = ["mask", "request_id"]

    def handler(stream: str) -> dict[str, Any]:
        return {
            "class": "logging.StreamHandler",
            "stream": stream,
            "formatter": "ckg",
            "filters": filters,
        }

    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "mask": {"()": "privacy.masking.MaskingFilter"},
            "request_id": {"()": RequestIdFilter},
        },
        "formatters": {"ckg": formatter},
        "handlers": {
            "stderr": handler("ext://sys.stderr"),
            "access": handler("ext://sys.stdout"),
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": ["access"], "level": upper, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": upper},
    }


def configure(fmt: LogFormat = "text", level: str = "warning") -> None:
    """The same handlers for a command that runs no server (`ckg ingest`, `ckg erase`, ...)."""
    import logging.config

    logging.config.dictConfig(log_config(fmt, level))


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER_KEY:
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) else None
    return None


class RequestId:
    """Plain ASGI middleware: the request's id in the log context and in the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming(scope) or uuid.uuid4().hex
        # Not reset afterwards: uvicorn serves each request in a task of its own (a copy of
        # the context), and logs a fault's traceback after the app has returned, in the
        # same task, where the id should still be set.
        request_id.set(rid)
        header = (_HEADER_KEY, rid.encode("latin-1"))

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, tagged)
