"""Shared body of the `ray job submit -- python -m jobs.<name> CONFIG` entrypoints.

Inside a Ray job, RAY_ADDRESS is set by the job supervisor, so the pipeline joins the cluster
instead of starting a local Ray. Each entrypoint runs the stage graph up to its stage; stages that
are already complete (same config hash) are skipped, so `jobs.shards` after `jobs.curate` only
does the remaining work, and resubmitting a stopped job resumes it.
"""

from __future__ import annotations

import sys

from pipelines.cli import main


def run_until(stage: str | None, argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        print(f"usage: python -m jobs.<entrypoint> CONFIG.yaml [--output DIR] [--workers N]", file=sys.stderr)
        return 2
    extra = ["--until", stage] if stage else []
    return main(["run", *args, *extra])


def passthrough(command: str, argv: list[str] | None = None) -> int:
    return main([command, *(sys.argv[1:] if argv is None else argv)])
