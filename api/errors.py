"""Errors only the HTTP edge raises; every error maps to a status code in api/app.py alone."""

from __future__ import annotations

from graph.errors import ClientError, NotFound


class PayloadTooLarge(ClientError):
    """The request body or its batch is over the configured limit."""

    reason = "payload_too_large"


class SessionNotMapped(NotFound):
    """A bot platform's request names no ckg session: neither the documented parameter nor a
    usable id of the platform's own session."""

    reason = "session_not_mapped"
