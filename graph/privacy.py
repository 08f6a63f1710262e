"""Keyed tokens for personal identifiers, and masking for logs.

Identifiers that must be matched (e-mail, phone) and the subject ids on erasure receipts are
stored only as HMAC-SHA256 under a key from settings: equal inputs give equal tokens, so lookups
and the suppression list work, but without the key nobody can test a guessed address or id
against them (a plain hash of an e-mail address is reversible by dictionary).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets

from graph.errors import ConfigError
from graph.settings import Settings


def privacy_key(settings: Settings) -> bytes:
    """`CKG_PRIVACY_KEY`, else a random key kept in `CKG_PRIVACY_KEY_FILE` (created once)."""
    if settings.privacy_key is not None:
        return settings.privacy_key.get_secret_value().encode()
    path = settings.privacy_key_file or settings.data_dir.parent / "privacy.key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot read the privacy key {path}: {exc}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot create the privacy key {path}: {exc}") from None
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def normalize_email(value: str) -> str:
    return value.strip().lower()


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[^\d+]", "", value.strip())
    return ("+" if digits.startswith("+") else "") + digits.replace("+", "")


def token(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind:value`: `kind` keeps an e-mail and a phone number apart."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def subject_hash(key: bytes, subject_id: str) -> str:
    return token(key, "subject", subject_id)


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
