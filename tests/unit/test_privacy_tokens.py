"""Keyed tokens and log masking."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from api.settings import Settings
from privacy.masking import MaskingFilter, mask
from privacy.tokens import normalize_email, normalize_phone, privacy_key, subject_hash, token


def test_tokens_are_keyed_and_normalised() -> None:
    a, b = b"key-a", b"key-b"
    assert token(a, "email", normalize_email(" Ann@Example.COM ")) == token(
        a, "email", "ann@example.com"
    )
    assert token(a, "email", "x") != token(b, "email", "x")  # no key, no match
    assert token(a, "email", "x") != token(a, "phone", "x")  # kinds kept apart
    assert normalize_phone("+44 (20) 7946-0958") == normalize_phone("+442079460958")
    assert subject_hash(a, "c-1") != subject_hash(b, "c-1")


def test_generated_key_is_created_once_and_private(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data", privacy_key_file=tmp_path / "p.key")
    k1, k2 = privacy_key(s), privacy_key(s)
    assert k1 == k2 and len(k1) == 64
    assert (tmp_path / "p.key").stat().st_mode & 0o777 == 0o600
    assert privacy_key(Settings(privacy_key="explicit")) == b"explicit"


@pytest.mark.parametrize(
    "text, hidden",
    [
        ("login by ann.smith+shop@example.co.uk failed", "ann.smith"),
        ("call +44 20 7946 0958 back", "7946"),
        ("phone 020-7946-0958", "7946"),
    ],
)
def test_mask(text: str, hidden: str) -> None:
    assert hidden not in mask(text)


def test_mask_keeps_addresses_and_dates() -> None:
    text = "127.0.0.1:48276 GET /v1/sessions/s-1/context?at=2011-12-01T10:00:00Z"
    assert mask(text) == text


def test_masked_records_keep_their_arguments(caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn's access formatter unpacks `record.args`: masking must not flatten them."""
    log = logging.getLogger("ckg.test")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="ckg.test"):
        log.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/x?email=a@b.org", "1.1", 200)
    record = caplog.records[-1]
    client, _, path, _, status = record.args  # type: ignore[misc]
    assert (client, path, status) == ("127.0.0.1:5000", "/x?email=<email>", 200)
    assert "a@b.org" not in caplog.text


def test_logs_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("ckg.test")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="ckg.test"):
        log.info("customer %s wrote from %s", "c-1", "bob@example.org")
    assert "bob@example.org" not in caplog.text and "<email>" in caplog.text
    assert "c-1" in caplog.text  # pseudonymous ids stay readable
