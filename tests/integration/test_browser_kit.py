"""The Neo4j Browser kit as Neo4j Browser and an analyst get it: /browser/guide.html,
/browser/favorites.zip, /browser/style.grass and `ckg browser export`.

The expectations are read from the query files themselves (cypher/analyst/, the Neo4j variant
where there is one) and from the graph model, not from the kit's code: one slide and one
favourite per read-only analyst query with its exact text, and a style rule per label and
relationship type, parsed the way Neo4j Browser parses GraSS. Headless Chromium then fetches the
guide and the style cross-origin, with the headers Neo4j Browser sends, and splits the guide
into slides as Neo4j Browser does.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import browser_kit
from api.settings import Settings
from graph.catalog import QueryCatalog
from graph.model import NODE_MODELS, Label, RelType
from tests.helpers import chromium, live_server
from tests.integration.test_explore_browser import DevTools

CYPHER = Path(str(files("cypher")))
KIT = ("guide.html", "favorites.zip", "style.grass")
HINT = re.compile(r"\((?:in Neo4j Browser: )?(:param [^)]*)\)")


@pytest.fixture(scope="module")
def base(_isolated_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=_isolated_env,
        graph_name="browser_kit",
        api_keys_file=tmp_path_factory.mktemp("kit") / "keys.json",
    )
    with live_server(settings, protocol=False) as port:
        yield f"http://127.0.0.1:{port}"


def analyst_files(root: Path = CYPHER) -> dict[str, str]:
    """Name -> the text Neo4j runs, for every read-only query file in `analyst/`."""
    found: dict[str, str] = {}
    for path in sorted((root / "analyst").glob("*.cypher")):
        name, _, engine = path.name.removesuffix(".cypher").partition(".")
        if engine not in ("", "neo4j"):
            continue
        text = path.read_text(encoding="utf-8").strip()
        if re.search(r"^//\s*mode:\s*read\s*$", text, re.M) and (engine or name not in found):
            found[name] = text
    return found


def hints(text: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith("// params:"))
    return HINT.findall(line)


class Slides(HTMLParser):
    """Each `<slide>`: its attributes, its heading and lead, and its runnable blocks by role."""

    def __init__(self) -> None:
        super().__init__()
        self.slides: list[dict[str, Any]] = []
        self._pre: dict[str, str] | None = None
        self._tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "slide":
            self.slides.append({"attrs": a, "runnable": [], "h3": "", "lead": ""})
        elif tag == "pre" and "runnable" in a.get("class", "").split():
            self._pre = {"role": a.get("data-role", ""), "text": ""}
        elif tag in ("h3", "p") and self.slides:
            self._tag = "h3" if tag == "h3" else ("lead" if a.get("class") == "lead" else None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._pre is not None:
            self.slides[-1]["runnable"].append((self._pre["role"], self._pre["text"].strip()))
            self._pre = None
        elif tag in ("h3", "p"):
            self._tag = None

    def handle_data(self, data: str) -> None:
        if self._pre is not None:
            self._pre["text"] += data
        elif self._tag and self.slides:
            self.slides[-1][self._tag] += data


def slides_of(html: str) -> list[dict[str, Any]]:
    parser = Slides()
    parser.feed(html)
    return parser.slides


def parse_grass(text: str) -> dict[str, dict[str, str]]:
    """Neo4j Browser's GraSS reader (parseGrassCSS) in Python: selector -> property -> value;
    quotes are dropped, braces inside quotes kept, a property with a second `:` is lost."""
    rules: dict[str, str] = {}
    in_string = in_props = in_binding = False
    keyword = props = ""
    for c in text:
        skip = True
        if c == "{":
            if in_string:
                skip = False
            elif in_props:
                in_binding = True
            else:
                in_props = True
        elif c == "}":
            if in_string:
                skip = False
            elif in_binding:
                in_binding = False
            else:
                in_props = False
                rules[keyword] = props
                keyword = props = ""
        elif c in "'\"":
            in_string = not in_string
        else:
            skip = False
        if skip:
            continue
        if in_props:
            props += c
        elif not c.isspace():
            keyword += c
    parsed: dict[str, dict[str, str]] = {}
    for selector, body in rules.items():
        pairs = [p.split(":") for p in body.split(";")]
        parsed[selector] = {kv[0].strip(): kv[1].strip() for kv in pairs if len(kv) == 2}
    return parsed


# -- the guide ---------------------------------------------------------------------------------


def test_the_guide_has_one_slide_per_analyst_query_with_its_exact_text(base: str) -> None:
    r = httpx.get(base + "/browser/guide.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    expected = analyst_files()
    assert expected, "no analyst queries to check"
    slides = slides_of(r.text)
    assert slides[0]["attrs"].get("data-slide") == "model"
    by_query = {s["attrs"]["data-query"]: s for s in slides[1:]}
    assert len(by_query) == len(slides) - 1 == len(expected)
    assert sorted(by_query) == sorted(expected)
    for name, text in expected.items():
        slide = by_query[name]
        assert slide["h3"] == name
        purpose = re.search(r"^//\s*purpose:\s*(.*)$", text, re.M)
        assert purpose and slide["lead"] == purpose.group(1).strip()
        queries = [t for role, t in slide["runnable"] if role == "query"]
        assert queries == [text], name
        params = sorted(set(re.findall(r"\$(\w+)", re.sub(r"//[^\n]*", "", text))))
        commands = [t for role, t in slide["runnable"] if role == "param"]
        assert [c.split()[1] for c in commands] == params, name
        for command in hints(text):
            assert command in commands, (name, command)


def test_the_model_slide_names_every_label_and_relationship_type(base: str) -> None:
    html = httpx.get(base + "/browser/guide.html").text
    model = slides_of(html)[0]
    first = html.split("</slide>")[0]
    for lbl in Label:
        assert f"<code>:{lbl.value}</code>" in first, lbl
    for rel in RelType:
        assert f"[:{rel.value}]" in first, rel
    assert ("schema", "CALL db.schema.visualization()") in model["runnable"]
    assert ":param" in first


def test_a_new_analyst_file_reaches_the_kit(tmp_path: Path) -> None:
    """Generated from whatever files are there: an added query with three parameters and a
    Neo4j variant gets its slide (the variant's text) and its favourite; a FalkorDB-only one
    is left out."""
    root = tmp_path / "cypher"
    shutil.copytree(CYPHER, root, ignore=shutil.ignore_patterns("__pycache__"))
    header = (
        "// purpose: products of a category bought since a time.\n// mode: read\n"
        "// params: $category — category id (in Neo4j Browser: :param category => 'c-1'), "
        "$since — epoch ms, included (:param since => 0); $limit — how many\n"
    )
    body = "MATCH (p:Product)-[:IN_CATEGORY]->(:Category {id: $category})\n"
    (root / "analyst" / "bought_since.cypher").write_text(
        header + body + "WHERE p.id > toString($since)\nRETURN p.id AS product LIMIT $limit\n"
    )
    neo4j_text = (
        header
        + body
        + "WHERE p.id > toString($since) // neo4j\nRETURN p.id AS product LIMIT $limit"
    )
    (root / "analyst" / "bought_since.neo4j.cypher").write_text(neo4j_text + "\n")
    (root / "analyst" / "falkordb_only.falkordb.cypher").write_text(
        "// purpose: a FalkorDB-only query.\n// mode: read\n// params: none\nRETURN 1 AS one\n"
    )
    catalog = QueryCatalog(root)

    slides = {
        s["attrs"].get("data-query"): s
        for s in slides_of(browser_kit.guide_html(browser_kit.entries(catalog)))
    }
    new = slides["bought_since"]
    assert ("query", neo4j_text) in new["runnable"]
    assert ("param", ":param category => 'c-1'") in new["runnable"]
    assert ("param", ":param since => 0") in new["runnable"]
    assert ("param", ":param limit => null") in new["runnable"]  # no hint: null to replace
    assert sorted(n for n in slides if n) == sorted(analyst_files(root))
    assert "falkordb_only" not in slides  # Neo4j Browser could not run it
    archive = zipfile.ZipFile(io.BytesIO(browser_kit.build("favorites.zip", catalog)))
    assert archive.read(f"{browser_kit.FOLDER}/bought_since.cypher").decode() == (
        f"// bought_since\n{neo4j_text}\n"
    )


# -- the favourites ----------------------------------------------------------------------------


def test_the_zip_holds_one_file_per_query_titled_by_name_in_one_folder(base: str) -> None:
    r = httpx.get(base + "/browser/favorites.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    expected = analyst_files()
    names = archive.namelist()
    folders = {n.rpartition("/")[0] for n in names}
    assert len(folders) == 1 and folders != {""}, names  # one favourites folder
    (folder,) = folders
    assert sorted(names) == sorted(f"{folder}/{n}.cypher" for n in expected)
    for name, text in expected.items():
        content = archive.read(f"{folder}/{name}.cypher").decode()
        first, _, rest = content.partition("\n")
        assert first == f"// {name}"  # Neo4j Browser's title: the first comment line
        assert rest == text + "\n"


# -- the style ---------------------------------------------------------------------------------


def test_the_style_parses_and_covers_every_label_and_relationship_type(base: str) -> None:
    r = httpx.get(base + "/browser/style.grass")
    assert r.status_code == 200
    rules = parse_grass(r.text)
    assert {"node", "relationship"} <= set(rules)
    for lbl in Label:
        rule = rules.get(f"node.{lbl.value}")
        assert rule is not None, f"no style for label {lbl.value}"
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", rule.get("color", "")), (lbl, rule)
        assert re.fullmatch(r"\d+px", rule.get("diameter", "")), (lbl, rule)
        caption = re.fullmatch(r"\{(\w+)\}", rule.get("caption", ""))
        assert caption, (lbl, rule)
        assert caption.group(1) in NODE_MODELS[lbl].model_fields, (lbl, caption.group(1))
    for rel in RelType:
        rule = rules.get(f"relationship.{rel.value}")
        assert rule is not None, f"no style for relationship type {rel.value}"
        assert re.fullmatch(r"<type>|\{\w+\}", rule.get("caption", "")), (rel, rule)
    known = {f"node.{lbl.value}" for lbl in Label} | {f"relationship.{t.value}" for t in RelType}
    assert set(rules) - {"node", "relationship"} <= known  # no rule for a name the model lacks


def test_the_grass_reader_is_strict_enough_to_fail() -> None:
    rules = parse_grass("node.Customer {\n  color: #fff;\n  caption: '{id}';\n}\n")
    assert rules == {"node.Customer": {"color": "#fff", "caption": "{id}"}}
    assert "node.Product" not in rules


# -- serving -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", KIT)
def test_kit_files_are_open_cross_origin_and_outside_the_contract(base: str, name: str) -> None:
    r = httpx.get(f"{base}/browser/{name}")
    assert r.status_code == 200, r.text  # no key
    assert r.headers["access-control-allow-origin"] == "*"
    pre = httpx.options(
        f"{base}/browser/{name}",
        headers={
            "Origin": "http://localhost:7474",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "cache-control,pragma",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    allowed = {h.strip().lower() for h in pre.headers["access-control-allow-headers"].split(",")}
    assert {"cache-control", "pragma"} <= allowed
    paths = httpx.get(base + "/openapi.json").json()["paths"]
    assert not any(p.startswith("/browser") for p in paths)
    assert not any(p.startswith("/explore") or p == "/docs" for p in paths)  # the same rule
    assert httpx.post(f"{base}/browser/{name}").status_code == 405


def test_an_unknown_kit_file_is_not_found(base: str) -> None:
    r = httpx.get(base + "/browser/secrets.txt")
    assert r.status_code == 404 and r.json()["detail"]["reason"] == "route_not_found"


# -- the CLI -----------------------------------------------------------------------------------


def test_ckg_browser_export_writes_the_files_the_api_serves(base: str, tmp_path: Path) -> None:
    out = tmp_path / "kit"
    p = subprocess.run(
        [sys.executable, "-m", "api.cli", "browser", "export", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.split()) == sorted(str(out / n) for n in KIT)
    for name in KIT:
        assert (out / name).read_bytes() == httpx.get(f"{base}/browser/{name}").content, name


def test_ckg_browser_export_to_an_unusable_place_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    p = subprocess.run(
        [sys.executable, "-m", "api.cli", "browser", "export", str(blocker / "kit")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stderr.startswith("ckg: error: cannot write the kit") and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


# -- in a browser ------------------------------------------------------------------------------

FETCH_AS_NEO4J_BROWSER = """
(async () => {
  const headers = {pragma: 'no-cache', 'cache-control': 'no-cache'};  // as Neo4j Browser's
  const guide = await fetch(%(guide)s, {headers});
  const html = await guide.text();
  const div = document.createElement('div');
  div.innerHTML = html;
  const slides = [...div.getElementsByTagName('slide')].map(s => ({
    query: s.getAttribute('data-query'),
    runnable: [...s.querySelectorAll('pre.runnable')].map(p => p.textContent.trim()),
  }));
  const style = await (await fetch(%(style)s)).text();
  return {title: (html.match(/<title>(.*?)<\\/title>/) || [])[1], slides, style};
})()
"""


@contextmanager
def another_origin() -> Iterator[str]:
    """A blank page on another loopback port: another origin, as Neo4j Browser's :7474 is to
    the API's :8000 (both loopback, so no private-network rule stands in between)."""

    class Blank(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!DOCTYPE html><title>neo4j browser</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_chromium_fetches_the_guide_cross_origin_and_splits_it_into_slides(base: str) -> None:
    chromium()
    with another_origin() as page, tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as d:
        browser = DevTools(d)
        try:
            browser.attach()
            browser.call("Page.enable")
            browser.call("Page.navigate", url=page)
            browser.wait_for("document.title === 'neo4j browser'")
            got = browser.evaluate(
                FETCH_AS_NEO4J_BROWSER
                % {
                    "guide": json.dumps(base + "/browser/guide.html"),
                    "style": json.dumps(base + "/browser/style.grass"),
                }
            )
        finally:
            browser.close()
    assert got["title"] == browser_kit.TITLE
    expected = analyst_files()
    queries = {s["query"]: s["runnable"] for s in got["slides"] if s["query"]}
    assert sorted(queries) == sorted(expected)
    for name, text in expected.items():
        assert queries[name][-1] == text, name  # what a click puts in the editor
    assert got["style"] == httpx.get(base + "/browser/style.grass").text
