"""`make cluster-demo`: the pipeline on a real two-node Ray cluster with sources and output on an
S3-compatible object store, checked byte for byte against a one-node run on local disk.

    .venv/bin/python scripts/cluster_demo.py [--config configs/demo.yaml] [--no-compare]

On this machine: moto's S3 server on 127.0.0.1 (the client is the one a user's run uses: s3fs,
pointed at it by AWS_ENDPOINT_URL), a Ray head and a worker node started with `ray start` (own
temp dirs; no folder is shared between them or with the driver). The config's sources are
uploaded to s3://grist-demo/in/SOURCE/ and its output becomes s3://grist-demo/out. Code trees are
read from local folders only, so `code` sources are left out of this run. Prints where the time
went: fixed costs (object store, cluster start) and every stage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.localcluster import ray_cluster, worker_logs  # noqa: E402
from tests.s3server import s3_server  # noqa: E402

BUCKET = "grist-demo"


def s3_config(config: Path, bucket: str, dest: Path, output: str, **overrides) -> Path:
    """Upload the config's sources to s3://bucket/in/SOURCE/ and write a config that reads them
    there and writes to `output`."""
    import fsspec

    from pipelines.config import load_config
    from pipelines.sources.files import glob_root, resolve_path

    cfg = load_config(config)
    fs = fsspec.filesystem("s3")
    raw = yaml.safe_load(config.read_text())
    sources = []
    for src, raw_src in zip(cfg.sources, raw["sources"]):
        if src.kind == "code":
            continue
        paths = []
        for pattern in src.paths:
            pattern = resolve_path(pattern, cfg.base_dir)
            root = glob_root(pattern)
            rel = os.path.relpath(pattern, root)
            fs.put(root.rstrip("/") + "/", f"{bucket}/in/{src.name}/", recursive=True)
            paths.append(f"s3://{bucket}/in/{src.name}/{rel}")
        sources.append({**raw_src, "paths": paths})
    data = {**raw, "sources": sources, "output": output, **overrides}
    # Reference files (classifier references, ...) stay local paths resolved against the original config.
    out = dest / "s3.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def run_grist(config: Path, env: dict[str, str]) -> float:
    t = time.perf_counter()
    p = subprocess.run([str(Path(sys.executable).parent / "grist"), "run", str(config)], env=env, cwd=ROOT,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"grist run failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return time.perf_counter() - t


def compare(s3_root: str, local: Path, folders=("documents", "dropped", "tokenizer", "shards")) -> list[str]:
    """Files that differ between the S3 output and a local output (empty: byte-identical)."""
    import fsspec

    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    remote = {f[len(s3_root.removeprefix("s3://")) + 1:]: f for f in fs.find(s3_root)}
    problems = []
    n = 0
    for folder in folders:
        for p in sorted((local / folder).rglob("*")):
            if p.is_file():
                rel = p.relative_to(local).as_posix()
                n += 1
                if rel not in remote:
                    problems.append(f"missing on s3: {rel}")
                elif fs.cat(remote[rel]) != p.read_bytes():
                    problems.append(f"differs: {rel}")
        extra = [k for k in remote if k.startswith(folder + "/") and not (local / k).is_file()]
        problems += [f"only on s3: {k}" for k in extra]
    if n == 0:
        problems.append("nothing to compare")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "demo.yaml")
    ap.add_argument("--no-compare", action="store_true", help="skip the one-node local-disk run")
    args = ap.parse_args()
    times: dict[str, float] = {}
    t = time.perf_counter()
    with s3_server(BUCKET) as s3env, tempfile.TemporaryDirectory(prefix="grist-cluster-") as d:
        times["object store up"] = time.perf_counter() - t
        t = time.perf_counter()
        cfg = s3_config(args.config.resolve(), BUCKET, Path(d), f"s3://{BUCKET}/out")
        times["upload sources"] = time.perf_counter() - t
        t = time.perf_counter()
        with ray_cluster(env=s3env) as cluster:
            times["cluster start (2 nodes)"] = time.perf_counter() - t
            env = {**cluster["env"], "RAY_ADDRESS": cluster["address"]}
            times["grist run on the cluster"] = run_grist(cfg, env)
            ran_on_worker = len(worker_logs(cluster["temp_dirs"][1]))
        import fsspec

        report = json.loads(fsspec.filesystem("s3").cat(f"{BUCKET}/out/report.json"))
        problems = None
        if not args.no_compare:
            local_cfg = Path(d) / "local.yaml"
            data = yaml.safe_load(cfg.read_text())
            local_cfg.write_text(yaml.safe_dump({**data, "output": str(Path(d) / "local-out")}, sort_keys=False))
            env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
            times["grist run, one node, local disk"] = run_grist(local_cfg, env)
            problems = compare(f"s3://{BUCKET}/out", Path(d) / "local-out")
    print(f"\ncluster demo: {report['accounting']}  (worker node ran {ran_on_worker} Ray worker processes)")
    print(f"{'where the time went':<36}{'s':>9}")
    for k, v in times.items():
        print(f"  {k:<34}{v:9.1f}")
    fixed = report.get("fixed_costs") or {}
    print(f"  cluster run: Ray connect {fixed.get('ray_start_s', 0):.1f} s; per stage (s):")
    print(f"    {'stage':<12}{'wall':>8}{'parts':>7}{'work':>8}{'overhead':>10}{'driver':>8}")
    costs = fixed.get("stages") or {}
    for name, c in ((st["name"], costs[st["name"]]) for st in report["stages"] if st["name"] in costs):
        print(f"    {name:<12}{c['wall_s']:8.1f}{c['parts']:7d}{c['work_s']:8.1f}{c['overhead_s']:10.1f}{c['driver_s']:8.1f}")
    if problems is not None:
        print("outputs vs the one-node local-disk run: " + ("byte-identical" if not problems else "; ".join(problems[:10])))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
