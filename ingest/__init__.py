"""Event ingestion: validated, normalised, idempotent batched loading (the ingestion issue)."""
