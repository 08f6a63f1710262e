"""The ingestion room's settings: how a file load batches its lines."""

from __future__ import annotations

from pydantic import Field

from graph.settings import StoreSettings
from privacy.settings import PrivacySettings


class IngestSettings(PrivacySettings):
    """Ingestion applies the privacy policy (suppression, consent), so it carries its settings."""

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


def ingest_settings(settings: StoreSettings) -> IngestSettings:
    """The ingestion settings a store was opened with: the service's settings carry them; a
    store opened with store settings alone gets the defaults (and the environment's) for the
    rest."""
    if isinstance(settings, IngestSettings):
        return settings
    return IngestSettings.model_validate(settings.model_dump())
