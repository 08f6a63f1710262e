"""Loading events into the graph: batched, idempotent by `event_id`, order-independent, reconciled.

The stages, each in its module: records (`ingest.sources`) -> adapted rows (`ingest.adapters`)
-> events or rejections (`ingest.validate`) -> per batch: duplicates skipped, import consent
added, the privacy policy applied (`privacy.policy`) -> statement parameters (`ingest.plan`) ->
one write per batch (`ingest.write`). The loader wires them together.

A re-run never counts anything twice: events already stored are recognised by id before the
write and skipped as duplicates, and a batch is stored whole or not at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from graph.queries import get_queries
from graph.store import Store
from ingest import metrics
from ingest.adapters import Adapter, Grouping
from ingest.events import ConsentChanged, Event
from ingest.outliers import FIELDS as OUTLIER_FIELDS
from ingest.outliers import RULE as OUTLIER_RULE
from ingest.outliers import OutlierScan
from ingest.plan import Reads
from ingest.report import DeadLetter, Ledger, Outcome, Reconciliation
from ingest.settings import ingest_settings
from ingest.sources import SourceRecord
from ingest.validate import Item, ReadAhead, Validator
from ingest.write import Pipeline
from privacy.policy import BEHAVIOURAL, IngestPolicy, owner_keys
from privacy.tokens import privacy_key

logger = logging.getLogger(__name__)

__all__ = ["LoadResult", "Loader", "Outcome"]

Candidates = dict[str, tuple[list[SourceRecord], Event]]  # event id -> its records and event


@dataclass
class LoadResult:
    reconciliation: Reconciliation
    batches: int = 0
    seconds: float = 0.0
    outliers: int = 0  # events marked as outliers (file loads)
    # per source position, when the caller asked for it (the HTTP API answers per item)
    outcomes: dict[int, Outcome] = field(default_factory=dict)


class Loader:
    """Reads records, validates them into events, and writes them batch by batch."""

    def __init__(
        self,
        store: Store,
        dead_letter: DeadLetter,
        *,
        batch_size: int = 5000,
        keep_text: bool = False,
        adapter: Adapter | None = None,
        synthesize: Callable[[Event], Iterable[Event]] | None = None,
        record_outcomes: bool = False,
        grouping: Grouping | None = None,
        mark_outliers: bool = False,
        privacy_key: bytes | None = None,
        source: str = "file",
    ) -> None:
        self.store = store
        # the metrics' `source` label: "file", "http", a stream's name
        self.source = source
        # a long-lived caller (the API) reads the key once at start-up and passes it
        self._privacy_key = privacy_key
        self.dead_letter = dead_letter
        self.batch_size = batch_size
        self.keep_text = keep_text
        self.adapter = adapter
        self.synthesize = synthesize
        self.record_outcomes = record_outcomes
        self.grouping = grouping
        # Outliers need the whole input as reference (ingest/outliers.py): a file load, not
        # the API's small requests.
        self.outliers = OutlierScan() if mark_outliers else None
        self.q = get_queries()
        self._outcomes: dict[int, Outcome] = {}

    def load(
        self, records: Iterable[SourceRecord], progress: Callable[[int], None] | None = None
    ) -> LoadResult:
        """Validate in a second thread while this one plans and writes (see `ReadAhead`)."""
        started = time.perf_counter()
        ledger = Ledger(
            Reconciliation(), self.dead_letter, self._outcomes if self.record_outcomes else None
        )
        # the caller holds the ingestion lock, so no erasure lands while this load runs
        policy = self._policy()
        validator = Validator(
            ledger,
            adapter=self.adapter,
            grouping=self.grouping,
            keep_text=self.keep_text,
            outliers=self.outliers,
        )
        ahead = ReadAhead(validator.events(records), self.batch_size)
        ahead.start()
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ckg-ingest-write")
        pipe = Pipeline(self.store, self.q, writer, self.source)
        try:
            for batch in ahead:
                if batch:
                    self._store(batch, ledger, policy, pipe)
                if progress:
                    progress(sum(len(records) for records, _ in batch))
            pipe.land_all()
        finally:
            ahead.stop()
            writer.shutdown(wait=True)  # never leave with a batch still being written
            ahead.join()
            self.dead_letter.flush()
        result = LoadResult(ledger.reconciliation, pipe.batches, pipe.seconds)
        if self.outliers is not None:
            result.outliers = self._mark_outliers(self.outliers)
        result.reconciliation.check()
        took = time.perf_counter() - started
        metrics.count(self.source, result.reconciliation, took)
        _log_run(self.source, result.reconciliation, took)
        result.outcomes = self._outcomes
        return result

    def _policy(self) -> IngestPolicy:
        settings = ingest_settings(self.store.settings)
        key = self._privacy_key if self._privacy_key is not None else privacy_key(settings)
        return IngestPolicy.read(
            self.store, self.q, key=key, analytics_default="analytics" in settings.consent_defaults
        )

    def _store(
        self, batch: list[Item], ledger: Ledger, policy: IngestPolicy, pipe: Pipeline
    ) -> None:
        """Plan this batch while the previous one (`pipe.pending`) is being written.

        The reads see the store without `pending`'s writes (it is handed to the writer after
        them), so its event ids count as stored, and when this batch touches a session,
        anonymous id or loyalty customer that `pending` also touches, `pending` is stored before
        the reads. Batches are stored one at a time, in order.
        """
        pipe.land_running()  # the batch before `pending`: its writes are what the reads see
        candidates, extra = self._new(batch, ledger, pipe.pending_ids)
        # the consent check reads stored consents and links: when the batch in flight records
        # a consent or a link for an owner this batch tracks, wait until it is stored
        tracked = {
            f"k:{o}"
            for _, e in candidates.values()
            if isinstance(e, BEHAVIOURAL)
            for o in owner_keys(e)
        }
        pipe.land_if_touching(tracked)
        fresh = self._screen(candidates, list(extra.values()), ledger, policy)
        # import consent is stored only for owners whose own events are stored
        owners = {owner_keys(e) for e in fresh}
        events = [s for s in extra.values() if owner_keys(s) in owners] + fresh
        if events:
            self._plan(events, pipe)

    def _new(
        self, batch: list[Item], ledger: Ledger, inflight: frozenset[str]
    ) -> tuple[Candidates, dict[str, Event]]:
        """The batch's events not stored yet, and the import consent they add (not stored yet
        either); the others are settled as duplicates."""
        ids = [e.event_id for _, e in batch]
        stored = {r["id"] for r in self.store.read(self.q.existing_events, {"ids": ids})}
        candidates: Candidates = {}
        extra: dict[str, Event] = {}
        for records, e in batch:
            if e.event_id in stored or e.event_id in candidates or e.event_id in inflight:
                ledger.duplicate(records, e.event_id)
                continue
            candidates[e.event_id] = (records, e)
            for s in self.synthesize(e) if self.synthesize else ():
                extra.setdefault(s.event_id, s)
        if extra:
            known = self.store.read(self.q.existing_events, {"ids": list(extra)})
            for eid in {r["id"] for r in known} | (inflight & extra.keys()):
                extra.pop(eid, None)
        return candidates, extra

    @staticmethod
    def _screen(
        candidates: Candidates, extra: list[Event], ledger: Ledger, policy: IngestPolicy
    ) -> list[Event]:
        """The candidates the privacy policy lets in (accepted); the others are rejected."""
        refused = policy.refused([e for _, e in candidates.values()], extra)
        fresh: list[Event] = []
        for eid, (records, e) in candidates.items():
            why = refused.get(eid)
            if why is not None:
                for record in records:
                    ledger.reject(record, why[0], why[1], record.data, eid)
                continue
            fresh.append(e)
            ledger.accept(records, eid)
        return fresh

    def _plan(self, events: list[Event], pipe: Pipeline) -> None:
        """Read what the batch touches, hand `pending` to the writer, plan this batch."""
        reads = Reads.of(events)
        keys = reads.keys() | {
            # owners whose consent or id link this batch records (see the consent check)
            f"k:{o}"
            for e in events
            if isinstance(e, ConsentChanged) or (e.customer_id and e.anonymous_id)
            for o in owner_keys(e)
        }
        pipe.land_if_touching(keys)
        planner = reads.planner(self.store, self.q, events, keep_text=self.keep_text)
        pipe.start_pending()  # this batch's reads are done: store `pending` while planning it
        pipe.hold(planner.plan(), frozenset(e.event_id for e in events), frozenset(keys))

    def _mark_outliers(self, scan: OutlierScan) -> int:
        """After the last batch, when the reference is complete; re-running a load (after a
        crash, or again) writes the same marks, so this needs no atomicity with the batches."""
        rows = [{"id": eid, "fields": fields} for eid, fields in scan.marks().items()]
        if rows:
            self.store.write_rows(
                self.q.mark_outliers,
                rows,
                {"fields": list(OUTLIER_FIELDS), "rule": OUTLIER_RULE},
                batch_size=self.batch_size,
            )
        return len(rows)


def _log_run(source: str, rec: Reconciliation, seconds: float) -> None:
    reasons = ", ".join(f"{r} {n}" for r, n in sorted(rec.by_reason.items()))
    logger.info(
        "ingested %d records from %s in %.2f s: %d accepted, %d duplicates, %d rejected%s",
        rec.input,
        source,
        seconds,
        rec.accepted,
        rec.duplicates,
        rec.rejected,
        f" ({reasons})" if reasons else "",
    )
