"""The service's whole configuration: the API's own settings on top of every room's.

`get_settings()` is cached so a process reads its environment once; tests call
`get_settings.cache_clear()` after changing it (see tests/conftest.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from ingest.settings import IngestSettings


class ApiKeyConfig(BaseModel):
    """An API key given in settings: its SHA-256 only, never the key itself."""

    name: str = Field(min_length=1, max_length=100)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[str] = Field(min_length=1)


class Settings(IngestSettings):
    """Store, privacy and ingestion settings, plus the HTTP API's and the chatbot context's."""

    api_keys_file: Path = Field(
        default=Path(".ckg/api-keys.json"),
        description="Hashed API keys with scopes (written by `ckg keys create`).",
    )
    api_keys: list[ApiKeyConfig] = Field(
        default_factory=list,
        description=(
            'Keys given in settings rather than the keys file, as JSON: [{"name": "bot", '
            '"sha256": "<hex digest of the key>", "scopes": ["chatbot:read"]}]. Hashes only.'
        ),
    )
    api_max_events: int = Field(
        default=1000, ge=1, le=100_000, description="Most events one POST /v1/events may carry."
    )
    api_max_body_bytes: int = Field(default=5_000_000, ge=1_000)
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text or as one JSON object each (time, level, logger, "
        "message, request_id, exception).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        description="The lowest level logged: `ckg serve` logs from `info` unless set; other "
        "commands (whose report is their output) from `warning` unless set.",
    )

    # Chatbot context
    context_rules_file: Path | None = Field(
        default=None, description="Triggers, promotions and verbosity; default: the bundled file."
    )
    default_timezone: str = Field(
        default="UTC", description="For local time when neither request nor customer gives one."
    )
    popular_window_days: int = Field(default=90, ge=1, le=3650)
    popular_cache_s: float = Field(default=300.0, ge=0)

    @field_validator("default_timezone")
    @classmethod
    def _check_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not an IANA time zone") from None
        return v


@lru_cache
def get_settings() -> Settings:
    return Settings()
