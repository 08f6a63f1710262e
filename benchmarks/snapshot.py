"""A fingerprint of what ckg produces from fixed input, to show two versions behave the same.

Runs only the public surface (the `ckg` commands and the HTTP API) and reads the graph straight
from the embedded server, so the same script runs against any version of the code:

- `retail_graph_sha256`: the full online-retail file loaded by `ckg ingest` into a fresh store,
  every node (labels, properties) and relationship (ends, type, properties) as sorted JSON lines;
- `answers_sha256`: the bundled samples loaded, `ckg embed` (seed 42, one worker) and
  `ckg segment` run, then the context (JSON and text), profile, recommendation, similar-product,
  consent and export answers for a fixed set of ids, with clock-dependent fields removed.

Prints one JSON line: the two digests, counts, and where the answers were written (`--keep`).
Usage: `python benchmarks/snapshot.py [--keep DIR] [--skip-retail | --only-retail]`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from falkordb import FalkorDB

ROOT = Path(__file__).resolve().parents[1]
CKG = str(Path(sys.executable).with_name("ckg"))
RETAIL = ROOT.parent / "shared/datasets/online-retail/online_retail_2010-12_2011-09.csv.gz"
SAMPLES = ROOT / "ingest/samples"
AT = "2010-12-01T09:30:00Z"
SESSIONS = ["retail:536365", "retail:536367", "retail:536544", "eshop:1", "eshop:24"]
CUSTOMERS = ["17850", "13047", "12583", "15311", "no-such-customer"]
PRODUCTS = ["85123A", "22423", "84879", "A13", "no-such-product"]
# Fields that carry the wall clock or a model's training time, not the data.
VOLATILE = {
    "exported_at",
    "generated_at",
    "created_at",
    "trained_at",
    "now",
    "as_of",
    "promoted_at",
    "model_created_at",
    "model",
}


def ckg(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([CKG, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 4):
        raise SystemExit(f"ckg {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def graph_lines(data_dir: Path, graph: str) -> list[str]:
    info = json.loads((data_dir / "server.json").read_text())
    g = FalkorDB(host=info["host"], port=info["port"], password=info["password"])
    sel = g.select_graph(graph)
    nodes = sel.query("MATCH (n) RETURN labels(n), properties(n)").result_set
    rels = sel.query(
        "MATCH (a)-[r]->(b) RETURN a.id, labels(a)[0], type(r), b.id, labels(b)[0], properties(r)"
    ).result_set
    lines = [json.dumps(["n", sorted(lab), props], sort_keys=True) for lab, props in nodes]
    lines += [json.dumps(["r", *row], sort_keys=True) for row in rels]
    return sorted(lines)


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


@contextlib.contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [CKG, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def answers(env: dict[str, str]) -> dict[str, Any]:
    key = ckg(
        env,
        "keys",
        "create",
        "--name",
        "snap",
        "-s",
        "chatbot:read",
        "-s",
        "analyst:read",
        "-s",
        "privacy:admin",
        "-s",
        "ingest:write",
    ).strip()
    paths = []
    for s in SESSIONS:
        paths += [
            f"/v1/sessions/{s}/context?at={AT}",
            f"/v1/sessions/{s}/context?at={AT}&format=text&max_tokens=200",
            f"/v1/sessions/{s}/context?at={AT}&device=mobile",
            f"/v1/sessions/{s}/recommendations",
        ]
    for c in CUSTOMERS:
        paths += [
            f"/v1/customers/{c}?purpose=personalization",
            f"/v1/customers/{c}/recommendations",
            f"/v1/customers/{c}/consents",
            f"/v1/customers/{c}/consents/history",
            f"/v1/customers/{c}/export",
        ]
    paths += [f"/v1/products/{p}/similar" for p in PRODUCTS]
    out: dict[str, Any] = {}
    with (
        serving(env) as base,
        httpx.Client(base_url=base, timeout=60, headers={"X-API-Key": key}) as client,
    ):
        for p in paths:
            r = client.get(p)
            ctype = r.headers.get("content-type", "")
            body = r.json() if ctype.startswith("application/json") else r.text
            out[p] = [r.status_code, strip(body)]
    return out


def load(env: dict[str, str], path: Path, fmt: str, dead_letter: str) -> None:
    ckg(env, "ingest", str(path), "--format", fmt, "-q", "--dead-letter", dead_letter)


def retail_digest(env: dict[str, str], tmp: str) -> dict[str, Any]:
    load(env, RETAIL, "online-retail", f"{tmp}/dl1.jsonl")
    lines = graph_lines(Path(env["CKG_DATA_DIR"]), env["CKG_GRAPH_NAME"])
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return {"retail_graph_sha256": digest, "retail_graph_lines": len(lines)}


def sample_answers(env: dict[str, str], tmp: str) -> dict[str, Any]:
    load(env, SAMPLES / "online-retail-sample.csv.gz", "online-retail", f"{tmp}/dl2.jsonl")
    load(env, SAMPLES / "eshop-clickstream-sample.csv.gz", "eshop-clickstream", f"{tmp}/dl2.jsonl")
    ckg(env, "embed", "--quiet", "--workers", "1", "--seed", "42")
    ckg(env, "segment", "--quiet", "--seed", "42")
    return answers(env)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any] | None]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CKG_")}
        env |= {
            "CKG_DATA_DIR": f"{tmp}/data",
            "CKG_API_KEYS_FILE": f"{tmp}/keys.json",
            "CKG_PRIVACY_KEY": "snapshot-key",
            "CKG_GRAPH_NAME": "retail",
        }
        try:
            if not args.skip_retail:
                result |= retail_digest(env, tmp)
            if args.only_retail:
                return result, None
            env["CKG_GRAPH_NAME"] = "samples"
            return result, sample_answers(env, tmp)
        finally:
            subprocess.run([CKG, "store", "stop"], env=env, capture_output=True, check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="write the answers here")
    ap.add_argument("--skip-retail", action="store_true")
    ap.add_argument("--only-retail", action="store_true", help="just the retail graph digest")
    args = ap.parse_args()
    result, got = run(args)
    if got is not None:
        text = json.dumps(got, sort_keys=True, indent=1)
        result["answers_sha256"] = hashlib.sha256(text.encode()).hexdigest()
        result["answers"] = len(got)
        result["answers_200"] = sum(1 for v in got.values() if v[0] == 200)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / "answers.json").write_text(text)
            result["kept"] = str(args.keep)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
