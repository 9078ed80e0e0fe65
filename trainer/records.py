"""Run records: the source-weight schedule, the run shape a checkpoint holds, config history, metrics."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pipelines.errors import ConfigError
from trainer.data import parse_weights


def parse_mix_schedule(spec: str | None, sources: list[str]) -> list[tuple[int, dict[str, float] | None]]:
    """'0:web=0.7,books=0.3;1000:web=0.5,books=0.5' or a JSON file ({"0": {"web": 0.7, ...}, ...} or
    [[0, {...}], ...]) -> [(first step, normalized weights)] sorted by step, starting at step 0."""
    if not spec:
        return [(0, None)]
    try:
        as_file = Path(spec).is_file()
    except OSError:  # a long inline schedule is no file name
        as_file = False
    try:
        if as_file or spec.strip().endswith(".json"):
            raw = json.loads(Path(spec).read_text())
            items = list(raw.items()) if isinstance(raw, dict) else [tuple(item) for item in raw]
        else:
            items = [tuple(part.split(":", 1)) for part in spec.split(";") if part.strip()]
        segments = sorted((int(step), weights) for step, weights in items)
    except (OSError, ValueError, TypeError) as err:
        raise ConfigError(f"--mix-schedule: expected STEP:NAME=W,...;STEP:... or a JSON file, got {spec!r} ({err})") from None
    steps = [s for s, _ in segments]
    if not steps or steps[0] != 0 or len(set(steps)) != len(steps):
        raise ConfigError(f"--mix-schedule: steps must be distinct and start at 0, got {steps}")
    out = []
    for step, weights in segments:
        if not isinstance(weights, (str, dict)) or not weights:
            raise ConfigError(f"--mix-schedule: step {step}: weights must be NAME=W,... or an object")
        try:
            out.append((step, parse_weights(weights, sources).copy()))
        except ConfigError as err:
            raise ConfigError(f"--mix-schedule: step {step}: {str(err).removeprefix('--source-weights: ')}") from None
    return out


def segment_at(schedule: list[tuple[int, object]], step: int) -> int:
    """Index of the schedule segment that holds `step`."""
    return max(i for i, (start, _) in enumerate(schedule) if start <= step)


def shape_changes(saved: dict, now: dict) -> list[str]:
    """'key: saved -> now' for each run-shape field that differs (weights compared to 1e-9)."""
    def same(a, b) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= 1e-9
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return a == b

    return [f"{k} {saved.get(k)} -> {now[k]}" for k in now if not same(saved.get(k), now[k])]


def record_config(out: Path, config: dict, step: int, note: str | None) -> None:
    """config.json is the config of the latest launch; config-history.jsonl keeps one row per launch
    (the step it started at, the time, the config, and what changed), so no launch's settings are lost."""
    history = out / "config-history.jsonl"
    row = {"start_step": step, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "config": config}
    if note:
        row["changed"] = note
    with open(history, "a") as f:
        f.write(json.dumps(row) + "\n")
    _write_atomic(out / "config.json", json.dumps(config, indent=2) + "\n")


def truncate_metrics(path: Path, step: int) -> int:
    """Drop the rows a resumed run will write again: losses after `step`, evaluations at or after it
    (the resumed run evaluates at its first step). Returns the number of rows dropped."""
    if not path.exists():
        return 0
    kept, dropped = [], 0
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
            keep = row["step"] < step or (row["step"] == step and "val" not in row)
        except (ValueError, KeyError, TypeError):
            keep = False  # a torn last line from a killed run
        if keep:
            kept.append(line)
        else:
            dropped += 1
    if dropped:
        _write_atomic(path, "".join(line + "\n" for line in kept))
    return dropped


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
