"""Masking of personal identifiers (e-mail addresses, phone numbers) in logs, messages and the
free text of events.

One rule everywhere: `mask`. It must find identifiers in text it knows nothing about (a log
line, a search, a chat turn, a URL path) and leave alone what merely looks numeric: ids, SKUs
(85123A), invoice numbers (536365), prices, dates, times and IPv4 addresses. So a phone number is
at least 7 digits written the way people write phone numbers: after a leading + (an
international number, any grouping), or in groups with separators (an area code in parentheses,
a trunk 0 followed by groups, or the North American 3-3-4). A bare run of digits is never a phone
number here: it is far more often an id.

Percent-encoded text (a URL path segment or a query value, `alice%40example.com`) is decoded
before matching, since that is how an address travels in a URL.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, unquote_plus

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w.+/:-])(?:"
    r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,6}){1,6}"  # +44 20 7946 0958, +1 (555) 123-4567
    r"|\(\d{2,5}\)[ .-]?\d{3,8}(?:[ .-]\d{2,4}){0,3}"  # (020) 7946 0958
    r"|0\d{1,4}(?P<sep>[ .-])\d{2,8}(?:(?P=sep)\d{2,4}){0,4}"  # 020-7946-0958, 06 12 34 56 78
    r"|\d{3}(?P<nanp>[ .-])\d{3}(?P=nanp)\d{4}"  # 555-123-4567
    r")(?!\w|[ .-]\d)"  # the number ends here: not a prefix of a longer one
)
_MIN_DIGITS, _MAX_DIGITS = 7, 15  # E.164 allows at most 15
# Grouped digits that are dates (2011-12-01, 01.12.2011, 01 12 2011), not phone numbers.
_DATE = re.compile(r"\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}")
# A run of URL-ish characters with at least one %XX escape: one path segment or query value.
_ENCODED = re.compile(r"[^\s/?#&=;\"'<>]*%[0-9A-Fa-f]{2}[^\s/?#&=;\"'<>]*")


def _phone(m: re.Match[str]) -> str:
    text = m.group()
    digits = sum(ch.isdigit() for ch in text)
    if not _MIN_DIGITS <= digits <= _MAX_DIGITS:
        return text
    if not text.startswith("+") and _DATE.fullmatch(text):
        return text
    return "<phone>"


def _mask_plain(text: str) -> str:
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    return _PHONE.sub(_phone, text)


def _mask_encoded(m: re.Match[str]) -> str:
    """The decoded token masked if it holds an identifier, else the token as it was. `+` is
    tried both as itself (e-mail addresses may hold one) and as a form-encoded space."""
    token = m.group()
    for decoded in (unquote(token), unquote_plus(token)):
        masked = _mask_plain(decoded)
        if masked != decoded:
            return masked
    return token


def mask(text: str) -> str:
    """E-mail addresses and phone numbers in `text` replaced by `<email>` and `<phone>`."""
    if "%" in text:
        text = _ENCODED.sub(_mask_encoded, text)
    return _mask_plain(text)


def _masked(value: object) -> object:
    return mask(value) if isinstance(value, str) else value


class MaskingFilter(logging.Filter):
    """Masks personal identifiers in every record that passes a handler.

    The template and each argument are masked apart, so the record keeps its shape: formatters
    that read `record.args` (uvicorn's access log unpacks it) still work. A record whose
    arguments only form an identifier together is masked as one formatted message. A traceback
    is formatted here, masked, and left in `exc_text`, which formatters print instead of
    formatting `exc_info` again: exception messages carry input too."""

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
        _mask_exception(record)
        return True


_FORMATTER = logging.Formatter()


def _mask_exception(record: logging.LogRecord) -> None:
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


def install_log_masking() -> None:
    """Attach the filter to the root handlers and uvicorn's, once."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "ckg"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
