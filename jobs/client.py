"""Ray Job Submission API: submit a grist entrypoint, stream its logs, report its exit status."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import ConfigError

RUNTIME_ENV = Path(__file__).with_name("runtime_env.yaml")
ENTRYPOINTS = ("curate", "tokenizer", "shards")


def job_address(address: str | None) -> str:
    addr = address or os.environ.get("RAY_ADDRESS")
    if not addr:
        raise ConfigError("--address: no Ray dashboard address (give --address http://HEAD:8265 or set RAY_ADDRESS)")
    if "://" not in addr:
        addr = f"http://{addr}"
    return addr


def client(address: str | None):
    from ray.job_submission import JobSubmissionClient

    addr = job_address(address)
    try:
        return JobSubmissionClient(addr)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ConfigError(f"--address: cannot reach the Ray job server at {addr}: {str(err).splitlines()[0]}") from None


def runtime_env(path: Path | None, working_dir: Path, install: bool) -> dict[str, Any]:
    env = yaml.safe_load((path or RUNTIME_ENV).read_text()) or {}
    env["working_dir"] = str(working_dir)
    from jobs.upload import excludes

    env["excludes"] = [*env.get("excludes", []), *excludes(working_dir)]  # secrets never leave the machine
    if not install:
        env.pop("pip", None)
    return env


def entrypoint_command(entry: str, config: Path, working_dir: Path, extra: list[str]) -> str:
    try:
        rel = config.resolve().relative_to(working_dir.resolve())
    except ValueError:
        raise ConfigError(f"{config}: the config must be inside the working dir {working_dir} (it is uploaded with it)") from None
    return shlex.join(["python", "-m", f"jobs.{entry}", str(rel), *extra])


def submit(c, *, entrypoint: str, runtime_env: dict[str, Any], submission_id: str | None = None,
           agent_wait_s: float = 90.0) -> str:
    """Submit a job; while a freshly started head has no job agent yet, retry (Ray answers 500
    "No available agent to submit job" for the first seconds after `ray start`)."""
    deadline = time.monotonic() + agent_wait_s
    while True:
        try:
            return c.submit_job(entrypoint=entrypoint, runtime_env=runtime_env, submission_id=submission_id)
        except RuntimeError as err:
            if "No available agent" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def stream_logs(c, job_id: str) -> None:
    async def _tail() -> None:
        async for chunk in c.tail_job_logs(job_id):
            sys.stdout.write(chunk)
            sys.stdout.flush()

    asyncio.run(_tail())


def wait(c, job_id: str, poll_s: float = 1.0, timeout_s: float | None = None) -> str:
    """Block until the job ends; returns its final status name."""
    from ray.job_submission import JobStatus

    t0 = time.monotonic()
    while True:
        status = c.get_job_status(job_id)
        if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED):
            return status.value
        if timeout_s is not None and time.monotonic() - t0 > timeout_s:
            return status.value
        time.sleep(poll_s)
