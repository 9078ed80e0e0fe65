"""One owner per output, on local disk and on an S3 server (moto over HTTP, the s3fs client a run
uses): the lock is taken by a conditional write (an exclusive hard link; a PUT with If-None-Match:
"*"), taken over from a dead owner and renewed by a write conditional on the version read (If-Match:
its ETag), so two takers that both saw the output free, or both saw the same stale lock, never both
own it. The worst interleaving is forced: each taker waits at a barrier right after its first read
of the lock, so both decide on the same state before either writes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipelines import storage
from pipelines.output_guard import LOCK_FILE, STALE_S, OutputBusy, OutputLock
from tests.s3server import s3_server

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "grist-lock"


@pytest.fixture(scope="module")
def s3():
    with s3_server(BUCKET) as env:
        yield env


@pytest.fixture(params=["local", "s3"])
def output(request, tmp_path):
    if request.param == "local":
        return str(tmp_path / "out")
    request.getfixturevalue("s3")
    return f"s3://{BUCKET}/{request.node.name.replace('[', '-').rstrip(']')}/out"


class _Racing(OutputLock):
    """A taker that stops after its first look at the lock until the other taker has looked too."""

    def __init__(self, output: str, barrier: threading.Barrier):
        super().__init__(output)
        self.barrier = barrier
        self.waited = False

    def _read(self):
        got = super()._read()
        if not self.waited:
            self.waited = True
            self.barrier.wait(timeout=60)
        return got


def _race(output: str) -> tuple[list[OutputLock], list[BaseException]]:
    barrier = threading.Barrier(2)
    takers = [_Racing(output, barrier) for _ in range(2)]
    won: list[OutputLock] = []
    lost: list[BaseException] = []

    def take(lock: OutputLock) -> None:
        try:
            lock.acquire()
            won.append(lock)
        except BaseException as e:  # noqa: BLE001 - reported by the asserts
            lost.append(e)

    threads = [threading.Thread(target=take, args=(t,)) for t in takers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return won, lost


def _holder(lock_path, *, heartbeat: float, host: str = "another-host") -> None:
    storage.commit_bytes(lock_path, json.dumps({"token": "theirs", "pid": 1, "host": host, "started": heartbeat,
                                                "heartbeat": heartbeat}).encode())


def _token(output: str) -> str:
    return json.loads(storage.read_tagged(storage.location(output) / LOCK_FILE)[0])["token"]


def test_two_takers_of_a_free_output_one_owns_it(output):
    won, lost = _race(output)
    try:
        assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], OutputBusy), (won, lost)
        assert "in use by another grist run" in str(lost[0])
        assert _token(output) == won[0].token
    finally:
        for lock in won:
            lock.release()
    assert storage.read_tagged(storage.location(output) / LOCK_FILE) is None  # released: the output is free


def test_two_takers_of_a_stale_lock_one_takes_it_over(output):
    lock_path = storage.location(output) / LOCK_FILE
    _holder(lock_path, heartbeat=time.time() - STALE_S - 60)  # another host, silent for too long
    won, lost = _race(output)
    try:
        assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], OutputBusy), (won, lost)
        assert _token(output) == won[0].token
    finally:
        for lock in won:
            lock.release()


def test_a_live_owner_elsewhere_keeps_the_output_and_a_taken_over_owner_never_writes_again(output):
    lock_path = storage.location(output) / LOCK_FILE
    _holder(lock_path, heartbeat=time.time())
    with pytest.raises(OutputBusy, match="pid 1 on another-host"):
        OutputLock(output).acquire()
    assert _token(output) == "theirs"

    first = OutputLock(output)
    _holder(lock_path, heartbeat=0)  # the owner died long ago: taken over
    first.acquire()
    try:
        assert first.renew() and _token(output) == first.token  # its heartbeat rewrites its own lock
        # `first` was judged dead (say its node hung) and another run took the output over
        _holder(lock_path, heartbeat=time.time(), host="new-owner")
        assert not first.renew() and not first.renew()  # lost: it never overwrites the new owner
        assert _token(output) == "theirs"
    finally:
        first.release()
    assert _token(output) == "theirs"  # releasing a lost lock leaves the new owner's alone


def test_grist_run_into_a_busy_s3_output_is_refused_in_one_line(s3, tmp_path):
    """A real second `grist run` against a lock held by another live process (the first run)."""
    output = f"s3://{BUCKET}/busy/out"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from pipelines.output_guard import OutputLock\n"
        "lock = OutputLock(sys.argv[2]); lock.acquire(); print('held', flush=True); time.sleep(600)"),
        str(ROOT), output], stdout=subprocess.PIPE, text=True, env={**os.environ, **s3})
    try:
        assert holder.stdout.readline().strip() == "held"
        (tmp_path / "a.jsonl").write_text('{"text": "hello"}\n')
        (tmp_path / "c.yaml").write_text(f"output: {output}\nsources: [{{name: a, kind: jsonl, paths: [a.jsonl]}}]\n")
        res = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", str(tmp_path / "c.yaml")], cwd=tmp_path,
                             env={**os.environ, **s3}, capture_output=True, text=True, timeout=300)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert f"in use by another grist run (pid {holder.pid} on {socket.gethostname()}" in res.stderr
        assert not (tmp_path / "s3:").exists()  # the lock is on the store, not in a local folder named "s3:"
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: the next run on this host sees its pid gone and takes over
    lock = OutputLock(output)
    lock.acquire()
    lock.release()
