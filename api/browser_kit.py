"""The Neo4j Browser kit: a guide, favourites and a graph style for the analysts' Neo4j Browser.

Neo4j Browser plays HTML guides (`:play URL`: each `<slide>` is a page, a `pre.runnable` block
goes into the editor on a click), imports a zip of `.cypher` files as favourites (dropped on the
window: the folder in the zip becomes a favourites folder, a file's first comment line its title)
and loads GraSS styles (`:style URL`, or a dropped `.grass` file). All three are generated here:
the guide and the favourites from the analyst queries in the catalog (`cypher/analyst/`, their
headers' purpose and parameters), the style and the guide's model slide from the graph model
(`graph/model.py`). A new query file or label therefore reaches the kit without a hand edit, and
a label or relationship type without a style entry fails the kit's tests.

The API serves the kit (`api/routes/browser.py`); `ckg browser export DIR` writes the same bytes
for offline use.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from graph.catalog import Query, QueryCatalog
from graph.model import Label, RelType
from graph.settings import Engine

logger = logging.getLogger(__name__)

AREA = "analyst"
ENGINE: Engine = "neo4j"  # Neo4j Browser talks to Neo4j: its variant of a query, where one exists
FOLDER = "ckg analyst queries"  # the favourites folder the zip makes
TITLE = "ckg: analyst queries"

GUIDE = "guide.html"
FAVORITES = "favorites.zip"
STYLE = "style.grass"
MEDIA_TYPES: dict[str, str] = {
    GUIDE: "text/html; charset=utf-8",
    FAVORITES: "application/zip",
    STYLE: "text/plain; charset=utf-8",
}

_PARAMS_LINE = re.compile(r"^//\s*params\s*:\s*(.*)$")
# `(in Neo4j Browser: :param x => 1)`, or `(:param x => 1)` after the first: to the segment's end
_HINT = re.compile(r"\((?:\s*in Neo4j Browser\s*:)?\s*(:param\s.*?)\s*\)\s*$")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # a fixed stamp: the same catalog gives the same bytes


@dataclass(frozen=True)
class Param:
    """One parameter as the analyst sets it: what it is and the `:param` command to set it."""

    name: str
    description: str
    command: str


@dataclass(frozen=True)
class Entry:
    """One analyst query as the kit shows it: the exact text Neo4j runs."""

    name: str
    purpose: str
    text: str
    params: tuple[Param, ...]


def entries(catalog: QueryCatalog) -> list[Entry]:
    """The read-only analyst queries by name, the ones `/v1/analyst/queries` offers, less any
    with a FalkorDB variant only: Neo4j Browser could not run it."""
    found = [q for q in catalog.in_area(AREA).values() if q.is_read]
    runnable = [q for q in found if ENGINE in q.texts or "*" in q.texts]
    for q in found:
        if q not in runnable:
            logger.info("analyst query %s has no text for %s; left out of the kit", q.name, ENGINE)
    return [_entry(q) for q in sorted(runnable, key=lambda q: q.name)]


def _entry(query: Query) -> Entry:
    text = query.text_for(ENGINE)
    declared = _params_line(text)
    params = tuple(_param(name, declared) for name in query.params)
    return Entry(query.name, query.purpose, text, params)


def _params_line(text: str) -> str:
    """The header's `// params:` value (the header is the file's leading comment lines)."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("//"):
            break
        m = _PARAMS_LINE.match(stripped)
        if m:
            return m.group(1)
    return ""


def _param(name: str, declared: str) -> Param:
    """`$name — what it is (in Neo4j Browser: :param name => value)`; without the hint the
    command sets null, which the analyst replaces."""
    m = re.search(rf"\${name}\b(.*?)(?=[,;]\s*\$[A-Za-z_]|$)", declared)
    segment = m.group(1) if m else ""
    hint = _HINT.search(segment)
    description = _HINT.sub("", segment).strip().lstrip("—–-:").strip()
    command = hint.group(1).strip() if hint else f":param {name} => null"
    return Param(name, description, command)


# -- the graph style ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeStyle:
    color: str
    border: str
    caption: str  # a property of the label's node model, shown on the node
    diameter: int


NODE_STYLES: dict[Label, NodeStyle] = {
    Label.CUSTOMER: NodeStyle("#4C8EDA", "#2870C2", "id", 65),
    Label.IDENTITY: NodeStyle("#8DCC93", "#5DB665", "id", 45),
    Label.PII: NodeStyle("#F16667", "#EB2728", "id", 40),
    Label.LOYALTY_TIER: NodeStyle("#FFC454", "#D7A013", "name", 50),
    Label.CONSENT: NodeStyle("#D9C8AE", "#C0A378", "purpose", 40),
    Label.SESSION: NodeStyle("#57C7E3", "#23B3D7", "id", 50),
    Label.EVENT: NodeStyle("#C990C0", "#B261A5", "type", 35),
    Label.PRODUCT: NodeStyle("#F79767", "#F36924", "name", 55),
    Label.CATEGORY: NodeStyle("#DA7194", "#CC3C6C", "name", 60),
    Label.SEARCH_QUERY: NodeStyle("#ECB5C9", "#DA7298", "text", 40),
    Label.CART: NodeStyle("#A5ABB6", "#9AA1AC", "id", 45),
    Label.ORDER: NodeStyle("#569480", "#447666", "id", 45),
    Label.SEGMENT: NodeStyle("#FFE081", "#9F8A47", "name", 60),
    Label.MODEL: NodeStyle("#6DCE9E", "#60B58B", "kind", 50),
    Label.ERASURE: NodeStyle("#604A0E", "#423204", "id", 45),
    Label.AUDIT: NodeStyle("#7F8B99", "#5F6873", "action", 40),
    Label.LEASE: NodeStyle("#B0B0B0", "#808080", "holder", 35),
}

# What a relationship shows on its arrow: its type (`<type>`) or a `{property}`.
REL_CAPTIONS: dict[RelType, str] = {t: "<type>" for t in RelType}

_NODE_DEFAULT = (
    "node {\n  diameter: 50px;\n  color: #A5ABB6;\n  border-color: #9AA1AC;\n"
    "  border-width: 2px;\n  text-color-internal: #FFFFFF;\n  font-size: 10px;\n}\n"
)
_REL_DEFAULT = (
    "relationship {\n  color: #A5ABB6;\n  shaft-width: 1px;\n  font-size: 8px;\n  padding: 3px;\n"
    "  text-color-external: #000000;\n  text-color-internal: #FFFFFF;\n  caption: '<type>';\n}\n"
)


def style_grass() -> str:
    """Neo4j Browser's `:style` text: a colour, caption and size per label, a caption per
    relationship type."""
    blocks = [_NODE_DEFAULT, _REL_DEFAULT]
    for lbl, s in NODE_STYLES.items():
        blocks.append(
            f"node.{lbl.value} {{\n  color: {s.color};\n  border-color: {s.border};\n"
            f"  text-color-internal: #FFFFFF;\n  caption: '{{{s.caption}}}';\n"
            f"  diameter: {s.diameter}px;\n}}\n"
        )
    for rel, caption in REL_CAPTIONS.items():
        blocks.append(f"relationship.{rel.value} {{\n  caption: '{caption}';\n}}\n")
    return "\n".join(blocks)


# -- the guide ---------------------------------------------------------------------------------

# How the labels connect (the README's "Graph model"), for the guide's first slide.
PATTERNS: dict[RelType, tuple[tuple[Label, Label], ...]] = {
    RelType.IDENTIFIED_BY: ((Label.CUSTOMER, Label.IDENTITY),),
    RelType.HAS_PII: ((Label.CUSTOMER, Label.PII),),
    RelType.HAS_TIER: ((Label.CUSTOMER, Label.LOYALTY_TIER),),
    RelType.HAS_CONSENT: ((Label.CUSTOMER, Label.CONSENT), (Label.IDENTITY, Label.CONSENT)),
    RelType.HAD_SESSION: ((Label.CUSTOMER, Label.SESSION), (Label.IDENTITY, Label.SESSION)),
    RelType.HAD_EVENT: ((Label.CUSTOMER, Label.EVENT), (Label.IDENTITY, Label.EVENT)),
    RelType.FIRST: ((Label.SESSION, Label.EVENT),),
    RelType.NEXT: ((Label.EVENT, Label.EVENT),),
    RelType.IN_SESSION: ((Label.EVENT, Label.SESSION),),
    RelType.ABOUT: ((Label.EVENT, Label.PRODUCT),),
    RelType.VIEWED: ((Label.SESSION, Label.PRODUCT),),
    RelType.SEARCHED: ((Label.SESSION, Label.SEARCH_QUERY),),
    RelType.HAS_CART: ((Label.SESSION, Label.CART),),
    RelType.CONTAINS: ((Label.CART, Label.PRODUCT),),
    RelType.PLACED: ((Label.CUSTOMER, Label.ORDER),),
    RelType.PURCHASED: ((Label.CUSTOMER, Label.PRODUCT),),
    RelType.IN_CATEGORY: ((Label.PRODUCT, Label.CATEGORY),),
    RelType.IN_SEGMENT: ((Label.CUSTOMER, Label.SEGMENT),),
    RelType.WAS_IN_SEGMENT: ((Label.CUSTOMER, Label.SEGMENT),),
    RelType.SIMILAR: ((Label.CUSTOMER, Label.CUSTOMER), (Label.PRODUCT, Label.PRODUCT)),
    RelType.RECOMMENDED: ((Label.CUSTOMER, Label.PRODUCT),),
}

_DOCUMENT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
</head>
<body>
<article class="guide">
<carousel class="deck container-fluid">
{slides}
</carousel>
</article>
</body>
</html>
"""

_SLIDE = """<slide class="row-fluid" {attrs}>
<div class="col-sm-3">
<h3>{heading}</h3>
<p class="lead">{lead}</p>
</div>
<div class="col-sm-9">
{body}
</div>
</slide>"""


def _runnable(text: str, role: str) -> str:
    """A block Neo4j Browser puts into its editor on a click (its text, trimmed)."""
    return f'<pre class="pre-scrollable code runnable" data-role="{role}">{escape(text)}</pre>'


def _model_slide() -> str:
    labels = ", ".join(f"<code>:{lbl.value}</code>" for lbl in Label)
    patterns = "\n".join(
        f"<li><code>(:{a.value})-[:{rel.value}]-&gt;(:{b.value})</code></li>"
        for rel, pairs in PATTERNS.items()
        for a, b in pairs
    )
    body = "\n".join(
        [
            f"<p>Labels: {labels}. Every node has a unique <code>id</code>; times are epoch "
            "milliseconds (UTC); personal data lives only on <code>:PII</code> nodes.</p>",
            f"<ul>\n{patterns}\n</ul>",
            "<p>The stored schema, drawn:</p>",
            _runnable("CALL db.schema.visualization()", "schema"),
            "<p>Parameters: a query names them as <code>$name</code>. Set one with "
            "<code>:param name =&gt; value</code> (each slide has the line to click), list them "
            "with <code>:params</code>. Each next slide is one saved analyst query: set its "
            "parameters, then click the query and run it.</p>",
            "<p>The same queries come as favourites (<code>favorites.zip</code>, dropped on "
            "Neo4j Browser) and the graph style as <code>style.grass</code>, beside this "
            "guide.</p>",
        ]
    )
    return _SLIDE.format(
        attrs='data-slide="model"',
        heading="The customer knowledge graph",
        lead="Customers, sessions, events, products and what links them.",
        body=body,
    )


def _query_slide(e: Entry) -> str:
    parts: list[str] = []
    if e.params:
        items = "\n".join(
            f"<li><code>${escape(p.name)}</code>"
            + (f" — {escape(p.description)}" if p.description else "")
            + "</li>"
            for p in e.params
        )
        parts += [f"<p>Parameters:</p>\n<ul>\n{items}\n</ul>", "<p>Set them first:</p>"]
        parts += [_runnable(p.command, "param") for p in e.params]
    else:
        parts.append("<p>No parameters.</p>")
    parts += ["<p>The query:</p>", _runnable(e.text, "query")]
    return _SLIDE.format(
        attrs=f'data-query="{escape(e.name)}"',
        heading=escape(e.name),
        lead=escape(e.purpose),
        body="\n".join(parts),
    )


def guide_html(found: list[Entry]) -> str:
    """The guide: the graph model, then one slide per analyst query."""
    slides = [_model_slide(), *(_query_slide(e) for e in found)]
    return _DOCUMENT.format(title=escape(TITLE), slides="\n".join(slides))


# -- the favourites ----------------------------------------------------------------------------


def favorite_text(e: Entry) -> str:
    """A favourite's file: its title line (Neo4j Browser names it by the first comment line),
    then the query as the catalog holds it."""
    return f"// {e.name}\n{e.text}\n"


def favorites_zip(found: list[Entry]) -> bytes:
    """One `.cypher` file per query in one folder; the same entries give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for e in found:
            info = zipfile.ZipInfo(f"{FOLDER}/{e.name}.cypher", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, favorite_text(e))
    return buffer.getvalue()


# -- the kit as files --------------------------------------------------------------------------

_BUILDERS: dict[str, Callable[[list[Entry]], bytes]] = {
    GUIDE: lambda found: guide_html(found).encode(),
    FAVORITES: favorites_zip,
    STYLE: lambda _: style_grass().encode(),
}


def build(name: str, catalog: QueryCatalog) -> bytes:
    """One file of the kit (a name of `MEDIA_TYPES`) from the catalog as it is now."""
    return _BUILDERS[name](entries(catalog))


def kit(catalog: QueryCatalog) -> dict[str, bytes]:
    """Every file of the kit, by name."""
    found = entries(catalog)
    return {name: make(found) for name, make in _BUILDERS.items()}
