"""Submit a grist run as a Ray job: grist submit CONFIG.yaml --address http://HEAD:8265 [--wait]."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    from jobs.client import ENTRYPOINTS

    p.add_argument("config", help="YAML config (inside the working dir, which is uploaded)")
    p.add_argument("--address", help="Ray dashboard / job server, e.g. http://127.0.0.1:8265 (default: $RAY_ADDRESS)")
    p.add_argument("--entrypoint", choices=ENTRYPOINTS, default="shards", help="how far to run (default: the whole pipeline)")
    p.add_argument("--wait", action="store_true", help="stream the job's logs and exit with its status")
    p.add_argument("--working-dir", default=".", help="uploaded to the cluster (default: .)")
    p.add_argument("--runtime-env", type=Path, help="runtime_env YAML (default: jobs/runtime_env.yaml)")
    p.add_argument("--no-install", action="store_true", help="do not pip-install dependencies (the cluster has them)")
    p.add_argument("--output", help="override the config's `output` (a path on the cluster)")
    p.add_argument("--workers", type=int, help="actors per stage")
    p.add_argument("--job-id", help="submission id to use (resubmitting a stopped job needs a new one)")


def main(args: argparse.Namespace) -> int:
    from jobs import client as jc
    from pipelines.config import load_config

    overrides = {"output": args.output} if args.output else None
    working_dir = Path(args.working_dir)
    load_config(args.config, overrides)  # a bad config fails here, not on the cluster
    extra = [*(["--output", args.output] if args.output else []), *(["--workers", str(args.workers)] if args.workers else [])]
    entry = jc.entrypoint_command(args.entrypoint, Path(args.config), working_dir, extra)
    from jobs.upload import listing, summary

    env = jc.runtime_env(args.runtime_env, working_dir, not args.no_install)
    print(summary(*listing(working_dir, env["excludes"])), flush=True)
    c = jc.client(args.address)
    job_id = jc.submit(c, entrypoint=entry, runtime_env=env,
                       submission_id=args.job_id)
    print(f"submitted {job_id}: {entry}", flush=True)
    if not args.wait:
        print(f"follow it with: grist status {job_id} --address {jc.job_address(args.address)}")
        return 0
    jc.stream_logs(c, job_id)
    status = jc.wait(c, job_id)
    print(f"job {job_id}: {status}", flush=True)
    return 0 if status == "SUCCEEDED" else 1
