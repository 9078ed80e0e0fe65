"""A real multi-node run: a Ray head and a worker node (`ray start`, own temp dirs, nothing shared)
with the sources and the output on an S3-compatible server (moto, over HTTP, through the same
s3fs client a user's run uses). Every output (documents, dropped, tokenizer, shards with their
manifest) must be byte-identical to a one-node run on local disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from scripts.cluster_demo import compare
from tests.localcluster import ray_cluster, worker_logs
from tests.s3server import s3_server

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "grist-test"


def _config(path: Path, output: str) -> Path:
    cfg = {"output": output, "seed": 0,
           "sources": [{"name": "books", "kind": "books", "paths": [f"s3://{BUCKET}/in/books/*.txt*"], "weight": 0.7},
                       {"name": "wiki", "kind": "encyclopedia", "paths": [f"s3://{BUCKET}/in/wiki/*.xml.bz2"],
                        "weight": 0.3}],
           "runtime": {"part_mb": 0.05},  # several parts per source, so both nodes get work
           "filters": {"quality": {"enabled": False}},
           "mixture": {"target_tokens": 40000},
           "tokenizer": {"vocab_size": 400},
           "shards": {"tokens_per_shard": 15000, "val_fraction": 0.05}}
    path.write_text(yaml.safe_dump(cfg))
    return path


def _grist(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "grist"), "run", str(config)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)


def test_two_nodes_on_s3_match_one_node_on_local_disk(tmp_path):
    import fsspec

    with s3_server(BUCKET) as s3env:
        fs = fsspec.filesystem("s3")
        fs.put(str(ROOT / "data" / "sample" / "books") + "/", f"{BUCKET}/in/books/", recursive=True)
        fs.put(str(ROOT / "data" / "sample" / "encyclopedia") + "/", f"{BUCKET}/in/wiki/", recursive=True)
        with ray_cluster(env=s3env) as cluster:
            res = _grist(_config(tmp_path / "s3.yaml", f"s3://{BUCKET}/out"),
                         {**cluster["env"], "RAY_ADDRESS": cluster["address"]})
            assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
            assert worker_logs(cluster["temp_dirs"][1]), "no Ray worker ran on the worker node"
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        local = _grist(_config(tmp_path / "local.yaml", str(tmp_path / "local-out")), env)
        assert local.returncode == 0, local.stdout[-2000:] + local.stderr[-3000:]
        assert compare(f"s3://{BUCKET}/out", tmp_path / "local-out") == []
        assert fs.exists(f"{BUCKET}/out/shards/manifest.json") and fs.exists(f"{BUCKET}/out/report.json")
