"""Settings resolution, CLI parameter parsing and the FalkorDB parameter guard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.cli.queries import parse_params
from api.settings import Settings, get_settings
from graph.errors import CkgError, ClientError, ParameterRefused, QueryError
from graph.store import _check_param


def test_engine_defaults_to_embedded_and_follows_the_uri() -> None:
    assert Settings().resolved_engine == "falkordb"
    assert Settings(neo4j_uri="neo4j+s://db.example:7687").resolved_engine == "neo4j"
    assert Settings(neo4j_uri="", engine=None).resolved_engine == "falkordb"


@pytest.mark.parametrize("uri", ["http://x", "redis://127.0.0.1", "localhost:7687"])
def test_bad_uris_are_refused(uri: str) -> None:
    with pytest.raises(ValidationError, match="must start with"):
        Settings(neo4j_uri=uri)


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKG_WRITE_BATCH_SIZE", "123")
    get_settings.cache_clear()
    try:
        assert get_settings().write_batch_size == 123
        monkeypatch.setenv("CKG_WRITE_BATCH_SIZE", "456")
        assert get_settings().write_batch_size == 123
    finally:
        get_settings.cache_clear()


def test_parse_params() -> None:
    assert parse_params(["id=17850", "n:=5", 'tags:=["a"]', "eq=a=b", "empty="]) == {
        "id": "17850",
        "n": 5,
        "tags": ["a"],
        "eq": "a=b",
        "empty": "",
    }
    for bad in ["novalue", "=x", "n:=not-json"]:
        with pytest.raises(CkgError):
            parse_params([bad])


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        "nul\x00",
        {"bad`key": 1},
        {1: "x"},
        object(),
        b"bytes",
        [1, {"deep": float("-inf")}],
        "lone \ud800 surrogate",
        ["ok", {"deep": "\udfff"}],
        {"key \udc00": 1},
    ],
)
def test_unsafe_parameters_are_refused(value: object) -> None:
    with pytest.raises(QueryError):
        _check_param({"p": value})


@pytest.mark.parametrize(
    ("value", "where"),
    [("a\ud800b", "$.p"), ({"k": ["x", "\udc00"]}, "$.p.k[1]"), ({"k\ud800": 1}, "$.p")],
)
def test_text_without_utf8_form_is_the_callers_mistake(value: object, where: str) -> None:
    """Refused as a ClientError before the client fails on it packing the command; the
    message names where, and carries no text that cannot be encoded itself."""
    with pytest.raises(ParameterRefused) as caught:
        _check_param({"p": value})
    assert isinstance(caught.value, ClientError)
    message = str(caught.value)
    assert message.startswith(f"parameter {where}")
    message.encode("utf-8")


def test_plain_parameters_pass() -> None:
    _check_param(
        {
            "rows": [
                {
                    "id": "x'\"\\",
                    "n": 1,
                    "f": 0.5,
                    "b": True,
                    "none": None,
                    "nested": {"k-ey with space": ["a"]},
                }
            ]
        }
    )


def test_params_header_is_cypher_literal_syntax() -> None:
    from graph.store import params_header

    header = params_header(
        {"rows": [{"id": 'a"b\\', "n": 1.5, "ok": True, "none": None}], "s": "x,{k}:1"}
    )
    assert header == (
        'CYPHER `rows`=[{`id`:"a\\"b\\\\",`n`:1.5,`ok`:true,`none`:null}] `s`="x,{k}:1" '
    )


@pytest.mark.parametrize(
    "params",
    [
        {"v": "ctl\x01"},
        {"v": "nul\x00"},
        {"v": float("nan")},
        {"v": object()},
        {"bad name": 1},
        {"v": {"not an identifier": 1}},
    ],
)
def test_params_header_falls_back_when_json_is_not_enough(params: dict[str, object]) -> None:
    from graph.store import params_header

    assert params_header(params) is None
