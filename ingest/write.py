"""Writing planned batches: one statement per batch, pipelined with the planning of the next.

Each batch is written by one statement (`cypher/ingest/ingest_batch.cypher`), so it is stored
whole or not at all: a crash (even kill -9 of the store) between batches loses nothing that a
re-run does not restore.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from graph.queries import Queries
from graph.store import PreparedWrite, Store, WriteResult
from ingest import metrics


@dataclass
class InFlight:
    """A planned batch: its encoded write, its event ids and what it touches; `future` once it
    is handed to the writer thread."""

    prepared: PreparedWrite
    ids: frozenset[str]
    keys: frozenset[str]
    future: Future[WriteResult] | None = None


class Pipeline:
    """Batches planned but not yet stored, oldest first: at most one being written (`running`)
    and one planned and encoded (`pending`).

    `pending` is handed to the writer once the next batch has done its reads, and that batch is
    then planned and encoded while the store writes `pending`: the reads would otherwise wait
    for the write (the store runs a read after a write in progress), so Python and the store
    took turns. Writes run one at a time, in batch order.
    """

    def __init__(
        self, store: Store, q: Queries, writer: ThreadPoolExecutor, source: str = "file"
    ) -> None:
        self.store = store
        self.source = source
        self.q = q
        self.writer = writer
        self.running: InFlight | None = None
        self.pending: InFlight | None = None
        self.batches = 0  # batches stored
        self.seconds = 0.0  # store time of their writes

    @property
    def pending_ids(self) -> frozenset[str]:
        """The event ids of `pending`: not stored yet, but they will be before this batch."""
        return self.pending.ids if self.pending is not None else frozenset()

    def hold(self, params: dict[str, list[Any]], ids: frozenset[str], keys: frozenset[str]) -> None:
        """Encode a planned batch's statement as `pending`; `keys` name the state it touches."""
        self.pending = InFlight(self.store.prepare_write(self.q.ingest_batch, params), ids, keys)

    def start_pending(self) -> None:
        if self.pending is None:
            return
        self.land_running()
        self.pending.future = self.writer.submit(self.store.write_prepared, self.pending.prepared)
        self.running, self.pending = self.pending, None

    def land_running(self) -> None:
        if self.running is None:
            return
        assert self.running.future is not None
        written = self.running.future.result()  # re-raises what the write raised
        self.running = None
        self.batches += 1
        self.seconds += written.seconds
        metrics.BATCH_SECONDS.labels(self.source).observe(written.seconds)

    def land_all(self) -> None:
        self.start_pending()
        self.land_running()

    def land_if_touching(self, keys: set[str]) -> None:
        """Store everything in flight when `pending` touches any of `keys`."""
        if self.pending is not None and not keys.isdisjoint(self.pending.keys):
            self.land_all()
