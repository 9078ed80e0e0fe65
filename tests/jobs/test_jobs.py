"""Ray jobs on a real local cluster (`ray start --head` on 127.0.0.1): submission over the Job API,
stop + resubmit resuming with byte-identical outputs, and a worker killed mid-stage."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import psutil
import pytest
import yaml

from pipelines.cli import main
from tests.conftest import dir_bytes, make_config, run_config

ROOT = Path(__file__).resolve().parents[2]
PARTS = 16
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A real Ray head with its job server on 127.0.0.1; torn down by killing its process group
    (never `ray stop`, which would stop every Ray on the machine)."""
    port, dash = _free_port(), _free_port()
    # Every port explicit: defaults (agent 52365, ...) would clash with the suite's local Ray.
    ports = [f"--dashboard-agent-listen-port={_free_port()}", f"--dashboard-agent-grpc-port={_free_port()}",
             f"--runtime-env-agent-port={_free_port()}", f"--metrics-export-port={_free_port()}"]
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    head = subprocess.Popen(
        [str(VENV_BIN / "ray"), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dash}", "--include-dashboard=true", "--num-cpus=2",
         "--disable-usage-stats", "--object-store-memory=200000000", *ports],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    address = f"http://127.0.0.1:{dash}"
    old_mode = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    from ray.job_submission import JobSubmissionClient

    deadline = time.monotonic() + 90
    client = None
    while time.monotonic() < deadline:
        try:
            client = JobSubmissionClient(address)
            break
        except Exception:  # the job server is not up yet
            time.sleep(0.5)
    assert client is not None, "Ray head did not start"
    yield address, client
    os.killpg(head.pid, signal.SIGTERM)
    try:
        head.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
    if old_mode is None:
        os.environ.pop("RAY_AUTH_MODE", None)
    else:
        os.environ["RAY_AUTH_MODE"] = old_mode


def _corpus(folder: Path, files: int, lines: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        with open(folder / f"f{i:03d}.jsonl", "w") as f:
            for j in range(lines):
                f.write(json.dumps({"text": f"document {i}-{j}: " + "the quick brown fox jumps over the lazy dog. " * 40}) + "\n")
        if i == 0:
            with open(folder / f"f{i:03d}.jsonl", "a") as f:
                f.write("{broken json\n")


def _job_config(workdir: Path, data_glob: str = "data/*.jsonl", **stages) -> Path:
    """A config inside the uploaded working dir, with source paths relative to it (the job's cwd
    is the uploaded copy) and an absolute output, as on a cluster with shared storage."""
    cfg = {"output": str(workdir / "out"), "seed": 0,
           "sources": [{"name": "notes", "kind": "jsonl", "paths": [data_glob]}],
           "runtime": {"part_mb": 0.8},  # one part per file of the 400-line corpus (0.73 MB): a stop falls between parts
           **{s: stages.get(s, {"enabled": False}) for s in ("filters", "dedup", "mixture", "tokenizer", "shards")}}
    path = workdir / "job.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_runtime_env_installs_the_pinned_dependencies():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "jobs" / "runtime_env.yaml").read_text())
    assert sorted(env["pip"]) == sorted(deps)
    assert ".venv/" in env["excludes"]


def test_cluster_jobs_set_the_workers_allocator_as_a_local_run_does():
    from pipelines.runner import WORKER_ALLOCATOR_ENV

    env = yaml.safe_load((ROOT / "jobs" / "runtime_env.yaml").read_text())
    assert WORKER_ALLOCATOR_ENV and WORKER_ALLOCATOR_ENV.items() <= env["env_vars"].items()


def test_submit_waits_and_matches_a_local_run(cluster, ray_local, tmp_path, capsys):
    address, _ = cluster
    work = tmp_path / "wd"
    _corpus(work / "data", files=3, lines=50)
    cfg_path = _job_config(work)
    code = main(["submit", str(cfg_path), "--address", address, "--working-dir", str(work), "--no-install",
                 "--entrypoint", "curate", "--wait"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SUCCEEDED" in out and "accounting" in out
    report = json.loads((work / "out" / "report.json").read_text())
    assert report["accounting"]["balanced"] and report["accounting"]["records_in"] == 151
    # The same config run locally (in this process's Ray) gives byte-identical documents.
    with contextlib.chdir(work):  # relative source paths, as in the job
        local = make_config(work, [{"name": "notes", "kind": "jsonl", "paths": ["data/*.jsonl"]}], output=str(tmp_path / "out"),
                            runtime={"part_mb": 0.8})
        run_config(local, workers=1)
    assert dir_bytes(tmp_path / "out" / "documents") == dir_bytes(work / "out" / "documents")


def test_stopped_job_resumes_to_identical_outputs(cluster, ray_local, tmp_path):
    address, client = cluster
    from jobs.client import entrypoint_command, runtime_env, submit, wait

    # The corpus sits on "shared storage" (an absolute path), not in the uploaded working dir,
    # which Ray caps at 100 MB.
    work = tmp_path / "wd"
    work.mkdir()
    _corpus(tmp_path / "data", files=PARTS, lines=400)
    # Stopped in the filters stage, whose parts take long enough to stop between them.
    filters = {"enabled": True, "quality": {"enabled": False}}
    cfg_path = _job_config(work, str(tmp_path / "data/*.jsonl"), filters=filters)
    entry = entrypoint_command("curate", cfg_path, work, ["--workers", "1"])
    env = runtime_env(None, work, install=False)
    job = submit(client, entrypoint=entry, runtime_env=env)
    stats = work / "out" / "_work" / "01-filters" / "stats"
    deadline = time.monotonic() + 120
    while not (stats.is_dir() and any(stats.glob("*.json"))):
        assert time.monotonic() < deadline, client.get_job_logs(job)
        time.sleep(0.02)
    assert main(["stop", job, "--address", address]) == 0
    assert wait(client, job, poll_s=0.2, timeout_s=60) == "STOPPED"
    committed = len(list(stats.glob("*.json")))
    assert 0 < committed < PARTS, f"stop came too late to test resuming ({committed} parts committed)"
    assert (work / "out" / "_work" / "00-read" / "_SUCCESS.json").exists()
    assert not (work / "out" / "_work" / "01-filters" / "_SUCCESS.json").exists()

    job2 = submit(client, entrypoint=entry, runtime_env=env)
    assert wait(client, job2, poll_s=0.5, timeout_s=300) == "SUCCEEDED", client.get_job_logs(job2)
    logs = client.get_job_logs(job2)
    # Only the unfinished parts ran again: the progress line counts them.
    assert "read: up to date, skipped" in logs
    assert f"[filters] {PARTS - committed}/{PARTS - committed} parts" in logs, logs[-4000:]
    resumed = dir_bytes(work / "out" / "documents")

    fresh = make_config(tmp_path, [{"name": "notes", "kind": "jsonl", "paths": [str(tmp_path / "data/*.jsonl")]}],
                        filters=filters, runtime={"part_mb": 0.8})
    report = run_config(fresh, workers=2)
    assert report["accounting"]["balanced"]
    assert resumed == dir_bytes(tmp_path / "out" / "documents")
    assert dir_bytes(work / "out" / "dropped") == dir_bytes(tmp_path / "out" / "dropped")


def test_worker_killed_mid_stage_is_retried_without_loss_or_duplicates(ray_local, tmp_path):
    _corpus(tmp_path / "data", files=30, lines=1500)
    cfg = make_config(tmp_path, [{"name": "notes", "kind": "jsonl", "paths": [str(tmp_path / "data/*.jsonl")]}],
                      runtime={"part_mb": 3})  # one part per 2.7 MB file: the kill lands between many parts
    stats = tmp_path / "out" / "_work" / "00-read" / "stats"
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 120
        while not (stats.is_dir() and any(stats.glob("*.json"))) and time.monotonic() < deadline:
            time.sleep(0.01)
        # then the first worker seen running a read part (a worker between two parts is titled
        # ray::IDLE for a moment: look again until one is found, or the stage has ended)
        while time.monotonic() < deadline and len(list(stats.glob("*.json"))) < 30:
            for proc in psutil.Process().children(recursive=True):
                try:
                    if "MapWorker(read)" in " ".join(proc.cmdline()):
                        proc.send_signal(signal.SIGKILL)
                        killed.append(proc.pid)
                        return
                except psutil.Error:
                    continue
            time.sleep(0.005)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    report = run_config(cfg, workers=2)
    killer.join()
    assert killed, "no worker process was found to kill"
    assert report["accounting"] == {"records_in": 45001, "documents": 45000, "dropped": 1, "balanced": True}
    import pyarrow.parquet as pq

    ids = pq.read_table(tmp_path / "out" / "documents").column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 45000
    assert not list((tmp_path / "out" / "_work").rglob(".*.tmp-*"))
