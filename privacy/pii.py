"""Customers created through the API and their personal data, matched by keyed token.

Personal data lives on the customer's one PII node; e-mail and phone are also kept as keyed
tokens of their normalised form (privacy/tokens.py), the only form in which they are matched.
Nothing is created or stored for a subject on the suppression list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from graph.errors import CkgError, CustomerNotFound
from graph.model import Purpose
from graph.queries import Queries
from graph.store import Store
from privacy.consent import PURPOSES
from privacy.consents import record_consents
from privacy.settings import DEFAULT_PHONE_REGION
from privacy.suppression import erased, refuse_erased
from privacy.times import now_ms
from privacy.tokens import normalize_email, normalize_phone, token

# Not `@` and not white space, spelled out: `\s` means other characters in JSON Schema's
# (ECMA-262) regexes than in the one that checks them here.
_EMAIL_PART = r"[^@\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"


class PiiFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(
        default=None, max_length=254, pattern=f"^{_EMAIL_PART}@{_EMAIL_PART}$"
    )
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[\d ()./-]{5,40}$")
    name: str | None = Field(default=None, max_length=200)


def create_customer(
    store: Store,
    q: Queries,
    key: bytes,
    customer_id: str,
    country: str | None,
    pii: PiiFields | None,
    consents: Mapping[Purpose, bool],
    defaults: Iterable[Purpose],
    source: str,
    *,
    region: str = DEFAULT_PHONE_REGION,
) -> bool:
    """Create (or find) a customer; with no consent given, the configured defaults are
    recorded as decisions of source `default`, so the history shows why. `ErasedSubject`
    for an erased id: an erasure is not undone by creating the id again."""
    h = refuse_erased(store, q, key, customer_id)
    at = now_ms()
    res = store.write(
        q.create_customer, {"id": customer_id, "hash": h, "at": at, "country": country}
    )
    if not res.returned:  # suppressed between the check and the write
        raise erased(customer_id)
    created = res.counters.get("nodes_created", 0) > 0
    if pii is not None:
        set_pii(store, q, key, customer_id, pii, region=region)
    if consents:
        record_consents(store, q, key, customer_id, consents, source, at)
    elif created:
        record_consents(
            store, q, key, customer_id, {p: p in set(defaults) for p in PURPOSES}, "default", at
        )
    return created


def set_pii(
    store: Store,
    q: Queries,
    key: bytes,
    customer_id: str,
    pii: PiiFields,
    *,
    region: str = DEFAULT_PHONE_REGION,
) -> None:
    h = refuse_erased(store, q, key, customer_id)
    email = normalize_email(pii.email) if pii.email else None
    phone = normalize_phone(pii.phone, region) if pii.phone else None
    res = store.write(
        q.upsert_pii,
        {
            "id": customer_id,
            "hash": h,
            "email": email,
            "phone": phone,
            "name": pii.name,
            "email_token": token(key, "email", email) if email else None,
            "phone_token": token(key, "phone", phone) if phone else None,
            "at": now_ms(),
        },
    )
    if not res.returned:
        refuse_erased(store, q, key, customer_id)  # erased between the check and the write
        raise CustomerNotFound(f"no customer {customer_id!r}")


def find_customer(
    store: Store,
    q: Queries,
    key: bytes,
    *,
    email: str | None = None,
    phone: str | None = None,
    region: str = DEFAULT_PHONE_REGION,
) -> list[str]:
    if email:
        tok = token(key, "email", normalize_email(email))
    elif phone:
        tok = token(key, "phone", normalize_phone(phone, region))
    else:
        raise CkgError("give an e-mail address or a phone number")
    return sorted({r["id"] for r in store.read(q.customer_by_token, {"token": tok})})
