"""Adapters from the bundled real datasets' rows to ckg events.

Both keep the datasets' own ids: online-retail's CustomerID without the float's `.0` is the
customer id and StockCode is the product id unchanged; e-shop product codes ("A13") likewise.
Event ids are derived from the row, so loading a file again finds every event already stored,
and the dataset's exact duplicate rows count as duplicates rather than as two purchases.

| dataset row | becomes |
|---|---|
| online-retail, positive quantity | `purchase` of one line; session and order = the invoice |
| online-retail, invoice starting with C | `cancellation` of that line (quantity made positive) |
| online-retail, quantity <= 0 outside a C invoice | rejected `not_customer_activity` (stock) |
| online-retail, service code (POST, DOT, M, BANK CHARGES, ...) | rejected `not_customer_activity` |
| online-retail, no CustomerID | anonymous id `retail-guest-<invoice>` (a guest checkout) |
| e-shop clickstream row | `product_view` named "<model> (<colour> <category>)"; session = visitor |

Consecutive online-retail rows of one invoice (same kind, customer and time) form ONE purchase
or cancellation event with all its lines (`RetailOrders`): an invoice is one order, and one
Event node per order instead of per line keeps the graph, and the load, a fraction of the size.
Reconciliation still counts input lines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ingest.events import EventRejected
from ingest.normalize import eshop_country

# Postage, fees, manual adjustments: real charges, but not products a customer chose.
RETAIL_SERVICE_CODES = frozenset(
    {"POST", "DOT", "M", "m", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS"}
)
RETAIL_TZ = ZoneInfo("Europe/London")  # the retailer is in the UK; its times are local
ESHOP_CATEGORIES = {"1": "trousers", "2": "skirts", "3": "blouses", "4": "sale"}
# the dataset's description file: colour codes (each clothing model has one colour)
ESHOP_COLOURS = {
    1: "beige", 2: "black", 3: "blue", 4: "brown", 5: "burgundy", 6: "gray", 7: "green",
    8: "navy blue", 9: "multicoloured", 10: "olive", 11: "pink", 12: "red", 13: "violet",
    14: "white",
}  # fmt: skip


def _row_id(prefix: str, row: Mapping[str, Any]) -> str:
    values = row.values()
    try:
        text = "\x1f".join(values)  # CSV rows hold strings only: the same text, faster
    except TypeError:
        text = "\x1f".join(str(v) for v in values)
    digest = hashlib.sha1(text.encode(), usedforsecurity=False)
    return f"{prefix}:{digest.hexdigest()[:20]}"


def _field(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    if value is None:
        raise EventRejected("missing_field", f"{name}: column missing", field=name)
    return str(value).strip()


@lru_cache(maxsize=4096)
def _retail_time(text: str) -> str:
    """`2010-12-01 08:26:00` (London time) as ISO 8601 with its offset.

    Parsed by position (strptime was the slowest step of a load) and memoised: an invoice's
    lines share one time.
    """
    if len(text) != 19 or text[4] != "-" or text[7] != "-" or text[10] != " ":
        raise ValueError(f"InvoiceDate {text!r} is not YYYY-MM-DD HH:MM:SS")
    local = datetime(
        int(text[0:4]),
        int(text[5:7]),
        int(text[8:10]),
        int(text[11:13]),
        int(text[14:16]),
        int(text[17:19]),
    )
    return local.replace(tzinfo=RETAIL_TZ).isoformat()


_RETAIL_COLUMNS = itemgetter(
    "InvoiceNo", "StockCode", "CustomerID", "Quantity", "UnitPrice", "InvoiceDate"
)


def online_retail(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as an event. A CSV row has every column as text, so the columns are fetched in
    one step (field-by-field fetching was a fifth of the parse time); anything else takes the
    checked path, which reports the first missing column."""
    try:
        invoice, code, customer, qty_text, price_text, date_text = _RETAIL_COLUMNS(row)
        invoice, code, customer = invoice.strip(), code.strip(), customer.strip()
        qty_text, price_text, date_text = qty_text.strip(), price_text.strip(), date_text.strip()
    except (KeyError, AttributeError):  # a missing column, or a value that is not text
        return _online_retail_checked(row)
    try:
        qty = int(qty_text)
        price = float(price_text)
        timestamp = _retail_time(date_text)
    except ValueError as exc:
        raise EventRejected("invalid_field", f"row: {exc}", field="row") from None
    return _retail_event(row, invoice, code, customer, qty, price, timestamp)


def _online_retail_checked(row: Mapping[str, Any]) -> dict[str, Any]:
    invoice = _field(row, "InvoiceNo")
    code = _field(row, "StockCode")
    customer = _field(row, "CustomerID")
    try:
        qty = int(_field(row, "Quantity"))
        price = float(_field(row, "UnitPrice"))
        timestamp = _retail_time(_field(row, "InvoiceDate"))
    except ValueError as exc:
        raise EventRejected("invalid_field", f"row: {exc}", field="row") from None
    return _retail_event(row, invoice, code, customer, qty, price, timestamp)


def _retail_event(
    row: Mapping[str, Any],
    invoice: str,
    code: str,
    customer: str,
    qty: int,
    price: float,
    timestamp: str,
) -> dict[str, Any]:
    if customer.endswith(".0"):
        customer = customer[:-2]
    cancelled = invoice.upper().startswith("C")
    if code in RETAIL_SERVICE_CODES:
        raise EventRejected(
            "not_customer_activity", f"StockCode: {code!r} is a service code", field="StockCode"
        )
    if qty <= 0 and not cancelled:
        raise EventRejected(
            "not_customer_activity",
            f"Quantity: {qty} outside a cancellation is a stock adjustment",
            field="Quantity",
        )
    event: dict[str, Any] = {
        "event_id": _row_id("retail", row),
        "session_id": f"retail:{invoice}",
        "timestamp": timestamp,
        "channel": "import",
        "country": row.get("Country") or None,
    }
    if customer:
        event["customer_id"] = customer
    else:
        event["anonymous_id"] = f"retail-guest-{invoice}"
    line: dict[str, Any] = {"product_id": code, "qty": abs(qty), "unit_price": price}
    if cancelled:
        event.update(type="cancellation", order_id=invoice, lines=[line], currency="GBP")
    else:
        name = (row.get("Description") or "").strip()
        if name:
            line["name"] = name[:200]
        event.update(
            type="purchase",
            order_id=invoice,
            lines=[line],
            amount=round(qty * price, 4),
            currency="GBP",
        )
    return event


def eshop_clickstream(row: Mapping[str, Any]) -> dict[str, Any]:
    session = _field(row, "session ID")
    try:
        day = datetime(
            int(_field(row, "year")), int(_field(row, "month")), int(_field(row, "day")), tzinfo=UTC
        )
        order = int(_field(row, "order(sells)"))
        country = eshop_country(int(_field(row, "country")))
        price = float(_field(row, "price"))
    except ValueError as exc:
        raise EventRejected("invalid_field", f"row: {exc}", field="row") from None
    model = _field(row, "page 2 (clothing model)")
    category = ESHOP_CATEGORIES.get(_field(row, "page 1 (main category)"))
    return {
        "type": "product_view",
        # zero-padded click order: events of one day sort by id in click order
        "event_id": f"eshop:{session}:{order:05d}",
        "anonymous_id": f"eshop-{session}",
        "session_id": f"eshop:{session}",
        "timestamp": day.isoformat(),
        "channel": "web",
        "country": country,
        "product_id": model,
        "category_id": category,
        "name": _eshop_name(model, row, category),
        "price": price,
        "currency": "USD",
    }


def _eshop_name(model: str, row: Mapping[str, Any], category: str | None) -> str:
    """The data has codes, not names: the model code with its colour and category, as the
    dataset's description spells them ("B4 (olive skirts)"), so reasons read as products."""
    colour = ESHOP_COLOURS.get(int(c)) if (c := str(row.get("colour") or "")).isdigit() else None
    words = " ".join(w for w in (colour, category) if w)
    return f"{model} ({words})" if words else model


class RetailOrders:
    """Groups an invoice's consecutive rows into one multi-line event (see module docstring)."""

    def key(self, raw: Mapping[str, Any]) -> Any:
        return (
            raw["type"],
            raw["order_id"],
            raw.get("customer_id"),
            raw.get("anonymous_id"),
            raw["timestamp"],
        )

    def merge(self, raws: list[Mapping[str, Any]]) -> dict[str, Any]:
        first = raws[0]
        members = "|".join(sorted(str(r["event_id"]) for r in raws))
        digest = hashlib.sha1(members.encode(), usedforsecurity=False).hexdigest()[:20]
        merged = {
            **first,
            "event_id": f"retail:{first['order_id']}:{digest}",
            "lines": [line for r in raws for line in r["lines"]],
        }
        if "amount" in first:
            merged["amount"] = round(sum(float(r["amount"]) for r in raws), 4)
        return merged


class Grouping(Protocol):
    """How consecutive adapted rows combine into one event (e.g. the lines of one order)."""

    def key(self, raw: Mapping[str, Any]) -> Any:
        """Rows with equal keys in a row form one event; None keeps the row on its own."""

    def merge(self, raws: list[Mapping[str, Any]]) -> Mapping[str, Any]: ...


Adapter = Callable[[Mapping[str, Any]], dict[str, Any]]
ADAPTERS: dict[str, tuple[Adapter, str, RetailOrders | None]] = {
    "online-retail": (online_retail, ",", RetailOrders()),
    "eshop-clickstream": (eshop_clickstream, ";", None),
}
