"""The privacy room's settings: the identifier key, consent defaults and retention."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from graph.model import Purpose
from graph.settings import StoreSettings


class PrivacySettings(StoreSettings):
    privacy_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for identifier tokens and erasure hashes; keep it stable.",
    )
    privacy_key_file: Path | None = Field(
        default=None,
        description="Where a generated key is kept when CKG_PRIVACY_KEY is unset; default: "
        "privacy.key beside the data directory.",
    )
    consent_defaults: list[Purpose] = Field(
        default_factory=list,
        description="Purposes granted to customers created through the API without a decision "
        "(opt-in: none).",
    )
    retention_days: int | None = Field(
        default=None, ge=1, description="`ckg retention` deletes sessions and events older."
    )
