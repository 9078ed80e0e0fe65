"""Show a Ray job's status (and with --logs its logs): grist status JOB_ID --address URL."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job_id")
    p.add_argument("--address", help="Ray dashboard / job server (default: $RAY_ADDRESS)")
    p.add_argument("--logs", action="store_true", help="print the job's logs so far")


def main(args: argparse.Namespace) -> int:
    from jobs.client import client

    c = client(args.address)
    info = c.get_job_info(args.job_id)
    print(f"{args.job_id}: {info.status.value}  {info.entrypoint}")
    if info.message:
        print(info.message)
    if args.logs:
        print(c.get_job_logs(args.job_id), end="")
    return 0
