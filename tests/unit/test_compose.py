"""docker-compose.yml and the Dockerfile cannot run here (no Docker); their wiring is checked by
reading them: the API reaches Neo4j where it listens with the password Neo4j was given, every
variable has a default, the API waits for a healthy Neo4j, the README's ports are the ones
published, and the image holds the whole package."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# compose interpolation: `$$` is a literal `$`; `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
# `${VAR:?error}` and bare `$VAR` read the environment
_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)
# inside the container, Neo4j's own defaults (server.bolt / server.http listen addresses)
NEO4J_PORTS = {"bolt": 7687, "http": 7474}
PASSWORD_CASES = [{}, {"NEO4J_PASSWORD": "from-the-environment"}]


def test_compose_runs_neo4j_with_apoc_and_points_the_api_at_it() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    neo4j, api = compose["services"]["neo4j"], compose["services"]["api"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "apoc" in neo4j["environment"]["NEO4J_PLUGINS"]
    assert "healthcheck" in neo4j
    assert api["build"] == "."
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert api["environment"]["CKG_NEO4J_URI"] == "bolt://neo4j:7687"
    assert (ROOT / "Dockerfile").is_file()
    assert "ckg" in (ROOT / "Dockerfile").read_text()


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """What compose makes of a value of the file under `env`."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group() == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, default = m.group("op"), m.group("default")
        unset = name not in env or (op is not None and op.startswith(":") and not env[name])
        if unset and op is not None and op.endswith("-"):
            return str(default)
        if unset and op is not None:
            raise AssertionError(f"${{{name}}} is required: {default}")
        return env.get(name, "")

    return _INTERPOLATION.sub(one, value)


def compose(env: Mapping[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = interpolate(yaml.safe_load(COMPOSE_TEXT), env)
    return config


def neo4j_service(config: Mapping[str, Any]) -> str:
    names = [n for n, s in config["services"].items() if str(s.get("image")).startswith("neo4j:")]
    assert len(names) == 1, names
    return str(names[0])


def listen_port(environment: Mapping[str, str], connector: str) -> int:
    address = environment.get(f"NEO4J_server_{connector}_listen__address", "")
    return int(address.rpartition(":")[2] or NEO4J_PORTS[connector])


def published(service: Mapping[str, Any]) -> dict[int, int]:
    """Host port -> container port, from the short `HOST:CONTAINER` form."""
    out: dict[int, int] = {}
    for entry in service.get("ports", []):
        host, _, container = str(entry).rpartition(":")
        out[int(host.rpartition(":")[2] or container)] = int(container.split("/")[0])
    return out


def test_every_variable_has_a_default() -> None:
    lines = [ln for ln in COMPOSE_TEXT.splitlines() if not ln.lstrip().startswith("#")]
    found = [m for ln in lines for m in _INTERPOLATION.finditer(ln) if m.group() != "$$"]
    assert found, "the file reads no variable at all: the password is fixed?"
    without = [m.group() for m in found if m.group("op") not in (":-", "-")]
    assert without == []


@pytest.mark.parametrize("env", PASSWORD_CASES)
def test_the_api_reaches_neo4j_where_it_listens_with_its_password(env: dict[str, str]) -> None:
    config = compose(env)
    name = neo4j_service(config)
    neo4j_env = config["services"][name]["environment"]
    api_env = config["services"]["api"]["environment"]
    uri = urlsplit(api_env["CKG_NEO4J_URI"])
    assert uri.scheme in ("bolt", "neo4j")
    assert (uri.hostname, uri.port) == (name, listen_port(neo4j_env, "bolt"))
    user, _, password = neo4j_env["NEO4J_AUTH"].partition("/")
    assert (api_env["CKG_NEO4J_USER"], api_env["CKG_NEO4J_PASSWORD"]) == (user, password)
    if env:
        assert password == env["NEO4J_PASSWORD"]  # both follow the variable


@pytest.mark.parametrize("env", PASSWORD_CASES)
def test_the_api_waits_for_neo4j_to_answer_a_query(env: dict[str, str]) -> None:
    config = compose(env)
    name = neo4j_service(config)
    neo4j, api = config["services"][name], config["services"]["api"]
    assert api["depends_on"][name]["condition"] == "service_healthy"
    check = neo4j["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and int(check["retries"]) > 1
    command = " ".join(check["test"][1:])
    assert "cypher-shell" in command
    user, _, password = neo4j["environment"]["NEO4J_AUTH"].partition("/")
    # the container's shell expands ${NEO4J_AUTH#prefix}: NEO4J_AUTH without the prefix
    m = re.search(r"-u\s+(\S+)\s+-p\s+\"?\$\{NEO4J_AUTH#([^}]*)\}", command)
    assert m is not None, command
    assert m.group(1) == user
    assert neo4j["environment"]["NEO4J_AUTH"].removeprefix(m.group(2)) == password


def api_port() -> int:
    """The port the image serves on: its CMD, EXPOSE and HEALTHCHECK agree."""
    cmd = re.search(r'^CMD \[.*"--port", "(\d+)"', DOCKERFILE, re.MULTILINE)
    expose = re.search(r"^EXPOSE (\d+)", DOCKERFILE, re.MULTILINE)
    health = re.search(r"https?://127\.0\.0\.1:(\d+)/", DOCKERFILE)
    assert cmd and expose and health, "the Dockerfile's CMD, EXPOSE or HEALTHCHECK moved"
    assert cmd.group(1) == expose.group(1) == health.group(1)
    return int(cmd.group(1))


def test_the_readme_s_ports_are_the_published_ones() -> None:
    config = compose({})
    name = neo4j_service(config)
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^#+ [^\n]*compose[^\n]*\n(.*?)(?=^#+ )", readme, re.M | re.S | re.I)
    assert section is not None, "the README has no docker compose section"
    text = section.group(1)
    neo4j_env = config["services"][name]["environment"]
    neo4j_http = published(config["services"][name])
    api_http = published(config["services"]["api"])
    browser = re.search(r"Neo4j Browser at http://localhost:(\d+)", text)
    api = re.search(r"API is at http://localhost:(\d+)", text)
    assert browser and api, text
    assert neo4j_http.get(int(browser.group(1))) == listen_port(neo4j_env, "http")
    assert api_http.get(int(api.group(1))) == api_port()
    documented = {int(p) for p in re.findall(r"localhost:(\d+)", text)}
    assert documented <= set(neo4j_http) | set(api_http)
    default = re.search(r"\$\{NEO4J_PASSWORD:-([^}]*)\}", COMPOSE_TEXT)
    assert default and f"`{default.group(1)}`" in text  # the README gives the default password


def test_the_image_holds_every_package() -> None:
    """`pip install .` in the image builds the packages pyproject lists: each must be copied."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    top = {p.split(".")[0] for p in packages["packages"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE, re.MULTILINE))
    assert top - copied == set()


def post_connect_commands(setting: str) -> list[str]:
    """Neo4j Browser's reading of `browser.post_connect_cmd`: `;`-separated commands (not
    inside quotes), each run with a `:` in front."""
    masked = re.sub(r"`[^`]*`|\"[^\"]*\"|'[^']*'", lambda m: m.group().replace(";", "\0"), setting)
    return [c.strip().replace("\0", ";") for c in masked.split(";") if c.strip()]


def served_get_paths() -> set[str]:
    """The paths the app answers GET on, read off its routes (nothing is started)."""
    from api.app import create_app
    from api.contract import routes

    return {r.path for r in routes(create_app()) if "GET" in (getattr(r, "methods", None) or ())}


def test_neo4j_browser_loads_the_kit_from_routes_the_api_serves() -> None:
    """On connecting, Neo4j Browser loads the style and plays the guide; both URLs must reach the
    API from the analyst's browser (a published port of the API's), on a host Neo4j Browser is
    allowed to fetch from, at the routes the app serves for them."""
    config = compose({})
    neo4j_env = config["services"][neo4j_service(config)]["environment"]
    allowlist = neo4j_env["NEO4J_browser_remote__content__hostname__allowlist"]
    allowed = {h.strip().rstrip("/") for h in str(allowlist).split(",")}
    commands = post_connect_commands(neo4j_env["NEO4J_browser_post__connect__cmd"])
    verbs: dict[str, SplitResult] = {}
    for command in commands:
        verb, _, target = command.partition(" ")
        verbs[verb] = urlsplit(target.strip())
    assert set(verbs) == {"style", "play"}, commands
    expected = {"style": "/browser/style.grass", "play": "/browser/guide.html"}
    api_ports = published(config["services"]["api"])
    paths = served_get_paths()
    for verb, url in verbs.items():
        assert url.scheme == "http" and url.hostname is not None, (verb, url)
        # hostIsAllowed: the hostname, or scheme and hostname, is on the list
        assert url.hostname in allowed or f"http://{url.hostname}" in allowed, (url, allowed)
        assert url.hostname in ("localhost", "127.0.0.1"), "the analyst's browser runs on the host"
        assert api_ports.get(url.port or 80) == api_port(), (url, api_ports)
        assert url.path == expected[verb] and url.path in paths, (verb, url.path)


def test_the_post_connect_reading_splits_as_neo4j_browser_does() -> None:
    assert post_connect_commands("style a; play b;") == ["style a", "play b"]
    assert post_connect_commands("config {x: 'a;b'}; play c") == ["config {x: 'a;b'}", "play c"]
