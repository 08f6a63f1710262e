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


@pytest.mark.parametrize(
    "text",
    [
        "+44 20 7946 0958",
        "+442079460958",
        "+1 (555) 123-4567",
        "+44 (0)20 7946 0958",
        "0044 20 7946 0958",
        "(020) 7946 0958",
        "020-7946-0958",
        "0161 496 0000",
        "07700 900123",
        "06 12 34 56 78",
        "030 12345678",
        "555-123-4567",
        "555.123.4567",
    ],
)
def test_mask_finds_phone_numbers_as_people_write_them(text: str) -> None:
    assert mask(f"call {text} today") == "call <phone> today"


@pytest.mark.parametrize(
    "text",
    [
        "85123A 22423 84879 DCGS0003 A13",  # SKUs
        "536365 C536379 536365 536366 536367",  # invoice numbers, also in a list
        "orders 536365-536370",
        "2.55 3.39 12.50 15.30 1 234 567 80995",  # prices and quantities
        "2011-12-01 08:26 01.12.2011 01/12/2011 01-12-2011 01 12 2011",
        "2011-12-01T08:26:00+02:00 at +01:00",
        "192.168.100.200 10.0.0.1:8080 127.0.0.1:48276",
        "eshop:24:00001 retail:536365 evt-0001",
        "07700900123 5363651234",  # bare digit runs are ids far more often than phones
        "50% off 100%25 a%2Fb",
    ],
)
def test_mask_keeps_ids_prices_dates_and_addresses(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize(
    "text, masked",
    [
        ("/v1/customers/alice.secret%40example.com", "/v1/customers/<email>"),
        ("/v1/customers/ann%2Bshop%40example.com/export", "/v1/customers/<email>/export"),
        ("/v1/customers/%2B44%2020%207946%200958", "/v1/customers/<phone>"),
        ("/x?email=a%40b.org&n=J%C3%B6rg", "/x?email=<email>&n=J%C3%B6rg"),
        ("/search?q=call+%2B44+20+7946+0958", "/search?q=call <phone>"),
        ("/v1/products/85123A%20B/similar", "/v1/products/85123A%20B/similar"),
    ],
)
def test_mask_decodes_percent_encoding(text: str, masked: str) -> None:
    assert mask(text) == masked
    assert mask(masked) == masked


def test_access_log_records_are_masked_in_the_path() -> None:
    """A record as uvicorn's httptools protocol logs it, through uvicorn's access formatter:
    the path arrives re-quoted (`urllib.parse.quote(scope["path"])`), so `@` is `%40`."""
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/customers/alice.secret%40example.com", "1.1", 404),
        None,
    )
    assert MaskingFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert line == '127.0.0.1:5000 - "GET /v1/customers/<email> HTTP/1.1" 404 Not Found'


def test_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("ckg.test")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="ckg.test"):
        try:
            raise ValueError("no customer alice@example.com at +44 20 7946 0958")
        except ValueError:
            log.exception("lookup failed")
    assert "alice@example.com" not in caplog.text and "7946" not in caplog.text
    assert "ValueError: no customer <email> at <phone>" in caplog.text
    assert "Traceback (most recent call last)" in caplog.text
    record = caplog.records[-1]
    assert record.exc_text is not None and "<email>" in record.exc_text


def test_stack_info_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("ckg.test")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="ckg.test"):
        _log_with_stack(log, "bob@example.org")
    assert "bob@example.org" not in caplog.text and "Stack (most recent call last)" in caplog.text


def _log_with_stack(log: logging.Logger, email: str) -> None:
    log.info("where", stack_info=True)  # the stack shows this line and the caller's
    assert email  # the caller's line holds the address
