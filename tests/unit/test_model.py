"""The graph model, the identifier whitelist, and the schema files agree with each other."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, ValidationError

from graph.catalog import schema_statements
from graph.errors import CkgError
from graph.model import KEYED_LABELS, NODE_MODELS, EntityId, Label, label, property_keys, rel_type


def test_every_keyed_label_is_constrained_and_indexed() -> None:
    neo = {
        m.group(1)
        for s in schema_statements("neo4j")
        if (m := re.search(r"FOR \(n:(\w+)\) REQUIRE n\.id IS UNIQUE", s))
    }
    falkor = {
        m.group(1)
        for s in schema_statements("falkordb")
        if (m := re.search(r"FOR \(n:(\w+)\) ON \(n\.id\)", s))
    }
    keyed = {lbl.value for lbl in KEYED_LABELS}
    assert neo == keyed
    assert falkor == keyed


def test_every_label_has_a_model_with_an_id() -> None:
    assert set(NODE_MODELS) == set(Label)
    for model in NODE_MODELS.values():
        assert "id" in model.model_fields


def test_whitelist_refuses_unknown_identifiers() -> None:
    assert label("Customer") is Label.CUSTOMER
    assert rel_type("PURCHASED").value == "PURCHASED"
    for bad in ("Customer) DETACH DELETE (n", "customer", "", "`Customer`"):
        with pytest.raises(CkgError):
            label(bad)
    with pytest.raises(CkgError):
        rel_type("PURCHASED]->() DELETE r //")


def test_property_keys_cover_models() -> None:
    keys = property_keys()
    assert {"id", "embedding", "score", "purpose", "dwell_ms"} <= set(keys)


class _Holder(BaseModel):
    id: EntityId


@pytest.mark.parametrize("good", ["17850", "85123A", "anon:abc-123", "a b", "ü✓", "x" * 256])
def test_ids_accepted(good: str) -> None:
    assert _Holder(id=good).id == good


@pytest.mark.parametrize("bad", ["", " lead", "trail ", "tab\tin", "nl\n", "nul\x00", "x" * 257])
def test_ids_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        _Holder(id=bad)
