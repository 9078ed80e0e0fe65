"""The watchdog that makes sure no Ray process outlives the driver that started it.

Ray ties GCS, raylet, dashboard and log monitor to the driver with PR_SET_PDEATHSIG, and the agents
and workers watch the raylet, but after a `kill -9` of the driver the dashboard and runtime-env
agents stay alive (6 of 6 kills in the issue-14 probe, and on Ray 2.60 here: the runtime-env agent
logs "Raylet is dead! Exiting" and does not exit; ray-project/ray#52385 is the open issue upstream;
measured here, the watchdog leaves none within 2 s of the kill). So the driver starts this watchdog
before Ray: a small process in its own session that remembers the driver's descendants and, when
the driver is gone, SIGKILLs every one of them still alive (same pid and start time) and every
process holding a file open in the Ray session folder. It reads /proc only (Linux) and imports
nothing outside the standard library: it runs as `python -I ray_watchdog.py PID START`.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from typing import Any



def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, start time in clock ticks) of a live process, None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2:].split()  # the name may hold spaces and parentheses
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[1]), int(fields[19])


def _all_processes() -> dict[int, tuple[int, int]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                out[int(entry)] = st
    return out


def descendants(root: int, procs: dict[int, tuple[int, int]] | None = None) -> dict[int, int]:
    """{pid: start time} of every live descendant of `root`."""
    procs = procs if procs is not None else _all_processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[int, int] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in out:
            out[pid] = procs[pid][1]
            todo.extend(children.get(pid, []))
    return out


def holding(folder: str, procs: dict[int, tuple[int, int]] | None = None) -> dict[int, int]:
    """{pid: start time} of live processes with a file (or their cwd) under `folder`: every Ray
    process of a session writes its logs there."""
    procs = procs if procs is not None else _all_processes()
    prefix = folder.rstrip("/") + "/"
    out: dict[int, int] = {}
    me = os.getpid()
    for pid, (_, start) in procs.items():
        if pid == me:
            continue
        try:
            links = [os.readlink(f"/proc/{pid}/cwd")]
            fd_dir = f"/proc/{pid}/fd"
            for fd in os.listdir(fd_dir):
                try:
                    links.append(os.readlink(f"{fd_dir}/{fd}"))
                except OSError:
                    pass
        except OSError:
            continue
        if any(link == folder or link.startswith(prefix) for link in links):
            out[pid] = start
    return out


def _kill(targets: dict[int, int]) -> int:
    """SIGKILL each (pid, start time) still alive as that same process; returns how many."""
    n = 0
    for pid, start in targets.items():
        st = _stat(pid)
        if st is not None and st[1] == start:
            try:
                os.kill(pid, signal.SIGKILL)
                n += 1
            except OSError:
                pass
    return n


def reap(known: dict[int, int], session_dir: str | None, spare: tuple[int, ...] = (), rounds: int = 20) -> None:
    """Kill the remembered processes, their descendants and the session folder's holders (never
    this process nor `spare`), until a scan finds none (a raylet may still be starting workers
    while it dies)."""
    known = dict(known)
    spared = {os.getpid(), *spare}
    for _ in range(rounds):
        procs = _all_processes()
        targets = {p: s for p, s in known.items() if procs.get(p, (0, -1))[1] == s}
        for pid in list(targets):
            targets.update(descendants(pid, procs))
        if session_dir:
            targets.update(holding(session_dir, procs))
        for pid in spared:
            targets.pop(pid, None)
        known.update(targets)
        if not _kill(targets):
            return
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# The watchdog


def watch(driver: int, driver_start: int, control: int = 0, scan_s: float = 1.0) -> None:
    """Run in the watchdog process. `control` is a pipe from the driver: a line `session DIR`
    names the Ray session folder, `done` means Ray was shut down cleanly (reap the session's
    leftovers and stop), end of file means the driver is gone."""
    known: dict[int, int] = {}
    session_dir: str | None = None
    buf = b""
    clean = False
    last_scan = 0.0
    while True:
        st = _stat(driver)
        if st is None or st[1] != driver_start:
            break
        now = time.monotonic()
        if now - last_scan >= scan_s:
            known.update(descendants(driver))
            last_scan = now
        ready, _, _ = select.select([control], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(control, 4096)
        if not chunk:  # the driver closed its end: it exited, or is exiting
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            word, _, arg = line.decode().partition(" ")
            if word == "session":
                session_dir = arg
            elif word == "done":
                clean = True
        if clean:
            break
    if clean:
        # The driver lives on: only the session's own processes (agents Ray left behind) go.
        if session_dir:
            reap({}, session_dir, spare=(driver,))
        return
    # End of file comes as the driver exits: wait until it is gone (it may still be shutting
    # Ray down), remembering what it starts meanwhile.
    while True:
        st = _stat(driver)
        if st is None or st[1] != driver_start:
            break
        known.update(descendants(driver))
        time.sleep(0.2)
    reap(known, session_dir)


class Watchdog:
    """The driver's handle on its watchdog process."""

    def __init__(self) -> None:
        self.proc: Any = None  # subprocess.Popen
        self._w: int | None = None

    def start(self) -> None:
        if not sys.platform.startswith("linux"):
            return
        me = os.getpid()
        st = _stat(me)
        if st is None:
            return
        r, w = os.pipe()  # non-inheritable: Ray's children never hold the write end
        try:
            import subprocess

            # -I -S: the standard library only (no site-packages, no .pth imports): 12 -> 10 MiB RSS
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), str(me), str(st[1])],
                stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,  # outlives the driver, deaf to the terminal's Ctrl-C
                close_fds=True,
            )
        except OSError:
            os.close(w)
            return
        finally:
            os.close(r)
        self._w = w

    def _send(self, line: str) -> None:
        if self._w is not None:
            try:
                os.write(self._w, (line + "\n").encode())
            except OSError:
                pass

    def session(self, session_dir: str) -> None:
        self._send(f"session {session_dir}")

    def stop(self) -> None:
        """After a clean `ray.shutdown()`: the watchdog reaps the session's leftovers and ends."""
        self._send("done")
        if self._w is not None:
            os.close(self._w)
            self._w = None
        if self.proc is not None:
            import subprocess

            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None


if __name__ == "__main__":
    watch(int(sys.argv[1]), int(sys.argv[2]))
