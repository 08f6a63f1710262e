"""Validation: adapted records become events, or rejections with a reason.

With a grouping adapter, consecutive rows of one order become one multi-line event (validated
once, stored as one Event node); a group that fails validation is retried row by row so each bad
row is rejected on its own. Every valid event also feeds the load's outlier scan, whether it turns
out new or already stored (the scan's reference is the whole input, see `ingest.outliers`).

`ReadAhead` runs validation in a second thread, a batch or two ahead of the writer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ingest.adapters import Adapter, Grouping
from ingest.events import Event, EventRejected, LoyaltyUpdated, parse_event
from ingest.outliers import OutlierScan
from ingest.report import Ledger
from ingest.sources import SourceRecord

Item = tuple[list[SourceRecord], Event]  # an event and the input records it accounts for
Row = tuple[SourceRecord, Mapping[str, Any]]  # an input record and its adapted fields


class Validator:
    """Input records in, validated events out; rejects are settled in the ledger on the way."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        adapter: Adapter | None = None,
        grouping: Grouping | None = None,
        keep_text: bool = False,
        outliers: OutlierScan | None = None,
    ) -> None:
        self.ledger = ledger
        self.adapter = adapter
        self.grouping = grouping
        self.keep_text = keep_text
        self.outliers = outliers

    def events(self, records: Iterable[SourceRecord]) -> Iterator[Item]:
        """Validated events with the records they came from, in input order."""
        if self.outliers is None:
            yield from self._grouped(records)
            return
        for item in self._grouped(records):
            self.outliers.add(item[1])
            yield item

    def parse(self, raw: Mapping[str, Any]) -> Event:
        event = parse_event(raw, keep_text=self.keep_text)
        if isinstance(event, LoyaltyUpdated) and event.customer_id is None:
            raise EventRejected(
                "missing_id",
                "customer_id: loyalty needs a customer",
                field="customer_id",
                event_id=event.event_id,
            )
        return event

    def _grouped(self, records: Iterable[SourceRecord]) -> Iterator[Item]:
        group: list[Row] = []
        group_key: Any = None
        for record in records:
            row = self._adapted(record)
            if row is None:
                continue
            key = self.grouping.key(row[1]) if self.grouping else None
            if group and (key is None or key != group_key):
                yield from self._flush(group)
                group = []
            if key is None:
                yield from self._flush([row])
            else:
                group.append(row)
                group_key = key
        if group:
            yield from self._flush(group)

    def _adapted(self, record: SourceRecord) -> Row | None:
        """The record through the adapter; None when it was rejected."""
        self.ledger.seen()
        if record.error or record.data is None:
            self.ledger.reject(record, record.error or "unreadable", record.message, record.raw)
            return None
        try:
            raw = self.adapter(record.data) if self.adapter else record.data
        except EventRejected as exc:
            self._reject(record, exc)
            return None
        return record, raw

    def _flush(self, group: list[Row]) -> Iterator[Item]:
        members = self._unique(group)
        if len(members) > 1 and self.grouping is not None:
            try:
                merged = self.grouping.merge([raw for _, raw in members])
                yield [r for r, _ in members], self.parse(merged)
                return
            except EventRejected:  # find the bad rows, then group the good ones again
                good = [(record, raw) for record, raw in members if self._valid(record, raw)]
                if 1 < len(good) < len(members):
                    yield from self._flush(good)
                    return
                members = good  # all rows fine alone but not together (e.g. too many lines)
        for record, raw in members:
            try:
                yield [record], self.parse(raw)
            except EventRejected as exc:
                self._reject(record, exc)

    def _unique(self, group: list[Row]) -> list[Row]:
        """The group without repeated rows: the same row twice in one order is a duplicate, as
        across runs."""
        unique: dict[Any, Row] = {}
        for record, raw in group:
            eid = raw.get("event_id") if isinstance(raw, Mapping) else None
            # only a well-formed id can make a duplicate; parsing rejects the others with reasons
            key: Any = eid if isinstance(eid, str) else object()
            if key in unique:
                self.ledger.duplicate([record], str(eid))
                continue
            unique[key] = (record, raw)
        return list(unique.values())

    def _valid(self, record: SourceRecord, raw: Mapping[str, Any]) -> bool:
        """Whether the row parses on its own; rejected if not."""
        try:
            self.parse(raw)
        except EventRejected as exc:
            self._reject(record, exc)
            return False
        return True

    def _reject(self, record: SourceRecord, exc: EventRejected) -> None:
        self.ledger.reject(record, exc.reason, exc.message, record.data, exc.event_id)


class ReadAhead:
    """Validated events in batches of about `batch_size` input records, from a second thread.

    The store's replies release the GIL, so reading and validating the next batch overlaps with
    storing this one. At most two batches wait; an error in the thread is raised by the iterator.
    """

    def __init__(self, items: Iterable[Item], batch_size: int) -> None:
        self.items = items
        self.batch_size = batch_size
        self._queue: queue.Queue[list[Item] | BaseException | None] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="ckg-ingest-parse", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        self._thread.join()

    def __iter__(self) -> Iterator[list[Item]]:
        while (item := self._queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _produce(self) -> None:
        try:
            batch: list[Item] = []
            lines = 0
            for item in self.items:
                batch.append(item)
                lines += len(item[0])
                if lines >= self.batch_size:
                    self._put(batch)
                    batch, lines = [], 0
                if self._stop.is_set():
                    return
            self._put(batch)
            self._put(None)
        except BaseException as exc:  # handed to the writer, which re-raises it
            self._put(exc)

    def _put(self, item: list[Item] | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
