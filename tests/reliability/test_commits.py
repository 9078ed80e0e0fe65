"""Commits that cannot lie: a marker records the size (and sha256) of what it vouches for; an output
truncated or removed after its stage finished is redone on the next run, never reused, and the
result is byte-identical to the first run."""

from __future__ import annotations

import json

from tests.conftest import dir_bytes, make_config, run_config, write_jsonl


def test_a_truncated_part_is_redone_not_reused(tmp_path, ray_local):
    for k in range(3):
        write_jsonl(tmp_path / "in" / f"f{k}.jsonl",
                    [{"text": f"file {k} line {i}: " + "some words of text " * 20} for i in range(40)])
    cfg = make_config(tmp_path, [{"name": "t", "kind": "jsonl", "paths": [str(tmp_path / "in" / "*.jsonl")]}],
                      runtime={"part_mb": 20_000 / 1024 / 1024}, filters={"enabled": True, "quality": {"enabled": False}})
    run_config(cfg)
    out = tmp_path / "out"
    first = dir_bytes(out / "documents")
    read = out / "_work" / "00-read"
    stats = sorted((read / "stats").glob("*.json"))
    assert len(stats) >= 2
    rec = json.loads(stats[0].read_text())["files"]["kept"]
    assert rec["bytes"] > 0 and len(rec["sha256"]) == 64
    victim = read / "kept" / f"{stats[0].stem}.parquet"
    victim.write_bytes(victim.read_bytes()[: rec["bytes"] // 2])  # as a full disk would leave it
    untouched = read / "stats" / f"{stats[1].stem}.json"
    before = untouched.stat().st_mtime_ns
    run_config(cfg)
    assert dir_bytes(out / "documents") == first
    assert victim.stat().st_size == rec["bytes"]
    assert untouched.stat().st_mtime_ns == before  # only the broken part was read again
