"""The event ingestion pipeline: validated, normalised, idempotent batched loading."""
