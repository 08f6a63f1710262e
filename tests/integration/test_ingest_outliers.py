"""Outlier marks on stored events: the right records, stable across order, splits and re-runs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from graph.catalog import QueryCatalog
from graph.store import Store, open_store
from ingest.loader import Loader
from ingest.report import DeadLetter
from ingest.run import ingest_file
from ingest.sources import SourceRecord, read_jsonl

RETAIL_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
QTYS = [1, 2, 3, 4, 6, 8, 10, 12, 24]
PRICES = ["0.85", "1.25", "2.10", "2.95", "4.25"]
HUGE_QTY = 5000


def events_by_id(store: Store, tq: QueryCatalog) -> dict[str, dict[str, Any]]:
    return {
        n["id"]: n["props"]
        for n in store.read(tq.get("test_nodes_snapshot"))
        if n["label"] == "Event"
    }


def retail_file(tmp_path: Path) -> Path:
    """Eight invoices of normal lines; one line of invoice 536370 orders 5,000 units."""
    rows = []
    for k in range(40):
        invoice = 536365 + k // 5
        qty = HUGE_QTY if k == 27 else QTYS[k % len(QTYS)]
        rows.append(
            f"{invoice},{20000 + k},ITEM {k},{qty},2010-12-01 {8 + k // 5:02d}:00:00,"
            f"{PRICES[k % len(PRICES)]},{17850 + k // 5}.0,United Kingdom"
        )
    path = tmp_path / "retail.csv"
    path.write_text("\n".join([RETAIL_HEADER, *rows]) + "\n")
    return path


def test_a_huge_quantity_is_marked_on_its_order_and_nothing_else(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    path = retail_file(tmp_path)
    result, _ = ingest_file(store, path, fmt="online-retail", dead_letter=tmp_path / "dl.jsonl")
    assert result.reconciliation.accepted == 40
    events = events_by_id(store, test_queries)
    marked = {e["order_id"]: e for e in events.values() if e.get("outlier")}
    assert set(marked) == {"536370"}
    assert "qty" in marked["536370"]["outlier_fields"]
    assert marked["536370"]["outlier_rule"] == "tukey-k3-log1p-per-load"
    assert result.outliers == 1
    purchases = [e for e in events.values() if e["type"] == "purchase"]
    assert len(purchases) == 8  # the other seven orders carry no mark at all
    assert sum("outlier_fields" in e for e in purchases) == 1

    before = store.read(test_queries.get("test_nodes_snapshot"))
    again, _ = ingest_file(store, path, fmt="online-retail", dead_letter=tmp_path / "dl2.jsonl")
    assert again.reconciliation.accepted == 0 and again.outliers == 1
    assert store.read(test_queries.get("test_nodes_snapshot")) == before


def purchases(n: int) -> list[SourceRecord]:
    out = []
    for k in range(n):
        qty = HUGE_QTY if k == 7 else QTYS[k % len(QTYS)]
        price = 950.0 if k == 19 else float(PRICES[k % len(PRICES)])
        event = {
            "type": "purchase",
            "event_id": f"p-{k:03d}",
            "customer_id": f"c-{k % 6}",
            "session_id": f"s-{k % 9}",
            "timestamp": f"2024-05-01T10:{k:02d}:00Z",
            "order_id": f"o-{k}",
            "currency": "EUR",
            "amount": round(qty * price, 2),
            "lines": [{"product_id": f"sku-{k % 11}", "qty": qty, "unit_price": price}],
        }
        out.append(SourceRecord("mem", k + 1, event))
    return out


def load(store: Store, records: list[SourceRecord], tmp_path: Path, batch_size: int) -> Any:
    with DeadLetter(tmp_path / "dead.jsonl") as dl:
        return Loader(store, dl, batch_size=batch_size, mark_outliers=True).load(records)


def test_marks_do_not_depend_on_order_batches_or_duplicates(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    records = purchases(40)
    load(store, records, tmp_path, batch_size=100)
    expected = store.read(test_queries.get("test_nodes_snapshot"))
    flags = {
        k: v.get("outlier_fields")
        for k, v in events_by_id(store, test_queries).items()
        if v.get("outlier")
    }
    # 5,000 units also make an outlying amount; a 950.00 unit price on 2 units does not
    assert flags == {"p-007": ["qty", "amount"], "p-019": ["unit_price"]}

    if store.engine == "neo4j":
        return
    shuffled = records + records[:10]  # the same events again in the same input
    random.Random(5).shuffle(shuffled)
    other = open_store(
        store.settings.model_copy(update={"graph_name": store.settings.graph_name + "_outliers"})
    )
    try:
        result = load(other, shuffled, tmp_path, batch_size=3)
        assert result.reconciliation.duplicates == 10
        assert other.read(test_queries.get("test_nodes_snapshot")) == expected
    finally:
        other.close()


def test_api_style_loads_mark_nothing(
    store: Store, tmp_path: Path, test_queries: QueryCatalog
) -> None:
    """Without a whole-file reference (the HTTP API's requests) nothing is marked."""
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r.data) + "\n" for r in purchases(40)))
    with DeadLetter(tmp_path / "dead.jsonl") as dl:
        Loader(store, dl).load(read_jsonl(path))
    assert not any(e.get("outlier") for e in events_by_id(store, test_queries).values())
