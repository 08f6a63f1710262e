"""docker-compose.yml cannot run here (no Docker); at least its wiring is checked."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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
