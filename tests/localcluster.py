"""A real two-node Ray cluster on this machine: a head and a worker node started with `ray start`,
each with its own temp dir, bound to 127.0.0.1. Used by the multi-node tests and
`make cluster-demo`. Torn down by killing each node's process group (never `ray stop`, which
would stop every Ray on the machine)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.s3server import free_port

VENV_BIN = Path(sys.executable).parent


def _ports() -> list[str]:
    # Every port explicit: defaults (agent 52365, ...) would clash with another Ray on the machine.
    return [f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}", f"--metrics-export-port={free_port()}",
            f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}"]


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _alive_nodes(address: str, env: dict[str, str]) -> int:
    code = ("import ray, logging; ray.init(address=%r, logging_level=logging.ERROR); "
            "print(sum(1 for n in ray.nodes() if n['Alive']))" % address)
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    try:
        return int(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return 0


@contextmanager
def ray_cluster(env: dict[str, str] | None = None, cpus: tuple[int, int] = (1, 1),
                deadline_s: float = 240.0) -> Iterator[dict]:
    """Start the head and one worker node; yield {"address", "temp_dirs", "env"}: run a driver with
    RAY_ADDRESS=address in env. `env` (e.g. object-store credentials) reaches every Ray worker."""
    env = {**os.environ, **(env or {}), "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    # Short temp dirs: Ray's socket paths must stay under the 107-byte limit of AF_UNIX.
    temp = [Path(tempfile.mkdtemp(prefix="grh", dir="/tmp")), Path(tempfile.mkdtemp(prefix="grw", dir="/tmp"))]
    port = free_port()
    address = f"127.0.0.1:{port}"
    common = ["--block", "--node-ip-address=127.0.0.1", "--disable-usage-stats", "--object-store-memory=150000000"]
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [str(VENV_BIN / "ray"), "start", "--head", f"--port={port}", "--include-dashboard=false",
             f"--num-cpus={cpus[0]}", f"--temp-dir={temp[0]}", *common, *_ports()],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        t_end = time.monotonic() + deadline_s
        while _alive_nodes(address, env) < 1:
            if procs[0].poll() is not None or time.monotonic() > t_end:
                raise RuntimeError("the Ray head did not start")
            time.sleep(1)
        procs.append(subprocess.Popen(
            [str(VENV_BIN / "ray"), "start", f"--address={address}", f"--num-cpus={cpus[1]}",
             f"--temp-dir={temp[1]}", *common, *_ports()],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        while _alive_nodes(address, env) < 2:
            if procs[1].poll() is not None or time.monotonic() > t_end:
                raise RuntimeError("the Ray worker node did not join")
            time.sleep(1)
        yield {"address": address, "temp_dirs": temp, "env": env}
    finally:
        for p in reversed(procs):
            _stop(p)
        for t in temp:
            shutil.rmtree(t, ignore_errors=True)


def worker_logs(temp_dir: Path) -> list[Path]:
    """Log files of Ray worker processes (tasks/actors) that ran on the node with this temp dir."""
    return sorted(temp_dir.glob("session_*/logs/worker-*"))
