"""Outlier marks on stored events: flagged on the record, never dropped.

The rule (README, "Events and ingestion"): for each event type and numeric field (order-line
quantities and unit prices, order amounts, cart quantities and prices, listed prices, dwell
times, checkout values), a value is an outlier when it lies outside Tukey's fences with k = 3 on
`log1p(value)`: amounts and quantities are skewed over orders of magnitude, so fences on the raw
values would flag every wholesale order, while on the log scale they flag the values that are
off by a factor (online-retail: half of all order lines are 1-12 units, so the upper fence is
3,569 units and the line of 74,215 units is marked, a 480-unit line is not).

The reference is the whole input of one load: every valid event of the file, counted once by
id, whether it is new or already stored. So the marks do not depend on batch boundaries, input
order, or on a load being interrupted and run again; loading the same file twice sets the same
marks. Marks only accumulate (an event flagged by one file stays flagged when a later file does
not flag it), which keeps them independent of the order files are loaded in.

On the Event node: `outlier: true` and `outlier_fields`, the flagged fields in `FIELDS` order
(`qty`, `unit_price` for order lines; the event's own field otherwise).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator

from ingest.events import (
    AddToCart,
    Cancellation,
    CheckoutStarted,
    Event,
    ProductView,
    Purchase,
    RemoveFromCart,
)
from ingest.normalize import flag_outliers

FIELDS: tuple[str, ...] = ("qty", "unit_price", "amount", "price", "value", "dwell_ms")
RULE = "tukey-k3-log1p-per-load"
TUKEY_K = 3.0


def measures(event: Event) -> Iterator[tuple[str, float]]:
    """The (field, value) pairs of an event that outlier marking looks at."""
    if isinstance(event, Purchase | Cancellation):
        for line in event.lines or ():
            yield "qty", line.qty
            if line.unit_price is not None:
                yield "unit_price", line.unit_price
        if event.amount is not None:
            yield "amount", event.amount
    elif isinstance(event, AddToCart | RemoveFromCart):
        yield "qty", event.qty
        yield "unit_price", event.unit_price
    elif isinstance(event, ProductView):
        if event.price is not None:
            yield "price", event.price
        if event.dwell_ms is not None:
            yield "dwell_ms", event.dwell_ms
    elif isinstance(event, CheckoutStarted) and event.value is not None:
        yield "value", event.value


class OutlierScan:
    """Collects one load's values per (event type, field); `marks()` applies the rule."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._values: dict[tuple[str, str], list[float]] = defaultdict(list)
        self._owners: dict[tuple[str, str], list[str]] = defaultdict(list)

    def add(self, event: Event) -> None:
        if event.event_id in self._seen:  # a duplicate in the input counts once
            return
        self._seen.add(event.event_id)
        for name, value in measures(event):
            key = (event.type, name)
            self._values[key].append(math.log1p(value))
            self._owners[key].append(event.event_id)

    def marks(self) -> dict[str, list[str]]:
        """Event id -> its flagged fields (in `FIELDS` order), for the events with any."""
        flagged: dict[str, set[str]] = defaultdict(set)
        for key, values in self._values.items():
            owners = self._owners[key]
            for owner, flag in zip(owners, flag_outliers(values, "iqr", k=TUKEY_K), strict=True):
                if flag:
                    flagged[owner].add(key[1])
        return {eid: [f for f in FIELDS if f in names] for eid, names in sorted(flagged.items())}
