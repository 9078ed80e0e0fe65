"""The peers grist is measured against, in their own virtual environment (never grist's).

    .venv/bin/python benchmarks/peers.py          # builds the venv once, prints its python

The venv lives in `~/.cache/grist/peers-venv-<hash>` (outside the repo, reused across runs) and
holds datatrove 0.10.1 with what its minhash, tokenizer and filter blocks import, and rensa. A
benchmark runs peer code with `run_peer(script, *args)`: a separate process, so peer and grist
never share an interpreter, and its CPU time is measured by the OS (`resource.getrusage`).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

# Pinned: the figures in the closing notes are against exactly these.
PEER_PACKAGES = [
    "datatrove[processing]==0.10.1",
    "rensa==0.5.0",
    "spacy==3.8.7",  # datatrove's default word tokenizer in its Gopher/C4 filters
    "orjson==3.11.5",
]
CACHE = Path(os.environ.get("GRIST_CACHE", Path.home() / ".cache" / "grist"))


def peer_venv() -> Path:
    """Create (once) and return the peers' venv folder."""
    key = hashlib.sha256(json.dumps([sys.version_info[:2], PEER_PACKAGES]).encode()).hexdigest()[:12]
    venv = CACHE / f"peers-venv-{key}"
    ok = venv / ".installed"
    if ok.exists():
        return venv
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"peers: creating {venv} ({', '.join(PEER_PACKAGES)}) ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + PEER_PACKAGES, check=True)
    ok.write_text(json.dumps(PEER_PACKAGES) + "\n")
    return venv


def peer_python() -> str:
    return str(peer_venv() / "bin" / "python")


def run_peer(args: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None) -> dict:
    """Run `peer_python args...`; return wall seconds, CPU seconds of it and its children, peak RSS
    (MiB, largest single process) and stdout. Raises with the peer's stderr if it fails."""
    return run_measured([peer_python(), *args], env=env, cwd=cwd)


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None) -> dict:
    """Run a command as a child and measure it the same way for grist and peers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({p.returncode}):\n{p.stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far (KiB on Linux), not this child alone:
    # call run_measured for the biggest run last, or read peak RSS from the child's own report.
    return {"wall_s": wall, "cpu_s": cpu, "maxrss_mib": after.ru_maxrss / 1024, "stdout": p.stdout, "stderr": p.stderr}


if __name__ == "__main__":
    print(peer_python())
