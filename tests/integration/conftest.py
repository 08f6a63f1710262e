"""The API under test: `api` runs the app on `api_settings` with the keys of `api_keys`.

A module overrides `api_settings` (its own graph name prefix, limits, files) and `api_keys`
where it needs other settings or keys; every test gets a fresh app, graph and key file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import Settings
from tests.helpers import ONE_KEY_PER_SCOPE, Api, KeySpec, running_api


@pytest.fixture
def api_settings(_isolated_env: Path, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=_isolated_env,
        graph_name=f"api_{tmp_path.name[-12:]}",
        api_keys_file=tmp_path / "keys.json",
    )


@pytest.fixture
def api_keys() -> KeySpec:
    return ONE_KEY_PER_SCOPE


@pytest.fixture
def api(api_settings: Settings, api_keys: KeySpec) -> Iterator[Api]:
    with running_api(api_settings, api_keys) as running:
        yield running
