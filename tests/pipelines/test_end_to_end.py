"""The whole pipeline on the bundled sample corpus (configs/demo.yaml): byte-identical outputs for
1 and 2 workers, balanced accounting, and a config change that redoes only the stages it affects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.config import load_config
from shards.format import Manifest, verify_shards
from tests.conftest import dir_bytes, run_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_runs(ray_local, tmp_path_factory):
    """The demo config run with 1 and with 2 workers into two output folders."""
    out = tmp_path_factory.mktemp("demo")
    reports = {}
    for workers in (1, 2):
        cfg = load_config(ROOT / "configs" / "demo.yaml", {"output": str(out / f"w{workers}")})
        reports[workers] = run_config(cfg, workers=workers)
    return out, reports


def test_every_record_is_kept_or_dropped_with_a_reason(demo_runs):
    out, reports = demo_runs
    report = reports[1]
    acc = report["accounting"]
    assert acc["balanced"] and acc["records_in"] == acc["documents"] + acc["dropped"]
    for stage in report["stages"]:
        assert stage["docs_in"] == stage["docs_out"] + sum(stage["dropped"].values()), stage["name"]
    assert [s["name"] for s in report["stages"]] == ["read", "filters", "dedup", "mixture", "tokenizer", "shards"]
    import pyarrow.dataset as ds

    dropped = ds.dataset(out / "w1" / "dropped", format="parquet").to_table()
    kept = ds.dataset(out / "w1" / "documents", format="parquet").to_table()
    assert dropped.num_rows == acc["dropped"] and kept.num_rows == acc["documents"]
    assert all(dropped.column("reason").to_pylist())
    # Every stage had something to do on the sample corpus.
    by_stage = {s["name"]: s for s in report["stages"]}
    for name in ("read", "filters", "dedup"):
        assert sum(by_stage[name]["dropped"].values()) > 0, name
    assert set(report["sources"]) == {"web", "books", "wiki", "code"}


def test_one_and_two_workers_give_byte_identical_outputs(demo_runs):
    out, _ = demo_runs
    for folder in ("documents", "dropped", "tokenizer", "shards"):
        a, b = dir_bytes(out / "w1" / folder), dir_bytes(out / "w2" / folder)
        assert a and a == b, folder
    assert verify_shards(out / "w1" / "shards") == []
    manifest = Manifest.load(out / "w1" / "shards")
    assert manifest.totals()["train"]["tokens"] > 0 and set(manifest.totals()["train"]["tokens_by_source"]) == {"web", "books", "wiki", "code"}


def test_config_change_redoes_that_stage_and_later_ones_only(demo_runs, ray_local):
    out, _ = demo_runs
    work = out / "w1" / "_work"
    markers = {p.parent.name: p.stat().st_mtime_ns for p in work.glob("*/_SUCCESS.json")}
    cfg = load_config(ROOT / "configs" / "demo.yaml", {"output": str(out / "w1")})
    cfg.dedup.threshold = 0.7
    report = run_config(cfg, workers=2)
    after = {p.parent.name: p.stat().st_mtime_ns for p in work.glob("*/_SUCCESS.json")}
    unchanged = {name for name in markers if markers[name] == after[name]}
    assert unchanged == {"00-read", "01-filters"}
    assert report["accounting"]["balanced"]
    dedup = json.loads((work / "02-dedup" / "_SUCCESS.json").read_text())
    assert dedup["result"]["stats"]["docs_in"] == report["stages"][1]["docs_out"]


def test_the_trainer_learns_from_the_demo_shards(demo_runs, tmp_path):
    """The bundled trainer on what `grist run` wrote: loss falls within a few hundred steps."""
    from tests.trainer.conftest import tiny
    from trainer.train import train

    out, _ = demo_runs
    res = train(tiny(out / "w1" / "shards", tmp_path, max_steps=200, warmup=20, eval_interval=200,
                     batch_size=8, block_size=64, sample_tokens=8, log_interval=10))
    steps = sorted(res["losses"])
    first, last = res["losses"][steps[0]], res["losses"][200]
    assert first > 8.0  # ln(8192) = 9.01 for an untrained model
    assert last < first - 2.5
    assert {"web", "books", "wiki", "code"} <= set(res["val"]) or "all" in res["val"]
    assert isinstance(res["sample"], str)
