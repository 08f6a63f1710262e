"""One ingestion run over a file: pick the reader and adapter, add import consent, load, report."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from graph.errors import CkgError, ConfigError
from graph.model import Purpose
from graph.store import Store
from ingest.adapters import ADAPTERS
from ingest.events import ConsentChanged, Event
from ingest.formats import FORMATS, Format, guess_format, records
from ingest.loader import Loader, LoadResult
from ingest.report import DeadLetter, dead_letter_path
from ingest.settings import ingest_settings

PURPOSES: tuple[Purpose, ...] = (
    "personalization",
    "analytics",
    "marketing",
    "profiling",
    "sale_of_data",
)
# What the bundled datasets' shoppers are taken to have agreed to (see README, "Consent").
DATASET_CONSENT: dict[str, tuple[Purpose, ...]] = {
    "online-retail": ("personalization", "analytics"),
    "eshop-clickstream": ("personalization", "analytics"),
}


def parse_consent(text: str | None, fmt: Format) -> tuple[Purpose, ...]:
    """`--consent` names the purposes imported history was collected under; `none` for none."""
    if text is None:
        return DATASET_CONSENT.get(fmt, ())
    if text.strip().lower() in ("", "none"):
        return ()
    out: list[Purpose] = []
    for part in text.split(","):
        purpose = part.strip().lower()
        if purpose not in PURPOSES:
            raise CkgError(f"--consent: unknown purpose {purpose!r} (one of {', '.join(PURPOSES)})")
        out.append(purpose)
    return tuple(out)


def consent_synthesizer(
    purposes: tuple[Purpose, ...], source: str
) -> Callable[[Event], list[Event]] | None:
    """Import consent as consent events, one per owner and purpose, with deterministic ids."""
    if not purposes:
        return None

    seen: set[str] = set()

    def synthesize(event: Event) -> list[Event]:
        if isinstance(event, ConsentChanged):
            return []
        owner = f"c:{event.customer_id}" if event.customer_id else f"a:{event.anonymous_id}"
        if owner in seen:  # once per owner and run; the ids make re-runs duplicates anyway
            return []
        seen.add(owner)
        return [
            ConsentChanged(
                event_id=f"consent:{source}:{owner}:{purpose}"[:256],
                customer_id=event.customer_id,
                anonymous_id=None if event.customer_id else event.anonymous_id,
                timestamp=event.timestamp,
                channel="import",
                purpose=purpose,
                granted=True,
                source=source[:64],
            )
            for purpose in purposes
        ]

    return synthesize


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during a file load.

    A load allocates millions of objects and keeps many alive until it ends (the events in the
    outlier scan, the dead-letter and reconciliation state), so the collector's passes over the
    growing heap took a sixth of the retail file's Python time; reference counting frees what
    a load leaves behind (it makes no cycles worth collecting mid-load).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def ingest_file(
    store: Store,
    path: Path,
    *,
    fmt: Format | None = None,
    consent: str | None = None,
    dead_letter: Path | None = None,
    batch_size: int | None = None,
    keep_text: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[LoadResult, Path]:
    fmt = fmt or guess_format(path)
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}")
    purposes = parse_consent(consent, fmt)
    adapter, _, grouping = ADAPTERS.get(fmt, (None, ",", None))
    stem = path.name.split(".")[0]
    dl_path = dead_letter or dead_letter_path(store.settings, stem)
    with store.exclusive(), DeadLetter(dl_path) as dl, collector_paused():
        loader = Loader(
            store,
            dl,
            batch_size=batch_size or ingest_settings(store.settings).ingest_batch_size,
            keep_text=keep_text,
            adapter=adapter,
            synthesize=consent_synthesizer(purposes, f"import:{fmt}"),
            grouping=grouping,
            mark_outliers=True,
        )
        result = loader.load(records(path, fmt), progress=progress)
    store.checkpoint()
    return result, dl_path
