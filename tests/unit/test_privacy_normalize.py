"""Identifiers normalised before they are tokenised, the phone region setting, and times in
answers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings
from privacy.times import iso, iso_times
from privacy.tokens import normalize_email, normalize_phone, token

KEY = b"key"


def test_one_phone_number_is_one_token_however_it_is_written() -> None:
    spellings = ["+44 20 7946 0958", "020 7946 0958", "+442079460958", "+44 (20) 7946-0958"]
    tokens = {token(KEY, "phone", normalize_phone(s, "GB")) for s in spellings}
    assert len(tokens) == 1
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"


def test_a_national_number_is_read_in_the_region_given() -> None:
    assert normalize_phone("(202) 555-0143", "US") == "+12025550143"
    assert normalize_phone("+44 20 7946 0958", "US") == "+442079460958"  # explicit code wins


def test_an_unparseable_number_keeps_its_digits() -> None:
    assert normalize_phone("+(0) 1", "GB") == "+01"


def test_e_mail_is_case_folded() -> None:
    assert token(KEY, "email", normalize_email("Ann@Example.COM")) == token(
        KEY, "email", normalize_email("ann@example.com")
    )
    assert normalize_email(" STRASSE@Example.de ") == normalize_email("straße@example.de")


def test_the_phone_region_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().default_phone_region == "GB"
    monkeypatch.setenv("CKG_DEFAULT_PHONE_REGION", "us")
    assert Settings().default_phone_region == "US"
    monkeypatch.setenv("CKG_DEFAULT_PHONE_REGION", "XX")
    with pytest.raises(ValidationError, match="default_phone_region"):
        Settings()


def test_stored_times_become_iso_strings() -> None:
    doc = {
        "at": 1322726400000,
        "count": 3,
        "flag_at": True,
        "rows": [{"last_at": 1322726400123, "since": 0, "name": "x", "started_at": None}],
    }
    assert iso_times(doc) == {
        "at": "2011-12-01T08:00:00Z",
        "count": 3,
        "flag_at": True,
        "rows": [
            {
                "last_at": "2011-12-01T08:00:00.123000Z",
                "since": "1970-01-01T00:00:00Z",
                "name": "x",
                "started_at": None,
            }
        ],
    }
    assert iso(None) is None
