"""The dataset adapters on real rows from the bundled samples and on the dirt they must handle."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import islice
from typing import Any

import pytest

from ingest.adapters import eshop_clickstream, online_retail
from ingest.datasets import ESHOP_SAMPLE, RETAIL_SAMPLE
from ingest.events import EventRejected, ProductView, Purchase, parse_event
from ingest.sources import read_csv

ROW = {
    "InvoiceNo": "536365",
    "StockCode": "85123A",
    "Description": "WHITE HANGING HEART T-LIGHT HOLDER",
    "Quantity": "6",
    "InvoiceDate": "2010-12-01 08:26:00",
    "UnitPrice": "2.55",
    "CustomerID": "17850.0",
    "Country": "United Kingdom",
}


def test_online_retail_purchase_keeps_the_datasets_ids() -> None:
    event = parse_event(online_retail(ROW))
    assert isinstance(event, Purchase)
    assert event.customer_id == "17850"
    assert event.lines[0].product_id == "85123A"
    assert event.lines[0].name == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert (event.order_id, event.session_id) == ("536365", "retail:536365")
    assert event.amount == pytest.approx(15.3)
    assert event.currency == "GBP" and event.country == "GB"
    assert event.timestamp.isoformat() == "2010-12-01T08:26:00+00:00"  # GMT in winter


def test_online_retail_summer_time_is_utc() -> None:
    event = parse_event(online_retail({**ROW, "InvoiceDate": "2011-07-01 10:00:00"}))
    assert event.timestamp.isoformat() == "2011-07-01T09:00:00+00:00"


def test_online_retail_dirt() -> None:
    cancel = parse_event(online_retail({**ROW, "InvoiceNo": "C536379", "Quantity": "-2"}))
    assert cancel.type == "cancellation"
    guest = parse_event(online_retail({**ROW, "CustomerID": ""}))
    assert (guest.customer_id, guest.anonymous_id) == (None, "retail-guest-536365")
    for bad in (
        {**ROW, "StockCode": "POST"},
        {**ROW, "Quantity": "-3"},
        {**ROW, "StockCode": "BANK CHARGES"},
    ):
        with pytest.raises(EventRejected) as exc:
            online_retail(bad)
        assert exc.value.reason == "not_customer_activity"
    with pytest.raises(EventRejected) as exc:
        online_retail({**ROW, "Quantity": "six"})
    assert exc.value.reason == "invalid_field"
    # same row twice = same event id: the dataset's exact duplicates count as duplicates
    assert online_retail(ROW)["event_id"] == online_retail(dict(ROW))["event_id"]
    assert online_retail(ROW)["event_id"] != online_retail({**ROW, "Quantity": "7"})["event_id"]


def test_eshop_view() -> None:
    row = {
        "year": "2008",
        "month": "4",
        "day": "1",
        "order(sells)": "3",
        "country": "29",
        "session ID": "1",
        "page 1 (main category)": "2",
        "page 2 (clothing model)": "B4",
        "colour": "10",
        "location": "2",
        "model photography": "1",
        "price": "52",
        "price 2": "1",
        "page": "1",
    }
    event = parse_event(eshop_clickstream(row))
    assert event.type == "product_view"
    assert (event.event_id, event.session_id, event.anonymous_id) == (
        "eshop:1:00003",
        "eshop:1",
        "eshop-1",
    )
    assert event.product_id == "B4" and event.category_id == "skirts"
    assert event.country == "PL" and event.price == 52.0
    assert event.name == "B4 (olive skirts)"  # colour 10 in the dataset's description
    unknown = parse_event(eshop_clickstream({**row, "colour": "99", "page 1 (main category)": "9"}))
    assert isinstance(unknown, ProductView)
    assert unknown.name == "B4" and unknown.category_id is None


@pytest.mark.parametrize(
    ("path", "adapter", "delimiter"),
    [(RETAIL_SAMPLE, online_retail, ","), (ESHOP_SAMPLE, eshop_clickstream, ";")],
)
def test_sample_rows_parse(path, adapter, delimiter) -> None:  # type: ignore[no-untyped-def]
    outcomes: Counter[str] = Counter()
    for record in islice(read_csv(path, delimiter=delimiter), 5000):
        assert record.data is not None
        try:
            parse_event(adapter(record.data))
            outcomes["ok"] += 1
        except EventRejected as exc:
            outcomes[exc.reason] += 1
    assert outcomes["ok"] > 4800, outcomes
    assert set(outcomes) <= {"ok", "not_customer_activity"}, outcomes


def _outcome(adapter: Callable[[dict[str, Any]], dict[str, Any]], row: dict[str, Any]) -> Any:
    try:
        return adapter(row)
    except EventRejected as exc:
        return (exc.reason, exc.message, exc.field)


def test_online_retail_fast_path_matches_the_checked_path() -> None:
    """CSV rows take a one-step column fetch; it must give what field-by-field checking gives,
    on every sample row and on dirt (padding, odd blanks, bad numbers, service codes)."""
    from ingest.adapters import _online_retail_checked

    rows = [r.data for r in read_csv(RETAIL_SAMPLE) if r.data is not None]
    dirt = [
        {**ROW, "Quantity": " 6 "},
        {**ROW, "Quantity": "6\x1c"},
        {**ROW, "UnitPrice": "x"},
        {**ROW, "InvoiceDate": "2010-12-01T08:26"},
        {**ROW, "CustomerID": " "},
        {**ROW, "InvoiceNo": " C536379 ", "Quantity": "-2"},
        {**ROW, "StockCode": " POST"},
        {**ROW, "Quantity": "0"},
        {**ROW, "Description": ""},
        {**ROW, "Country": ""},
    ]
    for row in [*rows, *dirt]:
        assert _outcome(online_retail, row) == _outcome(_online_retail_checked, row), row
    # not CSV text: a missing column or a number goes the checked way and is reported alike
    missing = {k: v for k, v in ROW.items() if k != "UnitPrice"}
    assert _outcome(online_retail, missing)[0] == "missing_field"
    assert _outcome(online_retail, {**ROW, "Quantity": 6}) == _outcome(
        _online_retail_checked, {**ROW, "Quantity": 6}
    )
