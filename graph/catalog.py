"""The named-query catalog: every Cypher statement ckg runs is a `.cypher` file under `cypher/`.

Keeping queries as files means an analyst can paste exactly what the service runs into Neo4j
Browser, and the Neo4j linter can check every one of them. The catalog gives each file a Python
name, checks its header, and fails at start-up when a query the code declares has no file.

File layout:
- `cypher/<area>/<name>.cypher` — portable openCypher that both engines run;
- `cypher/<area>/<name>.<engine>.cypher` — an engine-specific variant of `<name>` (engine is
  `neo4j` or `falkordb`); a query may have only variants when no portable text exists;
- `cypher/schema/<engine>.cypher` — the DDL for that engine, statements separated by `;`.

Header: leading `//` lines with `key: value` pairs. `purpose:` and `mode: read|write` are required;
`params:` lists the `$parameters` the text uses (checked against the text).

`Query` objects are only made here: the store runs nothing but `Query` objects, so callers outside
`graph/` cannot hand it a raw string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, get_type_hints

from graph.errors import QueryCatalogError
from graph.settings import Engine

Mode = Literal["read", "write"]
ENGINES: tuple[Engine, ...] = ("falkordb", "neo4j")
_LOADER = object()

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_HEADER_RE = re.compile(r"^//\s*([a-z_]+)\s*:\s*(.*)$")
_WRITE_RE = re.compile(
    r"\b(CREATE|MERGE|SET|DELETE|REMOVE|DROP|FOREACH|LOAD\s+CSV)\b", re.IGNORECASE
)
_STRING_RE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`")
_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def strip_literals(text: str) -> str:
    """Text with comments and string literals blanked, for keyword and parameter scans."""
    return _STRING_RE.sub("''", _COMMENT_RE.sub(" ", text))


def split_statements(text: str) -> list[str]:
    """Split a multi-statement file on `;` outside strings and comments."""

    def blank(m: re.Match[str]) -> str:
        return " " * len(m.group())

    masked = _STRING_RE.sub(blank, _COMMENT_RE.sub(blank, text))
    cuts = [i for i, ch in enumerate(masked) if ch == ";"]
    pieces = [text[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(text)], strict=True)]
    cleaned = [_COMMENT_RE.sub("", p).strip() for p in pieces]
    return [c for c in cleaned if c]


@dataclass(frozen=True)
class Query:
    """One named query; `text_for(engine)` picks the engine's variant or the portable text."""

    name: str
    mode: Mode
    purpose: str
    params: tuple[str, ...]
    texts: dict[str, str]  # engine name or "*" (portable) -> text
    paths: dict[str, Path]
    _token: object = field(repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self._token is not _LOADER:
            raise QueryCatalogError(
                "queries come from cypher/ files through graph.catalog; raw query text is refused"
            )

    def text_for(self, engine: Engine) -> str:
        text = self.texts.get(engine) or self.texts.get("*")
        if text is None:
            raise QueryCatalogError(f"query {self.name!r} has no text for engine {engine}")
        return text

    @property
    def is_read(self) -> bool:
        return self.mode == "read"


def _parse_header(path: Path, text: str) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("//"):
            break
        m = _HEADER_RE.match(stripped)
        if m:
            header[m.group(1)] = m.group(2).strip()
    return header


def _parse_text(path: Path, text: str) -> tuple[Mode, str, tuple[str, ...], str]:
    """Check a query file's header against its text; the one place these rules live."""
    header = _parse_header(path, text)
    declared_mode = header.get("mode", "")
    if declared_mode not in ("read", "write"):
        raise QueryCatalogError(f"{path}: header needs '// mode: read' or '// mode: write'")
    mode: Mode = "read" if declared_mode == "read" else "write"
    purpose = header.get("purpose", "")
    if not purpose:
        raise QueryCatalogError(f"{path}: header needs '// purpose: ...'")
    body = strip_literals(text)
    used = tuple(sorted(set(_PARAM_RE.findall(body))))
    declared_raw = header.get("params", "")
    declared = tuple(sorted(set(_PARAM_RE.findall(declared_raw))))
    if declared_raw.lower() in ("", "none", "-"):
        declared = ()
    if declared != used:
        raise QueryCatalogError(
            f"{path}: header params {list(declared)} differ from the text's {list(used)}"
        )
    if mode == "read" and _WRITE_RE.search(body):
        raise QueryCatalogError(f"{path}: declared read-only but contains a write clause")
    if len(split_statements(text)) != 1:
        raise QueryCatalogError(f"{path}: one statement per query file")
    return mode, purpose, used, text.strip()


def _build(name: str, files: dict[str, Path]) -> Query:
    modes: set[str] = set()
    purpose = ""
    params: set[str] = set()
    texts: dict[str, str] = {}
    for engine, path in sorted(files.items()):
        file_mode, purp, used, text = _parse_text(path, path.read_text(encoding="utf-8"))
        modes.add(file_mode)
        purpose = purpose or purp
        params.update(used)
        texts[engine] = text
    if len(modes) != 1:
        raise QueryCatalogError(f"query {name!r}: its engine variants disagree on mode")
    mode: Mode = "read" if modes == {"read"} else "write"
    return Query(name, mode, purpose, tuple(sorted(params)), texts, dict(files), _LOADER)


def default_root() -> Path:
    return Path(str(resources.files("cypher")))


def scan(root: Path) -> dict[str, Query]:
    """Every named query under `root` (schema files excluded)."""
    grouped: dict[str, dict[str, Path]] = {}
    for path in sorted(root.rglob("*.cypher")):
        rel = path.relative_to(root)
        if rel.parts[0] == "schema":
            continue
        parts = path.name[: -len(".cypher")].split(".")
        if len(parts) == 2 and parts[1] in ENGINES:
            name, engine = parts
        elif len(parts) == 1:
            name, engine = parts[0], "*"
        else:
            raise QueryCatalogError(f"{path}: name it <name>.cypher or <name>.<engine>.cypher")
        if not _NAME_RE.match(name):
            raise QueryCatalogError(f"{path}: query names are snake_case identifiers")
        slot = grouped.setdefault(name, {})
        if engine in slot:
            raise QueryCatalogError(f"query {name!r} defined twice: {slot[engine]} and {path}")
        if slot and next(iter(slot.values())).parent != path.parent:
            raise QueryCatalogError(f"query {name!r} defined in two folders")
        slot[engine] = path
    return {name: _build(name, files) for name, files in grouped.items()}


def load_query_file(path: Path) -> Query:
    """An analyst's own `.cypher` file, accepted only as a read query."""
    if not path.is_file():
        raise QueryCatalogError(f"no such query file: {path}")
    name = re.sub(r"[^a-z0-9_]", "_", path.stem.lower()) or "query"
    text = path.read_text(encoding="utf-8")
    header = _parse_header(path, text)
    if header.get("mode", "read") != "read":
        raise QueryCatalogError(f"{path}: only read queries can be run this way")
    # An analyst need not write a header: supply what is missing, then check as for any file.
    if "params" not in header:
        used = sorted(set(_PARAM_RE.findall(strip_literals(text))))
        text = "// params: " + ", ".join(f"${p}" for p in used) + "\n" + text
    if not header.get("purpose"):
        text = "// purpose: ad-hoc analyst query\n" + text
    if not header.get("mode"):
        text = "// mode: read\n" + text
    _, purpose, params, body = _parse_text(path, text)
    return Query(name, "read", purpose, params, {"*": body}, {"*": path}, _LOADER)


def schema_statements(engine: Engine, root: Path | None = None) -> list[str]:
    path = (root or default_root()) / "schema" / f"{engine}.cypher"
    if not path.is_file():
        raise QueryCatalogError(f"missing schema file {path}")
    return split_statements(path.read_text(encoding="utf-8"))


class QueryCatalog:
    """Typed access to named queries: subclasses declare `name: Query` attributes.

    Loading fails when a declared query has no file, so a typo or a deleted file stops the
    process at start-up instead of at the first request that needs it.
    """

    _all: dict[str, Query]
    required: ClassVar[tuple[str, ...]] = ()

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()
        self._all = scan(self.root)
        hints = get_type_hints(type(self))
        declared = [n for n, t in hints.items() if t is Query]
        missing = [n for n in declared if n not in self._all]
        if missing:
            raise QueryCatalogError(
                "missing query files: " + ", ".join(f"{n} (cypher/**/{n}.cypher)" for n in missing)
            )
        for n in declared:
            setattr(self, n, self._all[n])

    def get(self, name: str) -> Query:
        try:
            return self._all[name]
        except KeyError:
            raise QueryCatalogError(f"no query named {name!r} in {self.root}") from None

    def names(self) -> list[str]:
        return sorted(self._all)

    def all(self) -> dict[str, Query]:
        return dict(self._all)

    def in_area(self, area: str) -> dict[str, Query]:
        """The queries whose files are in `cypher/<area>/`, by name."""
        return {
            n: q
            for n, q in self._all.items()
            if all(p.parent.name == area and p.parent.parent == self.root for p in q.paths.values())
        }

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": q.name,
                "mode": q.mode,
                "purpose": q.purpose,
                "params": list(q.params),
                "engines": sorted(q.texts),
            }
            for q in self._all.values()
        ]


@lru_cache
def load_catalog_cached(cls: type[QueryCatalog]) -> QueryCatalog:
    return cls()
