"""Shared fixtures: settings isolated per test run, and a store per engine.

The embedded engine always runs: one FalkorDB server for the whole session in a temporary data
directory, and a fresh graph name per test, so tests never see each other's data. The Neo4j
engine runs against CKG_TEST_NEO4J_URI when set, else a testcontainers `neo4j:5.26-community`
where Docker answers; otherwise its tests are skipped with the reason (and fail under
`make test-neo4j`, which sets CKG_TEST_REQUIRE_NEO4J).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from api.settings import Settings, get_settings
from graph.catalog import QueryCatalog
from graph.settings import get_store_settings
from graph.store import Store, open_store
from tests.helpers import wipe

# property tests draw the same examples on every run and machine (HYPOTHESIS_PROFILE=explore
# draws fresh ones, for hunting); no example database, so a run depends on the code alone
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

KEPT_ENV = frozenset({"CKG_DATASETS_DIR"})
NEO4J_IMAGE = "neo4j:5.26-community"
NEO4J_PASSWORD = "ckg-test-password"
TESTS_CYPHER = Path(__file__).parent / "cypher"


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test may touch ./.ckg or a Neo4j named by the developer's own environment. What only
    locates read-only inputs stays: CKG_TEST_* and CKG_DATASETS_DIR (a checkout that is not
    beside ../shared finds the full datasets through it)."""
    data_dir = tmp_path_factory.mktemp("ckg-data")
    saved = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("CKG_") and not k.startswith("CKG_TEST_") and k not in KEPT_ENV
    }
    for k in saved:
        del os.environ[k]
    os.environ["CKG_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    get_store_settings.cache_clear()
    yield data_dir
    from graph.embedded import EmbeddedServer

    EmbeddedServer(data_dir).stop()
    os.environ.update(saved)
    get_settings.cache_clear()
    get_store_settings.cache_clear()


@pytest.fixture(scope="session")
def test_queries() -> QueryCatalog:
    return QueryCatalog(root=TESTS_CYPHER)


def _docker_available() -> str | None:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:  # any failure means: no usable Docker here
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    uri = os.environ.get("CKG_TEST_NEO4J_URI")
    if uri:
        yield Settings(
            neo4j_uri=uri,
            neo4j_user=os.environ.get("CKG_TEST_NEO4J_USER", "neo4j"),
            neo4j_password=os.environ.get("CKG_TEST_NEO4J_PASSWORD", NEO4J_PASSWORD),
        )
        return
    why = _docker_available()
    if why is not None:
        message = f"Neo4j engine: CKG_TEST_NEO4J_URI is unset and Docker is unavailable ({why})"
        if os.environ.get("CKG_TEST_REQUIRE_NEO4J"):  # `make test-neo4j`: a skip is no pass
            pytest.fail(message)
        pytest.skip(message)
    from testcontainers.neo4j import Neo4jContainer

    with Neo4jContainer(NEO4J_IMAGE, password=NEO4J_PASSWORD) as container:
        yield Settings(
            neo4j_uri=container.get_connection_url(),
            neo4j_user="neo4j",
            neo4j_password=NEO4J_PASSWORD,
        )


ENGINES = ["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)]


@pytest.fixture(params=ENGINES)
def engine_settings(request: pytest.FixtureRequest, _isolated_env: Path) -> Settings:
    """Settings for one engine; the embedded one gets its own graph for this test."""
    return _engine(request, _isolated_env)


@pytest.fixture(scope="module", params=ENGINES)
def module_engine_settings(request: pytest.FixtureRequest, _isolated_env: Path) -> Settings:
    """As `engine_settings`, for a module whose tests share one graph that is slow to load."""
    return _engine(request, _isolated_env)


def _engine(request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    if request.param == "neo4j":
        s: Settings = request.getfixturevalue("neo4j_settings")
        return s
    return Settings(data_dir=data_dir, graph_name=f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(engine_settings: Settings, test_queries: QueryCatalog) -> Iterator[Store]:
    s = open_store(engine_settings)
    wipe(s, test_queries)
    try:
        yield s
    finally:
        wipe(s, test_queries)
        s.close()
