"""One small store interface over two engines: Neo4j (production) and embedded FalkorDB (default).

Callers hand the store a `Query` from the catalog and a dict of parameters; they get back rows as
plain Python values (nodes and relationships as property dicts), or pydantic models through
`read_models`, or graph values tagged with their identity through `read_graph`. Raw text is
never accepted from outside `graph/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar, cast

import redis
import redis.asyncio
from falkordb import Edge as FEdge
from falkordb import FalkorDB
from falkordb import Node as FNode
from falkordb import Path as FPath
from falkordb.exceptions import SchemaVersionMismatchException
from falkordb.query_result import QueryResult
from pydantic import BaseModel, ValidationError
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff

from graph.catalog import Query, schema_statements
from graph.embedded import file_lock, lock_taken
from graph.errors import (
    CkgError,
    ConfigError,
    ParameterRefused,
    QueryError,
    ReadOnlyViolation,
    StoreAuthError,
    StoreUnavailable,
)
from graph.lease import WriterLease
from graph.metrics import observed, took
from graph.settings import Engine, StoreSettings, get_store_settings

M = TypeVar("M", bound=BaseModel)
Row = dict[str, Any]


@dataclass
class WriteResult:
    """What a write did, summed over its batches; counters use the same names on both engines."""

    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    returned: list[Row] = field(default_factory=list)

    def add(self, counters: Mapping[str, int]) -> None:
        for k, v in counters.items():
            if v:
                self.counters[k] = self.counters.get(k, 0) + int(v)


@dataclass(frozen=True)
class PreparedWrite:
    """A write with its parameters checked and, where the engine has one, in wire form.

    Encoding a large batch takes Python time; preparing the next write while the store runs the
    current one overlaps the two (`Store.prepare_write`, then `Store.write_prepared`).
    """

    query: Query
    params: dict[str, Any]
    encoded: str | None = None


def chunks(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _check_query(query: object) -> Query:
    if not isinstance(query, Query):
        raise QueryError(
            "the store runs named queries from cypher/ only; "
            f"got {type(query).__name__} instead of graph.catalog.Query"
        )
    return query


def _read_query(query: object) -> Query:
    q = _check_query(query)
    if not q.is_read:
        raise ReadOnlyViolation(f"query {q.name!r} writes; call write() for it")
    return q


class Store(ABC):
    """Run named queries; reads and writes are separate calls so reads can be routed and locked."""

    engine: Engine

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings

    # -- engine primitives -----------------------------------------------------------------
    @abstractmethod
    def _run(
        self,
        text: str,
        params: Mapping[str, Any],
        write: bool,
        encoded: str | None = None,
        tagged: bool = False,
    ) -> tuple[list[Row], dict[str, int]]:
        """Run one statement; return rows and write counters. `encoded`: from `_encode`;
        `tagged`: graph values as `read_graph` describes them, else as property dicts."""

    def _encode(self, params: Mapping[str, Any]) -> str | None:
        """The parameters in the engine's wire form, or None when it has none."""
        return None

    @abstractmethod
    def close(self) -> None: ...

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store's writer lock: loads, erasures, retention and model write-back of
        one store never interleave, so a duplicate check and its write cannot race, nor an
        erasure and an event of its subject. Across processes: the embedded engine locks its
        data directory, Neo4j holds a lease in the graph (graph/lease.py). Not re-entrant;
        threads of one process serialise on a lock of their own (the API's)."""
        yield

    def writer_busy(self) -> bool:
        """Whether some holder, this process included, has the writer lock now."""
        return False

    def checkpoint(self) -> None:  # noqa: B027 - optional hook, a no-op for most engines
        """Make what was written cheap to recover (a no-op where the engine does it itself)."""

    # -- public interface ------------------------------------------------------------------
    def ping(self) -> None:
        from graph.queries import get_queries

        rows = self.read(get_queries().store_ping)
        if not rows or rows[0].get("ok") != 1:
            raise StoreUnavailable("store answered the ping with something unexpected")

    def read(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Row]:
        q = _read_query(query)
        with observed(q.name, "read"):
            rows, _ = self._run(q.text_for(self.engine), self._params(q, params), write=False)
        return rows

    def read_graph(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Row]:
        """`read`, with graph values kept recognisable for a caller that draws them.

        A node is `{"~kind": "node", "~id", "~labels", **properties}`, a relationship
        `{"~kind": "relationship", "~id", "~type", "~start", "~end", **properties}` (`~start`
        and `~end` are node `~id`s), a path `{"~kind": "path", "~nodes", "~relationships"}`.
        An `~id` is an opaque string, the same for one element across the reads of one store
        and unique among nodes and relationships together. The same shape on every engine;
        property keys never start with `~` (graph/model.py)."""
        q = _read_query(query)
        text = q.text_for(self.engine)
        with observed(q.name, "read"):
            rows, _ = self._run(text, self._params(q, params), write=False, tagged=True)
        return rows

    async def aread(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Row]:
        """`read` for async callers; by default in a worker thread, engines may do better."""
        import anyio

        return await anyio.to_thread.run_sync(lambda: self.read(query, params))

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Close what `aread` opened (call from the event loop that used it)."""

    def read_one(self, query: Query, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = self.read(query, params)
        return rows[0] if rows else None

    def read_models(
        self,
        query: Query,
        model: type[M],
        params: Mapping[str, Any] | None = None,
        column: str | None = None,
    ) -> list[M]:
        """Rows parsed into `model`: a whole row, or the map in `column`."""
        out: list[M] = []
        for row in self.read(query, params):
            data = row if column is None else row.get(column)
            try:
                out.append(model.model_validate(data))
            except ValidationError as exc:
                raise QueryError(
                    f"query {query.name!r} returned a row that is not a {model.__name__}: "
                    f"{exc.errors()[0]['msg']}"
                ) from exc
        return out

    def write(self, query: Query, params: Mapping[str, Any] | None = None) -> WriteResult:
        q = _check_query(query)
        return self.write_prepared(PreparedWrite(q, self._params(q, params)))

    def prepare_write(self, query: Query, params: Mapping[str, Any] | None = None) -> PreparedWrite:
        q = _check_query(query)
        checked = self._params(q, params)
        return PreparedWrite(q, checked, self._encode(checked))

    def write_prepared(self, prepared: PreparedWrite) -> WriteResult:
        q = _check_query(prepared.query)
        started = time.perf_counter()
        with observed(q.name, "write"):
            rows, counters = self._run(
                q.text_for(self.engine), prepared.params, write=True, encoded=prepared.encoded
            )
        result = WriteResult(rows=1, batches=1, returned=rows)
        result.add(counters)
        if result.counters.get("indexes_added"):
            self.await_indexes()
        result.seconds = time.perf_counter() - started
        return result

    def write_rows(
        self,
        query: Query,
        rows: Iterable[Mapping[str, Any]],
        params: Mapping[str, Any] | None = None,
        batch_size: int | None = None,
    ) -> WriteResult:
        """`UNWIND $rows` in batches; the query must take `$rows`."""
        q = _check_query(query)
        if "rows" not in q.params:
            raise QueryError(f"query {q.name!r} does not take $rows; it cannot be batched")
        size = batch_size or self.settings.write_batch_size
        text = q.text_for(self.engine)
        result = WriteResult()
        started = time.perf_counter()
        for batch in chunks(rows, size):
            merged = {**(params or {}), "rows": batch}
            with observed(q.name, "write"):
                returned, counters = self._run(text, self._params(q, merged), write=True)
            result.rows += len(batch)
            result.batches += 1
            result.add(counters)
            result.returned.extend(returned)
        result.seconds = time.perf_counter() - started
        return result

    def setup_schema(self) -> int:
        """Apply `cypher/schema/<engine>.cypher`; safe to re-run. Returns how many were new."""
        created = sum(self._apply_schema_statement(s) for s in schema_statements(self.engine))
        if created:
            self.await_indexes()
            self.checkpoint()
        return created

    def await_indexes(self, timeout_s: float = 600.0) -> None:
        """Return once every index is built. Both engines build an index created over existing
        nodes in the background, and FalkorDB's server crashed (a segfault in the id lookup)
        when a statement looked that label's nodes up by id meanwhile; so every statement that
        creates an index waits here before the next one runs."""
        from graph.queries import get_queries

        deadline = time.monotonic() + timeout_s
        while rows := self.read(get_queries().indexes_not_ready):
            if time.monotonic() > deadline:
                building = ", ".join(sorted({str(r["label"]) for r in rows}))
                raise StoreUnavailable(
                    f"indexes still being built after {timeout_s:.0f} s: {building}"
                )
            time.sleep(0.05)

    def _apply_schema_statement(self, statement: str) -> int:
        _, counters = self._run(statement, {}, write=True)
        return sum(counters.values())

    def _params(self, q: Query, params: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(params or {})
        missing = [p for p in q.params if p not in given]
        if missing:
            raise QueryError(f"query {q.name!r} needs parameters: {', '.join(missing)}")
        return {k: v for k, v in given.items() if k in q.params}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------
# Embedded FalkorDB
# ------------------------------------------------------------------------------------------

_SAFE_KEY = re.compile(r"^[^`\x00]+$")


def _check_param(value: Any, path: str = "$") -> None:
    """FalkorDB's client sends parameters as a Cypher literal header; allow only JSON-like values.

    Anything else (objects with a custom `str()`, NaN, NUL characters, backticked keys) could
    change the header's meaning, so it is refused before it reaches the wire; so is text without
    a UTF-8 form (a lone surrogate), which the client would fail on while packing the command.
    A key is checked before it becomes part of `path`, so a message never carries such text.
    """
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterRefused(f"parameter {path} is not a finite number")
        return
    if isinstance(value, str):
        if "\x00" in value:
            raise ParameterRefused(f"parameter {path} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParameterRefused(
                f"parameter {path} is not valid Unicode (a lone surrogate)"
            ) from None
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_param(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str) or not _SAFE_KEY.match(k):
                raise ParameterRefused(f"parameter {path} has an unusable key {k!r}")
            _check_param(k, f"{path} key {k!r}")
            _check_param(v, f"{path}.{k}")
        return
    raise ParameterRefused(f"parameter {path} has unsupported type {type(value).__name__}")


def _encodes(text: str) -> bool:
    """False for text without a UTF-8 form (a lone surrogate): `_check_param` words the refusal."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_JSON_KEY = re.compile(r'([{,])"([A-Za-z_][A-Za-z0-9_]*)":')
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def params_header(params: Mapping[str, Any]) -> str | None:
    """The `CYPHER k=v ...` header FalkorDB takes parameters in, built by the json module.

    The client's own builder walks every value in Python and dominates batch loads; JSON is
    Cypher literal syntax once map keys are backticked (inside JSON strings every quote is
    escaped, so a key pattern cannot match there). FalkorDB does not decode `\\u` escapes, which
    JSON uses for control characters, so such values (rare) return None: the caller then takes
    the checked slow path.
    """
    parts = ["CYPHER"]
    for name, value in params.items():
        if not _PARAM_NAME.match(name):
            return None
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError):
            return None
        if "\\u" in text or (not text.isascii() and not _encodes(text)):
            return None
        pieces = _JSON_KEY.split(text)  # [text, "{" or ",", key, text, ...]
        pieces[2::3] = [f"`{key}`:" for key in pieces[2::3]]
        literal = "".join(pieces)
        if '":' in literal:  # a key that is not an identifier (or a quote in a string): be exact
            return None
        parts.append(f"`{name}`={literal}")
    return " ".join(parts) + " "


def _plain(value: Any) -> Any:
    if isinstance(value, FNode | FEdge):
        return {k: _plain(v) for k, v in value.properties.items()}
    if isinstance(value, FPath):
        return {
            "nodes": [_plain(n) for n in value.nodes()],
            "relationships": [_plain(e) for e in value.edges()],
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _falkor_id(prefix: str, entity: Any) -> str:
    """FalkorDB numbers nodes and edges separately: the prefix keeps the two apart. An edge's
    endpoints arrive as node ids, or as nodes from older clients."""
    return f"{prefix}{entity.id if isinstance(entity, FNode | FEdge) else entity}"


def _tagged(value: Any) -> Any:
    """A FalkorDB reply value in `Store.read_graph`'s shape."""
    if isinstance(value, FNode):
        props = {k: _tagged(v) for k, v in value.properties.items()}
        labels = list(value.labels or [])
        return {"~kind": "node", "~id": _falkor_id("n", value), "~labels": labels, **props}
    if isinstance(value, FEdge):
        return {
            "~kind": "relationship",
            "~id": _falkor_id("r", value),
            "~type": value.relation,
            "~start": _falkor_id("n", value.src_node),
            "~end": _falkor_id("n", value.dest_node),
            **{k: _tagged(v) for k, v in value.properties.items()},
        }
    if isinstance(value, FPath):
        return {
            "~kind": "path",
            "~nodes": [_tagged(n) for n in value.nodes()],
            "~relationships": [_tagged(e) for e in value.edges()],
        }
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, dict):
        return {k: _tagged(v) for k, v in value.items()}
    return value


def _neo4j_tagged(value: Any) -> Any:
    """A Neo4j driver value in `Store.read_graph`'s shape (element ids are unique already)."""
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, Node):
        props = {k: _neo4j_tagged(v) for k, v in value.items()}
        return {"~kind": "node", "~id": value.element_id, "~labels": sorted(value.labels), **props}
    if isinstance(value, Relationship):
        start, end = value.start_node, value.end_node
        return {
            "~kind": "relationship",
            "~id": value.element_id,
            "~type": value.type,
            "~start": start.element_id if start is not None else None,
            "~end": end.element_id if end is not None else None,
            **{k: _neo4j_tagged(v) for k, v in value.items()},
        }
    if isinstance(value, Path):
        return {
            "~kind": "path",
            "~nodes": [_neo4j_tagged(n) for n in value.nodes],
            "~relationships": [_neo4j_tagged(r) for r in value.relationships],
        }
    if isinstance(value, list | tuple):
        return [_neo4j_tagged(v) for v in value]
    if isinstance(value, dict):
        return {k: _neo4j_tagged(v) for k, v in value.items()}
    return value


# Write counters under one set of names (the engine's attribute -> ours).
_COUNTERS = (
    "nodes_created",
    "nodes_deleted",
    "relationships_created",
    "relationships_deleted",
    "properties_set",
    "labels_added",
)
_FALKOR_COUNTERS = {**{c: c for c in _COUNTERS}, "indices_created": "indexes_added"}


def _response_error(exc: Exception, write: bool) -> CkgError | None:
    """The domain error for a FalkorDB error reply; None for a read of a graph that does not
    exist yet, which is simply empty."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not write and "empty key" in msg:
        return None
    if "read-only" in msg.lower() or "ro_query" in msg.lower():
        return ReadOnlyViolation(f"write refused on a read-only path: {msg}")
    return QueryError(msg)


class _NotPlain(Exception):
    """A reply holding graph entities (nodes, edges, paths) or types the decoder leaves to the
    client."""


class _ConnectionBroken(Exception):
    """The async connection failed; the thread path follows a restarted server."""


_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY, _MAP = 1, 2, 3, 4, 5, 6, 10
_VERSION_MISMATCH = "version mismatch"
# A statement re-keyed this often without the schema holding still is reported, not looped on.
_SCHEMA_ATTEMPTS = 5


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _cell(cell: Any) -> Any:
    kind, value = cell
    if kind == _STRING:
        return _text(value)
    if kind == _INTEGER:
        return int(value)
    if kind == _NULL:
        return None
    if kind == _DOUBLE:
        return float(value)
    if kind == _BOOLEAN:
        return value in (b"true", "true")
    if kind == _ARRAY:
        return [_cell(v) for v in value]
    if kind == _MAP:  # [key, value, key, value, ...]: keys are strings, values cells
        return {_text(value[i]): _cell(value[i + 1]) for i in range(0, len(value), 2)}
    raise _NotPlain(kind)


def _check_reply(reply: Any) -> None:
    """Raise what the server answered instead of (or after part of) a result set.

    A statement sent with `version` that no longer matches the graph's schema is answered
    `[error "version mismatch", current version]` without being run."""
    if not isinstance(reply, list) or not reply:
        raise QueryError(f"unexpected reply from the embedded store: {type(reply).__name__}")
    first, last = reply[0], reply[-1]
    if isinstance(first, redis.exceptions.ResponseError):
        if str(first) == _VERSION_MISMATCH and len(reply) > 1:
            raise SchemaVersionMismatchException(int(reply[1]))
        raise first
    if isinstance(last, redis.exceptions.ResponseError):
        raise last


def decode_compact(reply: Any) -> list[Row]:
    """Rows of a `GRAPH.RO_QUERY ... --compact` reply holding scalars, lists and maps.

    Raises `SchemaVersionMismatchException` for a statement refused for its schema version,
    the server's `ResponseError` for one that failed, `_NotPlain` for entities."""
    _check_reply(reply)
    if len(reply) < 3:  # statistics only: no result set
        return []
    header, rows = reply[0], reply[1]
    names = [_text(h[1]) for h in header]
    return [dict(zip(names, (_cell(c) for c in row), strict=True)) for row in rows]


def schema_keyed(text: str, version: int) -> str:
    """The statement under the name FalkorDB caches its plan by, for one schema version.

    FalkorDB (4.16) keeps one plan per statement text. A plan built before a relationship type
    existed keeps reading that type's properties as null in pattern comprehensions (and
    `properties()` of its edges as nothing) after the type is created, until the plan leaves
    the cache or the server restarts. Each statement is therefore sent with the schema version
    it is keyed for: the server refuses a version that is not the graph's current one, and the
    statement is re-keyed and sent again, so a cached plan always matches the schema it runs
    on (the comment changes the text the cache is keyed by, not what runs)."""
    return f"{text}\n// schema {version}"


class FalkorStore(Store):
    engine: Engine = "falkordb"

    def __init__(
        self,
        settings: StoreSettings,
        host: str,
        port: int,
        password: str | None,
        server: Any = None,
    ) -> None:
        super().__init__(settings)
        self._redis_errors = redis.exceptions
        self.server = server
        self._connect(host, port, password)
        self._logged_write_s = 0.0
        self._aclient: Any = None
        self._aloop: Any = None
        self._atarget: tuple[Any, ...] = ()
        self._schema_version = 0  # the graph's schema version statements are keyed for

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        if self.server is None:
            yield
            return
        with file_lock(self._lock_path()):
            yield

    def writer_busy(self) -> bool:
        return self.server is not None and lock_taken(self._lock_path())

    def _lock_path(self) -> Path:
        return Path(self.server.data_dir) / "ingest.lock"

    def _connect(self, host: str, port: int, password: str | None) -> None:
        self._db = FalkorDB(
            host=host,
            port=port,
            password=password,
            socket_connect_timeout=5,
            socket_timeout=self.settings.embedded_query_timeout_s,
            socket_keepalive=True,
        )
        self._graph = self._db.select_graph(self.settings.graph_name)

    def _reconnect(self) -> bool:
        """Follow the server of our data directory if it came back (maybe on another port)."""
        info = self.server.status() if self.server is not None else None
        if info is None:
            return False
        self.close()
        self._connect(info.host, info.port, info.password)
        return True

    def _encode(self, params: Mapping[str, Any]) -> str | None:
        return params_header(params) if params else ""

    def _run(
        self,
        text: str,
        params: Mapping[str, Any],
        write: bool,
        encoded: str | None = None,
        tagged: bool = False,
    ) -> tuple[list[Row], dict[str, int]]:
        header = encoded if encoded is not None else self._encode(params)
        args = None if header is not None else dict(params)
        if args is not None:
            _check_param(args)
        started = time.perf_counter()
        res = self._execute(header, text, args, write)
        if res is None:  # a read of a graph that does not exist yet
            return [], {}
        names = [h[1] for h in (res.header or [])]
        convert = _tagged if tagged else _plain
        rows = [dict(zip(names, (convert(v) for v in r), strict=True)) for r in res.result_set]
        counters = {
            ours: int(getattr(res, attr, 0) or 0) for attr, ours in _FALKOR_COUNTERS.items()
        }
        if write:
            self._logged_write_s += time.perf_counter() - started
            if self._logged_write_s > self.settings.embedded_replay_budget_s:
                self.checkpoint(wait=False)
        return rows, counters

    def _execute(
        self, header: str | None, text: str, args: dict[str, Any] | None, write: bool
    ) -> QueryResult | None:
        """`_versioned`, with the engine's errors as ours. A restarted server: reads are
        retried once on it; a write may or may not have happened before the connection broke,
        so it is reported, never repeated."""
        errors = self._redis_errors
        try:
            try:
                return self._versioned(header, text, args, write)
            except errors.ConnectionError:
                if not self._reconnect() or write:
                    raise
                return self._versioned(header, text, args, write)
        except errors.AuthenticationError as exc:
            raise StoreAuthError(f"embedded store refused the password: {exc}") from None
        except (errors.ConnectionError, errors.TimeoutError) as exc:
            raise StoreUnavailable(f"embedded store unreachable: {exc}") from exc
        except errors.ResponseError as exc:
            error = _response_error(exc, write)
            if error is None:
                return None
            raise error from exc

    def _versioned(
        self, header: str | None, text: str, args: dict[str, Any] | None, write: bool
    ) -> QueryResult:
        """Run the statement keyed for the graph's current schema (see `schema_keyed`)."""
        graph = self._graph
        for _ in range(_SCHEMA_ATTEMPTS):
            if graph.schema.version != self._schema_version:
                self._refresh_names()
            prefix = header if header is not None else graph._build_params_header(args)
            command = "GRAPH.QUERY" if write else "GRAPH.RO_QUERY"
            keyed = prefix + schema_keyed(text, self._schema_version)
            version = ("version", self._schema_version)
            try:
                reply = graph.execute_command(command, graph.name, keyed, "--compact", *version)
                return QueryResult(graph, reply)
            except SchemaVersionMismatchException as exc:  # refused before it ran
                self._schema_version = int(exc.version)
        raise StoreUnavailable("the graph's schema kept changing under a statement; retry it")

    def _refresh_names(self) -> None:
        """The client names labels, types and property keys of entities in replies by id;
        reload them for the schema version statements now run at."""
        try:
            self._graph.schema.refresh(self._schema_version)
        except self._redis_errors.ResponseError:
            self._graph.schema.clear()  # no graph (yet): the client loads names when needed

    async def aread(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Native async read: no worker thread, and a reply decoder that builds plain values
        directly (the client's generic parser costs more than the query on small replies).
        Anything unusual (parameters only the client can send, nodes in the reply, a broken
        connection) takes the thread path, which also knows how to reconnect."""
        q = _read_query(query)
        header = self._encode(self._params(q, params))
        if header is None:
            return await super().aread(query, params)
        text = q.text_for(self.engine)
        for _ in range(_SCHEMA_ATTEMPTS):
            started = time.perf_counter()
            try:
                rows = await self._aread_once(header, text)
                took(q.name, "read", time.perf_counter() - started)
                return rows
            except SchemaVersionMismatchException as exc:  # refused before it ran: re-key
                self._schema_version = int(exc.version)
            except (_NotPlain, _ConnectionBroken):
                return await super().aread(query, params)
        raise StoreUnavailable("the graph's schema kept changing under a statement; retry it")

    async def _aread_once(self, header: str, text: str) -> list[Row]:
        """One read keyed for the current schema version (see `schema_keyed`)."""
        errors = self._redis_errors
        try:
            reply = await self._async_client().execute_command(
                "GRAPH.RO_QUERY",
                self.settings.graph_name,
                header + schema_keyed(text, self._schema_version),
                "--compact",
                "version",
                self._schema_version,
            )
            return decode_compact(reply)
        except errors.ConnectionError as exc:
            await self.aclose()
            raise _ConnectionBroken from exc
        except errors.TimeoutError as exc:  # as on the thread path: not run a second time
            await self.aclose()
            raise StoreUnavailable(f"embedded store did not answer: {exc}") from exc
        except errors.ResponseError as exc:
            error = _response_error(exc, write=False)
            if error is None:  # the graph does not exist yet
                return []
            raise error from exc

    def _async_client(self) -> Any:
        """A client for this event loop and the server the thread path talks to now (after a
        restart it may have moved, and it has a new password).

        No retries inside the client: its default, ten attempts with backoff against a server
        that changed its password or port, took seconds before the caller could follow it."""
        loop = asyncio.get_running_loop()
        kw = self._db.connection.connection_pool.connection_kwargs
        target = (kw.get("host"), kw.get("port"), kw.get("password"))
        if self._aclient is None or self._aloop is not loop or self._atarget != target:
            self._aclient = redis.asyncio.Redis(
                host=target[0],
                port=target[1],
                password=target[2],
                socket_connect_timeout=5,
                socket_timeout=self.settings.embedded_query_timeout_s,
                protocol=2,  # the reply shapes decode_compact reads, as the sync client uses
                retry=AsyncRetry(NoBackoff(), 0),
            )
            self._aloop, self._atarget = loop, target
        return self._aclient

    async def aclose(self) -> None:
        client, self._aclient = self._aclient, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    def _apply_schema_statement(self, statement: str) -> int:
        try:
            _, counters = self._run(statement, {}, write=True)
        except QueryError as exc:
            if "already indexed" not in str(exc):
                raise
            return 0
        return sum(counters.values())

    def checkpoint(self, wait: bool = True) -> None:
        """Compact the append-only log so a crash replays little (see graph/embedded.py)."""
        r = self._db.connection
        try:
            r.bgrewriteaof()
        except self._redis_errors.ResponseError:
            pass  # a rewrite is already running or scheduled
        except self._redis_errors.RedisError as exc:
            raise StoreUnavailable(f"embedded store unreachable: {exc}") from exc
        self._logged_write_s = 0.0
        deadline = time.monotonic() + 600
        while wait and time.monotonic() < deadline:
            p = r.info("persistence")
            if not p.get("aof_rewrite_in_progress") and not p.get("aof_rewrite_scheduled"):
                return
            time.sleep(0.02)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a broken connection must not mask the real error
            self._db.connection.close()


# ------------------------------------------------------------------------------------------
# Neo4j
# ------------------------------------------------------------------------------------------

_NEO4J_COUNTERS = {
    **{c: c for c in _COUNTERS},
    "indexes_added": "indexes_added",
    "constraints_added": "constraints_added",
}


class Neo4jStore(Store):
    engine: Engine = "neo4j"

    def __init__(self, settings: StoreSettings) -> None:
        super().__init__(settings)
        import neo4j

        self._neo4j = neo4j
        uri = settings.neo4j_uri
        if not uri:
            raise ConfigError("CKG_NEO4J_URI is not set")
        try:
            self._driver = neo4j.GraphDatabase.driver(
                uri,
                auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
                connection_timeout=settings.neo4j_connect_timeout_s,
                max_transaction_retry_time=settings.neo4j_connect_timeout_s * 3,
                notifications_min_severity="OFF",
            )
        except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
            raise ConfigError(f"bad Neo4j configuration: {exc}") from None
        try:
            self._driver.verify_connectivity()
        except BaseException as exc:
            self._driver.close()
            raise self._map_error(exc, uri) from exc

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with WriterLease(self, self.settings.neo4j_writer_lease_s).hold():
            yield

    def writer_busy(self) -> bool:
        return WriterLease(self, self.settings.neo4j_writer_lease_s).holder() is not None

    def _map_error(self, exc: BaseException, uri: str | None = None) -> CkgError:
        ex = self._neo4j.exceptions
        where = f" at {uri}" if uri else ""
        if isinstance(exc, ex.AuthError):
            return StoreAuthError(
                f"Neo4j{where} refused the credentials for user {self.settings.neo4j_user!r}"
            )
        if isinstance(exc, ex.ServiceUnavailable | ex.SessionExpired | OSError):
            return StoreUnavailable(f"Neo4j{where} is unreachable: {str(exc).splitlines()[0]}")
        if isinstance(exc, ex.Neo4jError):
            code = exc.code or ""
            if "AccessMode" in code or "WriteOnReadOnlyAccess" in code:
                return ReadOnlyViolation(f"write refused on a read-only path: {exc.message}")
            return QueryError(f"{code}: {exc.message}")
        if isinstance(exc, ex.DriverError):
            return StoreUnavailable(f"Neo4j{where}: {exc}")
        if isinstance(exc, CkgError):
            return exc
        return QueryError(str(exc))

    def _run(
        self,
        text: str,
        params: Mapping[str, Any],
        write: bool,
        encoded: str | None = None,
        tagged: bool = False,
    ) -> tuple[list[Row], dict[str, int]]:
        neo4j = self._neo4j

        def transform(result: Any) -> tuple[list[Row], dict[str, int]]:
            if tagged:  # values(), not data(): data() turns nodes into bare property dicts
                rows = [
                    dict(zip(r.keys(), map(_neo4j_tagged, r.values()), strict=True)) for r in result
                ]
            else:
                rows = [record.data() for record in result]
            c = result.consume().counters
            return rows, {ours: int(getattr(c, attr, 0)) for attr, ours in _NEO4J_COUNTERS.items()}

        try:
            out = self._driver.execute_query(
                cast(Any, text),
                dict(params),
                routing_=neo4j.RoutingControl.WRITE if write else neo4j.RoutingControl.READ,
                database_=self.settings.neo4j_database,
                result_transformer_=transform,
            )
        except CkgError:
            raise
        except Exception as exc:
            raise self._map_error(exc) from exc
        return out

    def _apply_schema_statement(self, statement: str) -> int:
        # Schema commands cannot share a transaction with anything; run each on its own.
        try:
            with self._driver.session(database=self.settings.neo4j_database) as session:
                c = session.run(cast(Any, statement)).consume().counters
        except CkgError:
            raise
        except Exception as exc:
            raise self._map_error(exc) from exc
        return int(c.indexes_added + c.constraints_added)

    def close(self) -> None:
        self._driver.close()


# ------------------------------------------------------------------------------------------


def open_store(settings: StoreSettings | None = None, autostart: bool = True) -> Store:
    """The store the settings describe; for the embedded engine, its server is found or started."""
    s = settings or get_store_settings()
    store: Store
    if s.resolved_engine == "neo4j":
        store = Neo4jStore(s)
        if s.auto_schema:
            store.setup_schema()
        return store
    from graph.embedded import EmbeddedServer

    server = EmbeddedServer(
        s.data_dir, s.embedded_host, s.embedded_port, s.embedded_start_timeout_s
    )
    if autostart:
        info, _ = server.ensure_running(detach=True)
    else:
        found = server.status()
        if found is None:
            raise StoreUnavailable(
                f"no embedded store is running for {server.data_dir}; run `ckg store start`"
            )
        info = found
    store = FalkorStore(s, info.host, info.port, info.password, server=server)
    try:
        if s.auto_schema:
            store.setup_schema()
        store.ping()
    except BaseException:
        store.close()
        raise
    return store


def rows_to_table(rows: Sequence[Row]) -> tuple[list[str], list[list[Any]]]:
    """Column names in first-seen order and the rows as lists, for printing."""
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols, [[r.get(c) for c in cols] for r in rows]
