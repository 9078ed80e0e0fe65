"""The mixture through a real run: realized token shares vs targets, the epochs cap."""

from collections import Counter

import pyarrow.parquet as pq
import pytest

from shards.format import Manifest, open_shard
from tests.shards.corpus import TARGET_TOKENS, WEIGHTS, full_run


@pytest.fixture(scope="module")
def run(ray_local, tmp_path_factory):
    return full_run(tmp_path_factory, workers=1)


def test_realized_shares_within_one_percent_of_targets(run):
    _, report, out = run
    rows = {r["source"]: r for r in Manifest.load(out / "shards").extra["mixture"]}
    assert rows["code"]["capped"] and not rows["web"]["capped"] and not rows["zh"]["capped"]
    total = sum(r["realized_tokens"] for r in rows.values())
    assert total == pytest.approx(TARGET_TOKENS, rel=0.01)
    for s in ("web", "zh"):  # uncapped: the renormalised share, and its weight ratio, hold to 1%
        assert rows[s]["realized_share"] == pytest.approx(rows[s]["planned_share"], rel=0.01)
    assert rows["web"]["realized_share"] / rows["zh"]["realized_share"] == pytest.approx(
        WEIGHTS["web"] / WEIGHTS["zh"], rel=0.01)
    assert rows["zh"]["realized_epochs"] > 1  # upsampled
    # realized shares are what the shards hold
    held = Counter()
    for info in Manifest.load(out / "shards").shards:
        held.update(info.tokens_by_source)
    assert {s: r["realized_tokens"] for s, r in rows.items()} == dict(held)


def test_epochs_cap_and_warning(run):
    _, report, out = run
    rows = {r["source"]: r for r in Manifest.load(out / "shards").extra["mixture"]}
    assert rows["code"]["realized_epochs"] == pytest.approx(2.0)
    assert all(r["realized_epochs"] <= r["max_epochs"] + 1e-9 for r in rows.values())
    shards_stage = next(s for s in report["stages"] if s["name"] == "shards")
    assert any("'code'" in w and "max_epochs=2" in w for w in shards_stage["extra"]["warnings"])
    # no document is repeated more often than its source's cap allows
    seen = Counter()
    for f in sorted((out / "shards").glob("*.arrow")):
        t = open_shard(f)
        seen.update(zip(t.column("source").to_pylist(), t.column("id").to_pylist()))
    caps = {"code": 2, "web": 4, "zh": 4}
    assert all(n <= caps[s] for (s, _), n in seen.items())
    assert max(n for (s, _), n in seen.items() if s == "code") == 2


def test_mixture_stage_writes_its_estimated_selection(run):
    _, report, out = run
    sel_dir = next((out / "_work").glob("*-mixture")) / "selection"
    table = pq.read_table(sel_dir)
    assert set(table.column_names) >= {"id", "source", "epoch", "tokens"}
    mix = next(s for s in report["stages"] if s["name"] == "mixture")
    assert mix["extra"]["selected"] == table.num_rows
    assert mix["extra"]["planned_tokens"] == pytest.approx(TARGET_TOKENS, rel=0.01)
