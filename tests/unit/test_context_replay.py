"""The first-visit fact of a session's context, on records built by hand."""

from __future__ import annotations

from typing import Any

import pytest

from api.context import build_context
from api.rules import load_rules
from graph.records import SessionContextRecord
from privacy.consent import ConsentRecord

H = 3_600_000


def consent(purpose: str, granted: bool, at: int) -> ConsentRecord:
    return ConsentRecord(purpose=purpose, granted=granted, at=at, source="t")


def record(**fields: Any) -> SessionContextRecord:
    base: dict[str, Any] = {
        "session": {"id": "s", "started_at": 10 * H, "last_seen_at": 12 * H},
        "customer_id": "c",
        "personal": True,
        "consents": [consent("personalization", True, 0)],
        "customer": {"ltv": 900.0, "orders": 9, "points": 0},
    }
    return SessionContextRecord.model_validate(base | fields)


def context(rec: SessionContextRecord, at: int | None = None) -> Any:
    return build_context(
        rec,
        rules=load_rules(None),
        purpose="personalization",
        now_ms=at if at is not None else 20 * H,
        popular=[],
        tz=None,
        default_tz="UTC",
        device=None,
        verbosity=None,
    )


@pytest.mark.parametrize(
    "visits, placed, first",
    [
        ([], [], True),
        ([(11 * H, 13 * H)], [], True),  # a later session
        ([(9 * H, 11 * H)], [], False),  # one still going when this one began
        ([(1 * H, 2 * H)], [], False),
        ([], [(10 * H, 5.0, True)], True),  # the order of this very session
        ([], [(3 * H, 5.0, True)], False),  # an order whose session is gone
    ],
)
def test_first_visit(visits: list[Any], placed: list[Any], first: bool) -> None:
    ids = [t.id for t in context(record(visits=visits, placed=placed)).triggers]
    assert ("first_visit" in ids) is first
