"""The privacy commands as a person runs them: `ckg erase`, `ckg export`, `ckg privacy
unsuppress` and `ckg privacy report` in a real process against a real embedded store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.settings import Settings
from graph.queries import get_queries
from graph.store import open_store
from tests.integration.test_cli import assert_one_line_error, run

KEY = "cli-test-key"


def test_erase_with_an_empty_id_is_a_usage_error(tmp_path: Path) -> None:
    env = {"CKG_DATA_DIR": str(tmp_path / "data")}
    for empty in ("", "  "):
        assert_one_line_error(run("erase", empty, env=env), 2, "customer id is empty")


@pytest.fixture
def cli_store(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, privacy_key=KEY)
    env = {"CKG_DATA_DIR": str(data), "CKG_PRIVACY_KEY": KEY}
    try:
        yield settings, env
    finally:
        run("store", "stop", env=env)


def _create(settings: Settings, customer_id: str) -> None:
    from privacy.pii import PiiFields, create_customer

    pii = PiiFields(email="cli@example.com")
    with open_store(settings) as store:
        create_customer(store, get_queries(), KEY.encode(), customer_id, None, pii, {}, [], "t")


def test_erase_unsuppress_and_report_from_the_shell(
    cli_store: tuple[Settings, dict[str, str]],
) -> None:
    from privacy.errors import ErasedSubject
    from privacy.tokens import subject_hash

    settings, env = cli_store
    _create(settings, "c-1")
    exported = run("export", "c-1", env=env)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["exported_at"].endswith("Z")

    first = run("erase", "c-1", env=env)
    assert first.returncode == 0, first.stderr
    receipt = json.loads(first.stdout)
    assert receipt["at"].endswith("Z") and not receipt["already_erased"]
    again = json.loads(run("erase", "c-1", env=env).stdout)
    assert again["already_erased"] and again["id"] == receipt["id"]
    with pytest.raises(ErasedSubject):
        _create(settings, "c-1")

    lifted = run("privacy", "unsuppress", "c-1", env=env)
    assert lifted.returncode == 0, lifted.stderr
    assert json.loads(lifted.stdout)["receipts"] == [receipt["id"]]
    assert_one_line_error(run("privacy", "unsuppress", "c-1", env=env), 1, "not suppressed")
    _create(settings, "c-1")  # the id can be created again

    report = run("privacy", "report", "--from", "2000-01-01", "--to", "2100-01-01", env=env)
    assert report.returncode == 0, report.stderr
    doc = json.loads(report.stdout)
    assert (doc["from"], doc["to"]) == ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
    assert (doc["to_know"]["received"], doc["to_know"]["complied"]) == (1, 1)
    assert (doc["to_delete"]["received"], doc["to_delete"]["complied"]) == (2, 2)
    assert doc["to_opt_out_of_sale"]["received"] == 0
    with open_store(settings) as store:
        trail = store.read(get_queries().audit_trail, {"hash": subject_hash(KEY.encode(), "c-1")})
    assert {a["actor"] for a in trail} == {"cli"} and len(trail) == 5

    bad = run("privacy", "report", "--from", "soon", "--to", "2100-01-01", env=env)
    assert_one_line_error(bad, 1, "--from 'soon' is not an ISO date")
    backwards = run("privacy", "report", "--from", "2100-01-01", "--to", "2000-01-01", env=env)
    assert backwards.returncode == 0, backwards.stderr  # a window that ends first holds nothing
    assert json.loads(backwards.stdout)["to_delete"]["received"] == 0
