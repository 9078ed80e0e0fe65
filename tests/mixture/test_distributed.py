"""The mixture stage's map -> aggregate -> decide -> map selection equals the in-memory reference
(`plan_and_select` over the whole catalog), row for row, with coarse histograms that force
several refinement rounds, and its files are the same for 1 and 2 workers."""

import random
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.mixture import MixtureStage, estimate_catalog, plan_and_select
from pipelines.stage import StageContext
from tests.conftest import dir_bytes, make_config

SOURCES = {"a": 3000, "b": 800, "c": 150}  # documents


def _parts(root):
    rng = random.Random(5)
    paths = []
    for s, n in SOURCES.items():
        ids = [f"{s}-{rng.getrandbits(40):x}" for _ in range(n)]
        cuts = [0, n // 2, 3 * n // 4, n]
        for k in range(3):  # ids unsorted within a part, parts of unequal size
            chunk = ids[cuts[k]:cuts[k + 1]]
            texts = ["é" * rng.randint(0, 5) + "x" * rng.randint(1, 900) for _ in chunk]
            path = root / f"{s}-{k:05d}.parquet"
            pq.write_table(pa.table({"id": chunk, "source": [s] * len(chunk), "text": texts}), path)
            paths.append(path)
    return sorted(paths)


def _cfg(tmp_path, target):
    sources = [{"name": "a", "kind": "jsonl", "paths": [str(tmp_path / "*.parquet")], "weight": 0.6},
               {"name": "b", "kind": "jsonl", "paths": [str(tmp_path / "*.parquet")], "weight": 0.3},
               {"name": "c", "kind": "jsonl", "paths": [str(tmp_path / "*.parquet")], "weight": 0.1, "max_epochs": 2}]
    return make_config(tmp_path, sources, mixture={"target_tokens": target})


def _run(cfg, inputs, work, workers, bits, limit):
    stage = MixtureStage()
    stage.bits, stage.gather_limit = bits, limit
    ctx = StageContext(cfg=cfg, output=work.parent, work=work, inputs=inputs, stage_hash="h", workers=workers)
    return stage.run(ctx)


def _rows(table):
    return sorted(zip(*(table.column(c).to_pylist() for c in ("source", "id", "epoch", "tokens", "chars"))))


def test_selection_equals_the_in_memory_reference(ray_local, tmp_path):
    inputs = _parts(tmp_path)
    first = None
    # a: 2.4 epochs... c capped at 2; then a partial first epoch everywhere; then c and b partial.
    for n, target in enumerate([700_000, 150_000, 260_000]):
        cfg = _cfg(tmp_path, target)
        _, _, ref = plan_and_select(cfg, estimate_catalog(inputs, cfg.mixture.bytes_per_token)[0])
        work = tmp_path / f"w{n}"
        if first is not None:  # the catalog does not depend on the target: skip its round
            shutil.copytree(first / "catalog", work / "catalog")
        first = first or work
        res = _run(cfg, inputs, work, 2, bits=4, limit=20)  # 16 buckets, 20 rows: histogram rounds
        got = pq.read_table(work / "selection")
        assert _rows(got) == _rows(ref), target
        assert res.extra["selected"] == ref.num_rows
        assert res.extra["map_rounds"] >= 3
    # the defaults (no histogram round, one bucket gathered), 1 worker, then 2: the same rows, same files
    res1 = _run(cfg, inputs, tmp_path / "d1", 1, bits=10, limit=100_000)
    assert res1.extra["map_rounds"] == 2 and res1.extra["selected"] == res.extra["selected"]
    assert _rows(pq.read_table(tmp_path / "d1" / "selection")) == _rows(ref)
    shutil.copytree(tmp_path / "d1" / "catalog", tmp_path / "d2" / "catalog")
    _run(cfg, inputs, tmp_path / "d2", 2, bits=10, limit=100_000)
    assert dir_bytes(tmp_path / "d1" / "selection") == dir_bytes(tmp_path / "d2" / "selection")
