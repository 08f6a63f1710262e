"""Data-subject operations, shared by the HTTP routes and the CLI, in one module each:
consent records (privacy/consents.py), customers and personal data (privacy/pii.py), export,
erasure, retention, the suppression list and the audit trail. Re-exported here by name."""

from __future__ import annotations

from privacy.consents import (
    ConsentState,
    change_consents,
    consent_history,
    consent_state,
    record_consents,
)
from privacy.erasure import ErasureReceipt, ReceiptRef, erase
from privacy.errors import ErasedSubject, ErasureIncomplete, SuppressionNotFound
from privacy.export import export
from privacy.pii import PiiFields, create_customer, find_customer, set_pii
from privacy.retention import DAY_MS, RetentionReport, retention
from privacy.suppression import SuppressionLifted, lift
from privacy.times import now_ms

__all__ = [
    "DAY_MS",
    "ConsentState",
    "ErasedSubject",
    "ErasureIncomplete",
    "ErasureReceipt",
    "PiiFields",
    "ReceiptRef",
    "RetentionReport",
    "SuppressionLifted",
    "SuppressionNotFound",
    "change_consents",
    "consent_history",
    "consent_state",
    "create_customer",
    "erase",
    "export",
    "find_customer",
    "lift",
    "now_ms",
    "record_consents",
    "retention",
    "set_pii",
]
