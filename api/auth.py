"""API keys with scopes. Keys are random 256-bit tokens shown once; only their SHA-256 is kept.

A fast hash is the right tool here (unlike passwords, the keys carry full entropy), and
keys are looked up by digest. The keys file is re-read when it changes, so `ckg keys create`
takes effect without a restart.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from api.settings import ApiKeyConfig
from graph.errors import ClientError, ConfigError

Scope = Literal["chatbot:read", "ingest:write", "analyst:read", "privacy:admin", "metrics:read"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
KEY_PREFIX = "ckg_"


class AuthError(ClientError):
    """No key, or a key we do not know."""

    reason = "unauthenticated"


class ScopeError(ClientError):
    """A known key without the scope the route needs."""

    reason = "forbidden"


class AmbiguousCredentials(ClientError):
    """The same key header twice: which copy counts would depend on who reads it."""

    reason = "ambiguous_credentials"


# The two ways to present a key, as OpenAPI security schemes.
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <key>; wins over X-API-Key when both are sent.",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def security_requirement(scopes: Iterable[Scope]) -> list[dict[str, list[str]]]:
    """A key holding any one of `scopes`, in either header. OpenAPI 3.1 lets a requirement
    name roles for any scheme type; alternatives are separate requirements."""
    return [{scheme: [scope]} for scope in scopes for scheme in SECURITY_SCHEMES]


@dataclass(frozen=True)
class ApiKey:
    name: str
    sha256: str
    scopes: frozenset[str]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(path: Path, name: str, scopes: list[str]) -> str:
    """Add a key to the keys file and return it; this is the only time it exists in clear."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ConfigError(f"scopes must be among {', '.join(SCOPES)}; got {scopes or 'none'}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    entries = _read(path)
    entries.append(
        {
            "name": name,
            "sha256": digest(key),
            "scopes": sorted(set(scopes)),
            "created_at": int(time.time()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(entries, fh, indent=1)
    os.replace(tmp, path)
    return key


def _read(path: Path) -> list[dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise ConfigError(f"API keys file {path} is unreadable: {exc}") from exc
    if not isinstance(data, list):
        raise ConfigError(f"API keys file {path} must hold a JSON list")
    return data


def _from_config(c: ApiKeyConfig) -> ApiKey:
    unknown = [s for s in c.scopes if s not in SCOPES]
    if unknown:
        raise ConfigError(f"API key {c.name!r} in settings has unknown scopes {unknown}")
    return ApiKey(c.name, c.sha256, frozenset(c.scopes))


class KeyStore:
    """The known keys, reloaded when the file's modification time changes."""

    def __init__(self, path: Path, configured: Iterable[ApiKeyConfig] = ()) -> None:
        self.path = path
        self._configured = [_from_config(c) for c in configured]
        self._mtime: float | None = None
        self._by_digest = {k.sha256: k for k in self._configured}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime == self._mtime:
            return
        with self._lock:
            entries = _read(self.path)
            keys = [
                ApiKey(
                    str(e["name"]),
                    str(e["sha256"]),
                    frozenset(str(s) for s in e.get("scopes", [])),  # type: ignore[attr-defined]
                )
                for e in entries
            ]
            # settings' keys win over a file entry with the same digest
            self._by_digest = {k.sha256: k for k in [*keys, *self._configured]}
            self._mtime = mtime

    def check(self, presented: str | None, *scopes: Scope) -> ApiKey:
        """The key, if it holds any of `scopes`."""
        if not presented:
            raise AuthError("an API key is required (Authorization: Bearer <key>)")
        self._refresh()
        # A lookup by SHA-256 digest leaks nothing usable through timing: a caller cannot
        # steer the digest of what they present towards a stored one.
        match = self._by_digest.get(digest(presented))
        if match is None:
            raise AuthError("unknown API key")
        if match.scopes.isdisjoint(scopes):
            raise ScopeError(f"this key lacks the {' or '.join(scopes)} scope")
        return match
