"""The writer lease: one writer at a time across processes on an engine the processes share no
lock on (Neo4j; the embedded store locks its data directory instead).

Loads, erasures, retention and model write-back hold it (`Store.exclusive()`), so an erasure
never interleaves with a load of its subject's events, nor a duplicate check with its write.
The lease is a `Lease` node with a random holder token and an expiry in the server's clock,
taken in one transaction that write-locks the node before it reads the holder; a thread of the
holder extends it while the block runs, so it outlives no process: a holder that dies frees it
after its time to live. A holder that stalls past its time to live loses it, and learns so when
its block ends (`LeaseLost`), rather than writing on unprotected.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from graph.errors import LeaseLost, QueryError

if TYPE_CHECKING:
    from graph.store import Store

logger = logging.getLogger(__name__)

WRITER = "writer"
# consecutive failed attempts before an error is the caller's: a waiter that locks a lease node
# its holder deleted in the meantime fails once, then finds the lease free
_ATTEMPTS = 5


class WriterLease:
    def __init__(self, store: Store, ttl_s: float, name: str = WRITER) -> None:
        from graph.queries import get_queries

        self.store, self.name, self.q = store, name, get_queries()
        self.ttl_ms = max(1000, int(ttl_s * 1000))

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        holder = uuid.uuid4().hex
        self._acquire(holder)
        stop, lost = threading.Event(), threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(holder, stop, lost), name="ckg-lease", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._release(holder)
        if lost.is_set():
            raise LeaseLost(
                f"the {self.name} lease expired while held (over {self.ttl_ms} ms without "
                "renewal): another writer may have run alongside"
            )

    def holder(self) -> str | None:
        rows = self.store.read(self.q.lease_holder, {"name": self.name})
        return str(rows[0]["holder"]) if rows else None

    def _acquire(self, holder: str) -> None:
        params = {"name": self.name, "holder": holder, "ttl_ms": self.ttl_ms}
        wait, failures, said = 0.05, 0, False
        while True:
            try:
                if self.store.write(self.q.acquire_lease, params).returned:
                    return
                failures = 0
            except QueryError:
                failures += 1
                if failures >= _ATTEMPTS:
                    raise
            if not said:
                logger.info("waiting for the %s lease another process holds", self.name)
                said = True
            time.sleep(wait)
            wait = min(1.0, wait * 2)

    def _renew(self, holder: str, stop: threading.Event, lost: threading.Event) -> None:
        params = {"name": self.name, "holder": holder, "ttl_ms": self.ttl_ms}
        while not stop.wait(self.ttl_ms / 3000):
            try:
                if not self.store.write(self.q.renew_lease, params).returned:
                    lost.set()
                    logger.error("the %s lease was lost: it expired and was taken", self.name)
                    return
            except Exception:  # a store outage: try again; the expiry decides
                logger.warning("could not extend the %s lease", self.name, exc_info=True)

    def _release(self, holder: str) -> None:
        try:
            self.store.write(self.q.release_lease, {"name": self.name, "holder": holder})
        except Exception:  # it expires on its own
            logger.warning("could not release the %s lease", self.name, exc_info=True)
