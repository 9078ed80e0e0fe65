"""Checks on `output` before Ray starts, and one owner per output.

- Path checks: `output` (or a folder above it) is a file, or is not writable; shards with the
  tokenizer stage off and no tokenizer to use. Each is one line (exit 2) before any work.
- Folders grist did not create are never deleted: a run replaces `documents/`, `dropped/`,
  `tokenizer/`, `shards/`, `filters/` and `_work/` under `output`; if any of them is there and the
  folder holds no sign of grist (`_GRIST.json`, or `config.json` of runs from before it), the run
  is refused unless `--overwrite`.
- The lock: `_LOCK.json` names the owner (pid, host, a random token) and a heartbeat renewed every
  `HEARTBEAT_S`. A second run into the same output is refused in one line while the owner lives
  (same host: its pid with the same start; other host: a heartbeat younger than `STALE_S`). Every
  write of it is conditional (`storage.put_if`): taking a free output is an exclusive create (a hard
  link on POSIX, a PUT with If-None-Match: "*" on S3), taking over a dead owner's lock and each
  heartbeat replace only the version that was read (If-Match: its ETag on S3), so two runs racing
  for one output, on one host or on two, never both own it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any

from pipelines import __version__, storage
from pipelines.config import Config
from pipelines.errors import ConfigError, GristError
from pipelines.parts import atomic_write_json

LOCK_FILE = "_LOCK.json"
OWNER_FILE = "_GRIST.json"
REPLACED = ("documents", "dropped", "tokenizer", "shards", "filters", "_work")
HEARTBEAT_S = 20.0
STALE_S = 120.0
log = logging.getLogger(__name__)


class OutputBusy(GristError):
    """Another live run owns this output."""

    exit_code = 2


def check_paths(cfg: Config, overwrite: bool = False) -> None:
    """Everything about `output` and the tokenizer that can be checked before Ray starts."""
    out = storage.location(cfg.output)  # a Path, or a UPath for s3:// gs:// (the same checks through fsspec)
    if not storage.is_remote(out):
        for p in (out, *out.parents):
            if p.exists() and not p.is_dir():
                where = "is a file" if p == out else f"is under a file ({p})"
                raise ConfigError(f"output: {out} {where}; choose a folder")
        top = next(p for p in (out, *out.parents) if p.exists())
        if not os.access(top, os.W_OK | os.X_OK):
            raise ConfigError(f"output: {top} is not writable")
    if cfg.shards.enabled and not cfg.tokenizer.enabled:
        if cfg.tokenizer.path:
            tok = Path(cfg.tokenizer.path)
            tok = tok if tok.is_absolute() or "://" in cfg.tokenizer.path else (cfg.base_dir or Path.cwd()) / tok
            if "://" not in cfg.tokenizer.path and not tok.is_file():
                raise ConfigError(f"tokenizer.path: {tok} is not a file")
        elif not storage.exists(out / "tokenizer" / "tokenizer.json"):
            raise ConfigError("shards: no tokenizer: enable the tokenizer stage or set tokenizer.path")
    if out.is_dir() and not overwrite and not _made_by_grist(out):
        foreign = [name for name in REPLACED if storage.exists(out / name)]
        if foreign:
            raise ConfigError(f"output: {out} holds {', '.join(foreign)} that grist did not write and a run would "
                              f"replace; choose another output or pass --overwrite")


def _made_by_grist(out: Path) -> bool:
    return storage.exists(out / OWNER_FILE) or storage.exists(out / "config.json")


def _proc_start(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
        return int(raw[raw.rfind(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(holder: dict[str, Any]) -> bool:
    """Is the run that wrote this lock still running?"""
    if holder.get("host") == socket.gethostname():
        pid = int(holder.get("pid", 0))
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        start = _proc_start(pid)
        return start is None or holder.get("pid_start") in (None, start)
    return time.time() - float(holder.get("heartbeat", 0)) < STALE_S


class OutputLock:
    """`with OutputLock(output):` owns `output` for the run, or raises OutputBusy."""

    def __init__(self, output: str | Path):
        self.dir = storage.location(output)
        self.path = self.dir / LOCK_FILE
        self.token = secrets.token_hex(8)
        self._tag: str | None = None  # the version of the lock file we wrote last
        self._started = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self) -> bytes:
        pid = os.getpid()
        return json.dumps({"token": self.token, "pid": pid, "pid_start": _proc_start(pid),
                           "host": socket.gethostname(), "started": self._started, "heartbeat": time.time(),
                           "version": __version__}).encode()

    def _read(self) -> tuple[dict[str, Any] | None, str | None]:
        """(holder, version tag) of the lock file; (None, None) when there is none."""
        got = storage.read_tagged(self.path)
        if got is None:
            return None, None
        try:
            holder = json.loads(got[0])
        except ValueError:
            holder = {}  # half-written or unreadable: treat as a stale lock
        return (holder if isinstance(holder, dict) else {}), got[1]

    def acquire(self) -> None:
        self._started = time.time()
        try:
            storage.ensure_dir(self.dir)
            holder: dict[str, Any] | None = None
            for _ in range(8):  # each failed write means another taker changed the lock: look again
                holder, tag = self._read()
                if holder and _alive(holder):
                    raise self._busy(holder)
                # free (tag None: create only if still absent) or stale (replace only the version judged stale)
                self._tag = storage.put_if(self.path, self._record(), tag)
                if self._tag is not None:
                    break
            else:
                raise self._busy(holder or {})
        except PermissionError:
            raise ConfigError(f"output: {self.dir} is not writable") from None
        if not storage.exists(self.dir / OWNER_FILE):
            atomic_write_json(self.dir / OWNER_FILE, {"created_by": "grist", "version": __version__})
        self._thread = threading.Thread(target=self._beat, name="grist-lock-heartbeat", daemon=True)
        self._thread.start()

    def renew(self) -> bool:
        """Rewrite the heartbeat if the lock is still the version we wrote; False once another run
        has taken it over (we were judged dead): then it is never overwritten."""
        if self._tag is None:
            return False
        self._tag = storage.put_if(self.path, self._record(), self._tag)
        return self._tag is not None

    def _busy(self, holder: dict[str, Any]) -> OutputBusy:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("started", 0) or 0)))
        return OutputBusy(f"output: {self.dir} is in use by another grist run (pid {holder.get('pid', '?')} on "
                          f"{holder.get('host', '?')}, since {since}); wait for it, or delete {self.path} if it "
                          f"is gone")

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                if not self.renew():
                    log.warning("output lock %s was taken over by another run (this one looked dead to it); "
                                "its outputs and this run's may mix", self.path)
                    return
            except OSError:  # a full disk or a network blip must not end the run from this thread
                pass

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            holder, _ = self._read()
            if holder is not None and holder.get("token") == self.token:
                storage.remove_tree(self.path)
        except OSError:
            pass

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
