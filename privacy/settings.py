"""The privacy room's settings: the identifier key, consent defaults and retention."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from graph.model import Purpose
from graph.settings import StoreSettings

DEFAULT_PHONE_REGION = "GB"


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
    default_phone_region: str = Field(
        default=DEFAULT_PHONE_REGION,
        description="Region (ISO 3166 code) of phone numbers given without a country code, "
        "for their E.164 form; lookups and tokens depend on it, so keep it stable.",
    )

    @field_validator("default_phone_region")
    @classmethod
    def _check_region(cls, v: str) -> str:
        import phonenumbers

        region = v.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{v!r} is not a region phone numbers are known for")
        return region
