"""Input readers keep every record with its position; reconciliation adds up or fails loudly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ingest.datasets import ESHOP_FILE, ESHOP_SAMPLE, RETAIL_FILE, RETAIL_SAMPLE, shared_datasets
from ingest.report import DeadLetter, Reconciliation, ReconciliationError
from ingest.sources import read_csv, read_jsonl


def test_jsonl_keeps_bad_lines_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b'{"event_id": "e1"}\n\n{not json\n[1, 2]\n{"event_id": "\xff\xfe"}\n{"event_id": "e2"}'
    )
    records = list(read_jsonl(path))
    assert [(r.position, r.error) for r in records] == [
        (1, None),
        (3, "invalid_json"),
        (4, "not_an_object"),
        (5, "bad_encoding"),
        (6, None),
    ]
    assert records[0].data == {"event_id": "e1"}
    assert records[1].raw == "{not json"


def test_jsonl_gzip(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"event_id": "e1"}) + "\n")
    assert [r.data for r in read_jsonl(path)] == [{"event_id": "e1"}]


def test_csv_rows_and_wrong_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('a,b\n1,2\n\n3\n"x,y",4\n5,6,7\n')
    records = list(read_csv(path))
    assert [(r.position, r.error, r.data) for r in records] == [
        (1, None, {"a": "1", "b": "2"}),
        (2, "bad_csv_row", None),
        (3, None, {"a": "x,y", "b": "4"}),
        (4, "bad_csv_row", None),
    ]


def test_csv_semicolons_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("year;month\n2008;4\n")
    assert [r.data for r in read_csv(path, delimiter=";")] == [{"year": "2008", "month": "4"}]


def test_real_dataset_headers_parse() -> None:
    for retail_path in (RETAIL_SAMPLE, shared_datasets() / RETAIL_FILE):
        retail = next(read_csv(retail_path))
        assert retail.data is not None and retail.data["CustomerID"] == "17850.0"
    for eshop_path in (ESHOP_SAMPLE, shared_datasets() / ESHOP_FILE):
        eshop = next(read_csv(eshop_path, ";"))
        assert eshop.data is not None and eshop.data["page 2 (clothing model)"] == "A13"


def test_reconciliation() -> None:
    r = Reconciliation()
    r.seen(5)
    r.accept(2)
    r.duplicate()
    r.reject("invalid_json")
    r.reject("missing_id")
    assert r.check().as_dict() == {
        "input": 5,
        "accepted": 2,
        "duplicates": 1,
        "rejected": 2,
        "rejected_by_reason": {"invalid_json": 1, "missing_id": 1},
        "balanced": True,
        "status": "partial",
    }
    r.seen()
    with pytest.raises(ReconciliationError, match="input 6"):
        r.check()


def test_dead_letter_keeps_the_original(tmp_path: Path) -> None:
    path = tmp_path / "dl" / "rejects.jsonl"
    with DeadLetter(path) as dl:
        dl.write(
            source="in.jsonl",
            position=3,
            reason="invalid_json",
            message="Expecting value",
            record="{not json",
        )
    with DeadLetter(path) as dl:  # appends, never truncates
        dl.write(
            source="in.jsonl",
            position=9,
            reason="missing_id",
            message=None,
            record={"type": "search"},
        )
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(x["position"], x["reason"]) for x in lines] == [(3, "invalid_json"), (9, "missing_id")]
    assert lines[0]["record"] == "{not json"


def test_dead_letter_lines_survive_any_line_reader(tmp_path: Path) -> None:
    path = tmp_path / "dl.jsonl"
    odd = "a\u2028b\x85c\u2029d\ne ü"
    with DeadLetter(path) as dl:
        dl.write(source="s", position=1, reason="r", message=odd, record={"x": odd})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    back = json.loads(lines[0])
    assert back["message"] == odd and back["record"] == {"x": odd}
    assert "ü" in lines[0]  # still readable UTF-8
