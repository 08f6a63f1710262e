"""Masking of personal identifiers (e-mail addresses, phone numbers) in logs and messages."""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d ()./-]{6,}\d")


# digit runs that look like phone numbers but are not: IPv4 addresses and ISO dates
_NOT_PHONE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|\d{4}-\d{2}-\d{2}")


def _phone(m: re.Match[str]) -> str:
    return m.group() if _NOT_PHONE.fullmatch(m.group()) else "<phone>"


def mask(text: str) -> str:
    """E-mail addresses and phone-like digit runs replaced, for logs and error messages."""
    return _PHONE.sub(_phone, _EMAIL.sub("<email>", text))


def _masked(value: object) -> object:
    return mask(value) if isinstance(value, str) else value


class MaskingFilter(logging.Filter):
    """Masks personal identifiers in every record that passes a handler.

    The template and each argument are masked apart, so the record keeps its shape: formatters
    that read `record.args` (uvicorn's access log unpacks it) still work. A record whose
    arguments only form an identifier together is masked as one formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _masked(v) for k, v in record.args.items()}
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_log_masking() -> None:
    """Attach the filter to the root handlers and uvicorn's, once."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "ckg"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
