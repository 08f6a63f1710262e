"""Errors only the HTTP edge raises; every error maps to a status code in api/app.py alone."""

from __future__ import annotations

from graph.errors import ClientError


class PayloadTooLarge(ClientError):
    """The request body or its batch is over the configured limit."""

    reason = "payload_too_large"
