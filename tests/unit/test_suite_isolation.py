"""On Neo4j every test shares the server's one database: a module's graph loaded once
(`module_engine_settings`) must not be emptied by another test's fixtures before the last test
that reads it. The setup plan pytest would follow shows whether it is."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = "tests/integration"
MODULE_UP = re.compile(r"SETUP\s+M module_engine_settings .*\['neo4j'\]")
MODULE_DOWN = re.compile(r"TEARDOWN M module_engine_settings\['neo4j'\]")
FUNCTION_WIPE = re.compile(r"SETUP\s+F engine_settings .*\['neo4j'\]")


def _plan() -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--setup-plan",
            "-q",
            "-p",
            "no:cacheprovider",
            INTEGRATION,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout.splitlines()


def _wipes_inside_groups(lines: list[str]) -> tuple[int, list[str]]:
    groups, bad, start = 0, [], None
    for i, line in enumerate(lines):
        if MODULE_UP.search(line):
            groups, start = groups + 1, i
        elif MODULE_DOWN.search(line) and start is not None:
            group = lines[start:i]
            users = [k for k, g in enumerate(group) if "::" in g and "module_engine_settings" in g]
            last = max(users, default=0)
            bad += [g.strip() for g in group[:last] if FUNCTION_WIPE.search(g)]
            start = None
    return groups, bad


def test_no_test_empties_a_shared_graph_before_its_last_reader() -> None:
    groups, bad = _wipes_inside_groups(_plan())
    assert groups >= 10  # the loaded-once modules, so the plan was read as intended
    assert bad == []


def test_the_check_sees_an_interleaved_wipe() -> None:
    plan = [
        "SETUP    M module_engine_settings (fixtures used: _isolated_env)['neo4j']",
        "    t.py::test_a[neo4j] (fixtures used: module_engine_settings)",
        "    SETUP    F engine_settings (fixtures used: _isolated_env)['neo4j']",
        "    t.py::test_b[neo4j] (fixtures used: module_engine_settings)",
        "TEARDOWN M module_engine_settings['neo4j']",
    ]
    assert _wipes_inside_groups(plan) == (1, [plan[2].strip()])
    assert _wipes_inside_groups(plan[:2] + plan[3:] + plan[2:3]) == (1, [])
