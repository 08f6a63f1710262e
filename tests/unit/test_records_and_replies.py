"""Rows into records, and the embedded store's compact replies into rows, without a server."""

from __future__ import annotations

import pytest
from falkordb.exceptions import SchemaVersionMismatchException
from pydantic import ValidationError
from redis.exceptions import ResponseError

from graph.errors import QueryError
from graph.records import SearchRow, SessionContextRecord, ViewRow, parse_record
from graph.store import decode_compact, schema_keyed

STATS = [b"Cached execution: 1", b"Query internal execution time: 0.2 milliseconds"]


def test_a_tally_the_relationship_lacks_counts_as_zero() -> None:
    assert SearchRow.model_validate({"text": "mug", "count": None}).count == 0
    view = ViewRow.model_validate({"id": "p1", "count": None, "dwell_ms": None, "last_at": None})
    assert (view.count, view.dwell_ms, view.last_at) == (0, None, None)  # untimed: unknown
    with pytest.raises(ValidationError):  # a required field still refuses a null
        SearchRow.model_validate({"text": None, "count": 1})


def test_a_row_that_does_not_fit_names_where_but_not_the_values() -> None:
    row = {"session": {"id": "s-1"}, "searches": [{"text": None, "count": "red lantern"}]}
    with pytest.raises(QueryError) as caught:
        parse_record(SessionContextRecord, row, "session_context")
    message = str(caught.value)
    assert "session_context" in message and "searches.0.text" in message
    assert "searches.0.count" in message
    assert "red lantern" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_collected_lists_come_out_in_one_order_whatever_the_engine_walked() -> None:
    segments = [
        {"kind": "rfm", "name": "loyal", "score": 0.5},
        {"kind": "community", "name": "c7", "score": None},
        {"kind": "cluster", "name": "big spenders", "score": 1.0},
    ]
    tiers = [{"name": "gold", "since": 20}, {"name": "silver", "since": 10}]
    chats = [{"intent": "returns", "at": 5}, {"intent": "delivery", "at": 5}, {"at": 1}]
    replay = [{"id": "e2", "type": "search", "at": 7}, {"id": "e1", "type": "search", "at": 7}]
    orders = []
    for perm in (segments, segments[::-1], segments[1:] + segments[:1]):
        row = {
            "session": {"id": "s-1"},
            "segments": perm,
            "tiers": tiers[:: 1 if perm is segments else -1],
            "chats": chats[:: 1 if perm is segments else -1],
            "replay": replay[:: 1 if perm is segments else -1],
        }
        rec = parse_record(SessionContextRecord, row, "session_context")
        orders.append(rec)
        assert [g.kind for g in rec.segments] == ["cluster", "community", "rfm"]
        assert [t.name for t in rec.tiers] == ["silver", "gold"]
        assert [(c.at, c.intent) for c in rec.chats] == [(1, None), (5, "delivery"), (5, "returns")]
        assert [e.id for e in rec.replay] == ["e1", "e2"]
    assert orders[0] == orders[1] == orders[2]


def test_compact_cells_decode_to_plain_values() -> None:
    reply = [
        [[1, b"l"], [1, b"m"], [1, b"d"], [1, b"t"], [1, b"n"]],
        [
            [
                [6, [[10, [b"text", [2, b"t"], b"count", [3, 3], b"f", [5, b"1.5"]]]]],
                [10, [b"a", [3, 1]]],
                [5, b"2.5"],
                [4, b"true"],
                [1, None],
            ]
        ],
        STATS,
    ]
    assert decode_compact(reply) == [
        {"l": [{"text": "t", "count": 3, "f": 1.5}], "m": {"a": 1}, "d": 2.5, "t": True, "n": None}
    ]
    assert decode_compact([STATS]) == []


def test_a_refused_schema_version_and_a_failure_are_raised_not_decoded() -> None:
    with pytest.raises(SchemaVersionMismatchException) as caught:
        decode_compact([ResponseError("version mismatch"), 3450289168])
    assert caught.value.version == 3450289168
    with pytest.raises(ResponseError, match="Division by zero"):
        decode_compact([[[1, b"x"]], [], ResponseError("Division by zero")])
    with pytest.raises(ResponseError, match="boom"):
        decode_compact([ResponseError("boom")])


def test_a_statement_is_keyed_by_the_schema_version() -> None:
    text = "MATCH (n) RETURN n // a comment"
    assert schema_keyed(text, 7) != schema_keyed(text, 8)
    assert schema_keyed(text, 7).startswith(text + "\n")  # a trailing comment cannot swallow it
