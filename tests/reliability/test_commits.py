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


def test_a_truncated_classifier_is_retrained_not_reused(tmp_path, ray_local):
    """Issue 14's case: after a full disk left quality.bin short, a rerun reused it (AUC 0.50)."""
    from tests.filters.corpus import write_corpus

    src = write_corpus(tmp_path / "data")
    quality = {"positives": ["ref"], "negatives": ["web"], "epoch": 5, "dim": 16, "bucket": 20_000, "on_weak": "warn"}
    cfg = make_config(tmp_path, [src["ref"], src["web"]], filters={"enabled": True, "quality": quality})
    first = run_config(cfg)
    out = tmp_path / "out"
    model = out / "filters" / "quality.bin"
    good = model.read_bytes()
    docs = dir_bytes(out / "documents")
    model.write_bytes(good[: len(good) // 3])
    second = run_config(cfg)
    assert model.read_bytes() == good  # retrained (same seed: the same model), never reused short
    assert dir_bytes(out / "documents") == docs
    q = [next(s for s in r["stages"] if s["name"] == "filters")["extra"]["quality"] for r in (first, second)]
    assert q[1]["metrics"]["held_out"]["roc_auc"] == q[0]["metrics"]["held_out"]["roc_auc"] >= 0.9
