"""Keyed tokens for personal identifiers, and the key they are made with.

Identifiers that must be matched (e-mail, phone) and the subject ids on erasure receipts are
stored only as HMAC-SHA256 under a key from settings: equal inputs give equal tokens, so lookups
and the suppression list work, but without the key nobody can test a guessed address or id
against them (a plain hash of an e-mail address is reversible by dictionary).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets

import phonenumbers

from graph.errors import ConfigError
from privacy.settings import DEFAULT_PHONE_REGION, PrivacySettings


def privacy_key(settings: PrivacySettings) -> bytes:
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
    """Case-folded: `Ann@Example.COM` and `ann@example.com` are one address to match."""
    return value.strip().casefold()


def normalize_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 (`+442079460958`), reading a number without a country code as one of `region`,
    so the international and national spellings of a number are one token. A number that
    cannot be parsed keeps its digits (and a leading `+`), as before E.164."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"[^\d+]", "", value.strip())
        return ("+" if digits.startswith("+") else "") + digits.replace("+", "")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def token(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind:value`: `kind` keeps an e-mail and a phone number apart."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def subject_hash(key: bytes, subject_id: str) -> str:
    return token(key, "subject", subject_id)
