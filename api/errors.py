"""HTTP-only errors; domain errors map to status codes in api/app.py and nowhere else."""

from __future__ import annotations

from graph.errors import CkgError


class PayloadTooLarge(CkgError):
    reason = "payload_too_large"
