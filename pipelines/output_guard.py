"""Checks on `output` before Ray starts, and one owner per output.

- Path checks: `output` (or a folder above it) is a file, or is not writable; shards with the
  tokenizer stage off and no tokenizer to use. Each is one line (exit 2) before any work.
- Folders grist did not create are never deleted: a run replaces `documents/`, `dropped/`,
  `tokenizer/`, `shards/`, `filters/` and `_work/` under `output`; if any of them is there and the
  folder holds no sign of grist (`_GRIST.json`, or `config.json` of runs from before it), the run
  is refused unless `--overwrite`.
- The lock: `_LOCK.json` names the owner (pid, host, a random token) and a heartbeat renewed every
  `HEARTBEAT_S`. A second run into the same output is refused in one line while the owner lives
  (same host: its pid with the same start; other host: a heartbeat younger than `STALE_S`). It is a
  plain object, so the same protocol works on object stores: write, then read back and check the
  token is ours (a local path also gets an exclusive create).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any

from pipelines import __version__
from pipelines.config import Config
from pipelines.errors import ConfigError, GristError
from pipelines.parts import atomic_write_json

LOCK_FILE = "_LOCK.json"
OWNER_FILE = "_GRIST.json"
REPLACED = ("documents", "dropped", "tokenizer", "shards", "filters", "_work")
HEARTBEAT_S = 20.0
STALE_S = 120.0


class OutputBusy(GristError):
    """Another live run owns this output."""

    exit_code = 2


def check_paths(cfg: Config, overwrite: bool = False) -> None:
    """Everything about `output` and the tokenizer that can be checked before Ray starts."""
    out = Path(cfg.output)
    if "://" not in cfg.output:
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
        elif not (out / "tokenizer" / "tokenizer.json").is_file():
            raise ConfigError("shards: no tokenizer: enable the tokenizer stage or set tokenizer.path")
    if out.is_dir() and not overwrite and not _made_by_grist(out):
        foreign = [name for name in REPLACED if (out / name).exists()]
        if foreign:
            raise ConfigError(f"output: {out} holds {', '.join(foreign)} that grist did not write and a run would "
                              f"replace; choose another output or pass --overwrite")


def _made_by_grist(out: Path) -> bool:
    return (out / OWNER_FILE).is_file() or (out / "config.json").is_file()


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
        self.dir = Path(output)
        self.path = self.dir / LOCK_FILE
        self.token = secrets.token_hex(8)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self) -> dict[str, Any]:
        pid = os.getpid()
        return {"token": self.token, "pid": pid, "pid_start": _proc_start(pid), "host": socket.gethostname(),
                "started": self._started, "heartbeat": time.time(), "version": __version__}

    def _read(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (ValueError, OSError):
            return {}  # half-written or unreadable: treat as a stale lock

    def acquire(self) -> None:
        self._started = time.time()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except PermissionError:
            raise ConfigError(f"output: {self.dir} is not writable") from None
        holder = self._read()
        if holder and _alive(holder):
            raise self._busy(holder)
        try:
            if holder is None:
                try:  # exclusive create where the filesystem has one; a stale lock is overwritten
                    with self.path.open("x") as f:
                        f.write(json.dumps(self._record()))
                except FileExistsError:
                    other = self._read()
                    if other and _alive(other):
                        raise self._busy(other) from None
                except (ValueError, NotImplementedError):  # no exclusive mode (object store)
                    pass
            atomic_write_json(self.path, self._record())
            time.sleep(0.2)  # a racing writer's object lands before the read-back
            mine = self._read()
        except PermissionError:
            raise ConfigError(f"output: {self.dir} is not writable") from None
        if not mine or mine.get("token") != self.token:
            raise self._busy(mine or {})
        if not (self.dir / OWNER_FILE).exists():
            atomic_write_json(self.dir / OWNER_FILE, {"created_by": "grist", "version": __version__})
        self._thread = threading.Thread(target=self._beat, name="grist-lock-heartbeat", daemon=True)
        self._thread.start()

    def _busy(self, holder: dict[str, Any]) -> OutputBusy:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("started", 0) or 0)))
        return OutputBusy(f"output: {self.dir} is in use by another grist run (pid {holder.get('pid', '?')} on "
                          f"{holder.get('host', '?')}, since {since}); wait for it, or delete {self.path} if it "
                          f"is gone")

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                current = self._read()
                if current and current.get("token") == self.token:
                    atomic_write_json(self.path, self._record())
            except OSError:  # a full disk must not end the run from this thread
                pass

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            current = self._read()
            if current is not None and current.get("token") == self.token:
                self.path.unlink(missing_ok=True)
        except OSError:
            pass

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
