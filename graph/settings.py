"""The store's settings, from the environment (`CKG_` prefix) or a `.env` file.

Only what the store needs to open a connection and write lives here; every other room adds its
own settings on top (ingest/settings.py, privacy/settings.py), and the service's whole
configuration is composed in api/settings.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Engine = Literal["falkordb", "neo4j"]


class StoreSettings(BaseSettings):
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
    neo4j_writer_lease_s: float = Field(
        default=30.0,
        ge=1.0,
        description="Time to live of the writer lease on Neo4j (extended every third of it "
        "while held): how long a crashed writer keeps the others waiting.",
    )

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

    # Writes
    write_batch_size: int = Field(default=5000, ge=1, le=100_000)

    @field_validator("neo4j_uri")
    @classmethod
    def _check_uri(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if not v.startswith(schemes):
            raise ValueError(f"must start with one of {', '.join(schemes)}")
        return v

    @property
    def resolved_engine(self) -> Engine:
        if self.engine is not None:
            return self.engine
        return "neo4j" if self.neo4j_uri else "falkordb"


@lru_cache
def get_store_settings() -> StoreSettings:
    return StoreSettings()
