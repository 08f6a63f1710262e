"""Settings from the environment (`CKG_` prefix) or a `.env` file.

`get_settings()` is cached so a process reads its environment once; tests call
`get_settings.cache_clear()` after changing it (see tests/conftest.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.model import Purpose

Engine = Literal["falkordb", "neo4j"]


class ApiKeyConfig(BaseModel):
    """An API key given in settings: its SHA-256 only, never the key itself."""

    name: str = Field(min_length=1, max_length=100)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[str] = Field(min_length=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CKG_", env_file=".env", extra="ignore")

    engine: Engine | None = Field(
        default=None,
        description="Store engine; default: neo4j when neo4j_uri is set, else falkordb.",
    )

    # Neo4j (production)
    neo4j_uri: str | None = Field(default=None, description="bolt://, neo4j:// or neo4j+s:// URI.")
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("neo4j")
    neo4j_database: str | None = Field(
        default=None, description="Database name; server default if unset."
    )
    neo4j_connect_timeout_s: float = 5.0

    # Embedded FalkorDB (default)
    data_dir: Path = Field(default=Path(".ckg/data"), description="Embedded store data directory.")
    embedded_host: str = "127.0.0.1"
    embedded_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port.")
    embedded_start_timeout_s: float = 60.0
    embedded_replay_budget_s: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Compact the append-only log once the writes logged since the last compaction took"
            " this long to run: a crash replays them in about as long, so this bounds restarts."
        ),
    )
    embedded_query_timeout_s: float = Field(
        default=300.0, gt=0, description="Give up on an embedded-store reply after this long."
    )
    graph_name: str = "ckg"

    auto_schema: bool = Field(
        default=True,
        description="Apply cypher/schema/<engine>.cypher (idempotent) when a store opens.",
    )

    # API
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

    # Chatbot context
    context_rules_file: Path | None = Field(
        default=None, description="Triggers, promotions and verbosity; default: the bundled file."
    )
    default_timezone: str = Field(
        default="UTC", description="For local time when neither request nor customer gives one."
    )
    popular_window_days: int = Field(default=90, ge=1, le=3650)
    popular_cache_s: float = Field(default=300.0, ge=0)

    # Privacy
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

    # Writes
    write_batch_size: int = Field(default=5000, ge=1, le=100_000)
    ingest_batch_size: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description=(
            "Input lines per batch of a file load: a batch merges the repeats of a product,"
            " customer or purchase pair into one row, so larger batches write less (20,000 took"
            " about a fifth less store time than 5,000 on the retail file); larger also means a"
            " longer wait before the first write and after the last parse."
        ),
    )

    @field_validator("neo4j_uri")
    @classmethod
    def _check_uri(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if not v.startswith(schemes):
            raise ValueError(f"must start with one of {', '.join(schemes)}")
        return v

    @field_validator("default_timezone")
    @classmethod
    def _check_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not an IANA time zone") from None
        return v

    @property
    def resolved_engine(self) -> Engine:
        if self.engine is not None:
            return self.engine
        return "neo4j" if self.neo4j_uri else "falkordb"


@lru_cache
def get_settings() -> Settings:
    return Settings()
