"""Stop a running Ray job: grist stop JOB_ID --address URL (resubmit the same config to resume)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job_id")
    p.add_argument("--address", help="Ray dashboard / job server (default: $RAY_ADDRESS)")


def main(args: argparse.Namespace) -> int:
    from jobs.client import client

    stopped = client(args.address).stop_job(args.job_id)
    print(f"{args.job_id}: {'stop requested' if stopped else 'not running'}")
    return 0
