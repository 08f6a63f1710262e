"""The `ckg` command as a person runs it: a real process, real exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.settings import Settings

CKG = [sys.executable, "-m", "api.cli"]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CKG_")}
    full_env.update(env or {})
    return subprocess.run(
        [*CKG, *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(p: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("ckg: error: ")
    assert "Traceback" not in p.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_store_start_status_stop(tmp_path: Path) -> None:
    env = {"CKG_DATA_DIR": str(tmp_path / "data")}
    try:
        p = run("store", "start", env=env)
        assert p.returncode == 0, p.stderr
        assert "embedded store started" in p.stdout
        assert "already running" in run("store", "start", env=env).stdout
        status = run("store", "status", "--json", env=env)
        assert status.returncode == 0
        report = json.loads(status.stdout)
        assert report["running"] and report["nodes"] == 0
    finally:
        stop = run("store", "stop", env=env)
    assert stop.returncode == 0 and "stopped" in stop.stdout
    after = run("store", "status", env=env)
    assert after.returncode == 3 and "not running" in after.stdout


def test_kill_9_then_store_start_brings_the_data_back(tmp_path: Path) -> None:
    from graph.queries import get_queries
    from graph.store import open_store

    data = tmp_path / "data"
    env = {"CKG_DATA_DIR": str(data)}
    try:
        assert run("store", "start", env=env).returncode == 0
        with open_store(Settings(data_dir=data)) as store:
            rows = [{"id": f"c{i}", "props": {"country": "GB"}} for i in range(1000)]
            store.write_rows(get_queries().upsert_customers, rows)
        pid = json.loads((data / "server.json").read_text())["pid"]
        time.sleep(1.2)  # appendfsync everysec
        os.kill(pid, signal.SIGKILL)
        assert run("store", "status", env=env).returncode == 3
        p = run("store", "start", env=env)
        assert p.returncode == 0 and "started" in p.stdout, p.stderr
        report = json.loads(run("store", "status", "--json", env=env).stdout)
        assert report["by_label"] == {"Customer": 1000}
    finally:
        run("store", "stop", env=env)


def test_default_data_dir_is_dot_ckg(tmp_path: Path) -> None:
    try:
        assert run("store", "start", cwd=tmp_path).returncode == 0
        assert (tmp_path / ".ckg" / "data" / "server.json").exists()
    finally:
        run("store", "stop", cwd=tmp_path)


def test_query_by_name_and_file(tmp_path: Path) -> None:
    from graph.queries import get_queries
    from graph.store import open_store

    data = tmp_path / "data"
    env = {"CKG_DATA_DIR": str(data)}
    try:
        with open_store(Settings(data_dir=data)) as store:
            store.write_rows(
                get_queries().upsert_products,
                [
                    {"id": f"p{i}", "category": "mugs", "props": {"name": f"Mug {i}"}}
                    for i in range(3)
                ],
            )
        p = run(
            "query",
            "products_in_category",
            "-p",
            "category=mugs",
            "-p",
            "limit:=2",
            "--format",
            "json",
            env=env,
        )
        assert p.returncode == 0, p.stderr
        assert [json.loads(line)["product"]["id"] for line in p.stdout.splitlines()] == ["p0", "p1"]

        table = run("query", "category_products", env=env)
        assert table.returncode == 0 and "mugs" in table.stdout and "1 row" in table.stdout

        own = tmp_path / "mine.cypher"
        own.write_text("MATCH (p:Product) WHERE p.name STARTS WITH $prefix RETURN count(p) AS n")
        p = run("query", str(own), "-p", "prefix=Mug", "--format", "csv", env=env)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == ["n", "3"]

        writer = tmp_path / "evil.cypher"
        writer.write_text("MATCH (p:Product) DETACH DELETE p")
        assert_one_line_error(run("query", str(writer), env=env), 1, "write clause")
        assert_one_line_error(run("query", "upsert_customers", env=env), 1, "read-only")
        assert_one_line_error(run("query", "no_such_query", env=env), 1, "no query named")
        assert_one_line_error(run("query", "customer_by_id", env=env), 1, "needs parameters: id")
        assert_one_line_error(run("query", "customer_by_id", "-p", "oops", env=env), 1, "k=v")
    finally:
        run("store", "stop", env=env)


@pytest.mark.parametrize(
    ("env", "code", "needle"),
    [
        ({"CKG_NEO4J_URI": "bolt://127.0.0.1:9"}, 3, "unreachable"),
        ({"CKG_NEO4J_URI": "http://example.invalid"}, 2, "CKG_NEO4J_URI"),
        ({"CKG_EMBEDDED_PORT": "not-a-port"}, 2, "CKG_EMBEDDED_PORT"),
        ({"CKG_ENGINE": "sqlite"}, 2, "CKG_ENGINE"),
    ],
)
def test_bad_configuration_is_one_line(env: dict[str, str], code: int, needle: str) -> None:
    assert_one_line_error(run("query", "node_counts", env=env), code, needle)


def test_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    p = run("store", "start", env={"CKG_DATA_DIR": str(blocker / "data")})
    assert_one_line_error(p, 2, "data directory", "not usable")


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run(
            "store",
            "start",
            env={"CKG_DATA_DIR": str(tmp_path / "d"), "CKG_EMBEDDED_PORT": str(port)},
        )
    assert_one_line_error(p, 2, f"port {port}", "in use")


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    """Refused before anything starts: no uvicorn log, no store started for the data dir."""
    from graph.embedded import EmbeddedServer

    data = tmp_path / "d"
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            p = run("serve", "--port", str(port), env={"CKG_DATA_DIR": str(data)}, timeout=60)
        store_started = EmbeddedServer(data).status() is not None
    finally:
        EmbeddedServer(data).stop()
    assert_one_line_error(p, 2, f"port {port}", "in use")
    assert p.stdout == ""
    assert not store_started
    bad = run("serve", "--port", "70000", env={"CKG_DATA_DIR": str(data)}, timeout=30)
    assert_one_line_error(bad, 2, "70000")


def test_wrong_neo4j_password_is_one_line(neo4j_settings: Settings) -> None:
    assert neo4j_settings.neo4j_uri
    p = run(
        "query",
        "node_counts",
        env={"CKG_NEO4J_URI": neo4j_settings.neo4j_uri, "CKG_NEO4J_PASSWORD": "definitely-wrong"},
    )
    assert_one_line_error(p, 3, "refused the credentials")


def test_neo4j_store_commands_are_refused(neo4j_settings: Settings) -> None:
    assert neo4j_settings.neo4j_uri
    p = run("store", "start", env={"CKG_NEO4J_URI": neo4j_settings.neo4j_uri})
    assert_one_line_error(p, 2, "embedded store")


def test_query_output_fits_80_columns(tmp_path: Path) -> None:
    from graph.queries import get_queries
    from graph.store import open_store

    data = tmp_path / "data"
    env = {"CKG_DATA_DIR": str(data), "COLUMNS": "80"}
    seen = 1_322_727_200_000  # 2011-12-01T08:13:20Z
    try:
        with open_store(Settings(data_dir=data)) as store:
            store.write_rows(
                get_queries().upsert_customers,
                [
                    {
                        "id": "customer-with-a-long-identifier-17850",
                        "props": {"country": "United Kingdom|GB", "last_seen_at": seen},
                    }
                ],
            )
        wide = run(
            "query", "customer_overview", "-p", "id=customer-with-a-long-identifier-17850", env=env
        )
        assert wide.returncode == 0, wide.stderr
        lines = wide.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, wide.stdout
        for header in (
            "customer",
            "country",
            "segments",
            "products_bought",
            "lifetime_value",
            "last_seen_at",
        ):
            assert any(header in line for line in lines), (header, wide.stdout)
        assert "2011-12-01T08:13:20Z" in wide.stdout and str(seen) not in wide.stdout
        assert "…" not in wide.stdout

        own = tmp_path / "seen.cypher"
        own.write_text(
            "MATCH (c:Customer) RETURN c.id AS customer, c.last_seen_at AS last_seen_at, "
            "c.country AS country"
        )
        narrow = run("query", str(own), env=env)
        assert narrow.returncode == 0, narrow.stderr
        head = next(line for line in narrow.stdout.splitlines() if "last_seen_at" in line)
        assert "customer" in head and "country" in head  # one table, headers whole
        assert "2011-12-01T08:13:20Z" in narrow.stdout and "…" not in narrow.stdout
        assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
        # the id folds onto a second line instead of losing its end
        first = [line.split("│")[1].strip() for line in narrow.stdout.splitlines() if "│" in line]
        assert "".join(first) == "customer-with-a-long-identifier-17850", narrow.stdout

        md = run("query", str(own), "--format", "markdown", env=env)
        assert md.returncode == 0, md.stderr
        table = md.stdout.strip().splitlines()
        assert table[0] == "| customer | last_seen_at | country |"
        assert re.fullmatch(r"\|(---\|){3}", table[1]), table[1]
        cells = re.split(r"(?<!\\)\|", table[2])[1:-1]
        assert [c.strip() for c in cells] == [
            "customer-with-a-long-identifier-17850",
            "2011-12-01T08:13:20Z",
            "United Kingdom\\|GB",
        ]

        raw = run("query", str(own), "--format", "json", env=env)
        assert json.loads(raw.stdout)["last_seen_at"] == seen  # machine formats keep raw values
    finally:
        run("store", "stop", env=env)
