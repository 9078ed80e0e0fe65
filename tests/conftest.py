"""Shared fixtures. One local Ray for the whole suite (starting one costs seconds and ~0.5 GB)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray shared by every test that runs a pipeline."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=256 * 1024 * 1024,
                 logging_level=logging.WARNING, configure_logging=True)
    yield ray


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def make_config(tmp_path: Path, sources: list[dict[str, Any]], **sections: Any):
    """A validated Config writing under tmp_path/out. Stages not named are switched off, so a
    test runs only what it is about: pass e.g. filters={"enabled": True, ...}."""
    from pipelines.config import parse_config

    data: dict[str, Any] = {"output": str(tmp_path / "out"), "seed": 0, "sources": sources}
    for stage in ("filters", "dedup", "mixture", "tokenizer", "shards"):
        data[stage] = sections.pop(stage, {"enabled": False})
    data.update(sections)
    return parse_config(data, tmp_path)


def run_config(cfg, workers: int | None = None) -> dict[str, Any]:
    from pipelines.run import run_pipeline

    return run_pipeline(cfg, workers=workers)


def read_dir(folder: Path):
    """All parquet files of a folder (recursively) as one table, or None if there are none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(folder.rglob("*.parquet"))
    if not files:
        return None
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def dir_bytes(folder: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every file under a folder, for byte-identity checks."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
