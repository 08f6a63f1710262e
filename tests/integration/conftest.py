"""The API under test: `api` runs the app on `api_settings` with the keys of `api_keys`.

`api_settings` is the test's engine (`engine_settings`: the embedded store, and Neo4j where
one answers) with a key file and a privacy key of the test's own. A module overrides
`api_settings` (limits, files) and `api_keys` where it needs other settings or keys; every test
gets a fresh app, graph and key file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import Settings
from graph.catalog import QueryCatalog
from tests.helpers import ONE_KEY_PER_SCOPE, Api, KeySpec, emptied, own_files, running_api


@pytest.fixture
def api_settings(engine_settings: Settings, tmp_path: Path) -> Settings:
    return own_files(engine_settings, tmp_path)


@pytest.fixture(scope="module")
def module_api_settings(
    module_engine_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    test_queries: QueryCatalog,
) -> Iterator[Settings]:
    """`api_settings` for a module that loads one graph for all its tests: the module's engine
    with key files of its own, the graph emptied before the module and after it."""
    settings = own_files(module_engine_settings, tmp_path_factory.mktemp("module"))
    with emptied(settings, test_queries):
        yield settings


@pytest.fixture
def api_keys() -> KeySpec:
    return ONE_KEY_PER_SCOPE


@pytest.fixture
def api(api_settings: Settings, api_keys: KeySpec, test_queries: QueryCatalog) -> Iterator[Api]:
    with emptied(api_settings, test_queries), running_api(api_settings, api_keys) as running:
        yield running
