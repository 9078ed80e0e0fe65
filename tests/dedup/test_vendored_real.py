"""Dedup on real code: pip 24.0 read with its `_vendor/` kept (`read.code_keep_vendored`), next to
the requests 2.31.0 and tomli 2.0.1 upstreams of two vendored copies. The ids of pip's copies sort
first (`code/pip-24.0/...` < `code/requests-2.31.0/...`), so the old keep rule (quality, priority,
smallest id) kept the vendored copies and dropped the originals; now the originals are kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data.real import realset
from tests.conftest import make_config, read_dir, run_config

PIP_VENDOR = "code/pip-24.0/src/pip/_vendor/"
UPSTREAM = {"requests/": "code/requests-2.31.0/requests/", "tomli/": "code/tomli-2.0.1/src/tomli/"}


@pytest.fixture(scope="module")
def run(ray_local, tmp_path_factory):
    realset.ensure_built()
    trees = {t["repo"]: t["path"] for t in realset.code_trees()}
    tmp = tmp_path_factory.mktemp("vendored")
    sources = [{"name": "code", "kind": "code",
                "paths": [trees["pip-24.0"], trees["requests-2.31.0"], trees["tomli-2.0.1"]]}]
    cfg = make_config(tmp, sources, read={"code_keep_vendored": True}, dedup={"enabled": True})
    run_config(cfg, workers=2)
    out = Path(cfg.output)
    kept = read_dir(out / "documents").to_pylist()
    dropped = {r["id"]: r for r in read_dir(out / "dropped").to_pylist() if r["stage"] == "dedup"}
    return {r["id"]: json.loads(r["meta"]) for r in kept}, dropped


def test_original_kept_over_vendored_copy(run):
    kept, dropped = run
    pairs = {}
    for doc_id, row in dropped.items():
        if doc_id.startswith(PIP_VENDOR) and row["duplicate_of"]:
            pairs[doc_id] = (row["reason"], row["duplicate_of"])
    for_upstream = {d: p for d, p in pairs.items() if any(d.startswith(PIP_VENDOR + v) for v in UPSTREAM)}
    # every vendored requests / tomli module with a duplicate lost to its upstream file of the same name
    assert len(for_upstream) >= 15
    for doc_id, (reason, keeper) in for_upstream.items():
        rel = doc_id.removeprefix(PIP_VENDOR)
        vendor_dir = next(v for v in UPSTREAM if rel.startswith(v))
        assert keeper == UPSTREAM[vendor_dir] + rel.removeprefix(vendor_dir), doc_id
        assert keeper in kept and kept[keeper]["vendored"] is False
    assert {r for r, _ in for_upstream.values()} == {"exact_duplicate", "near_duplicate"}  # verbatim and import-rewritten copies
    # no original upstream file was dropped in favour of a vendored copy
    assert not [d for d, row in dropped.items() if any(d.startswith(u) for u in UPSTREAM.values())
                and (row["duplicate_of"] or "").startswith(PIP_VENDOR)]
    # the vendored copies that survive (no upstream in the run) say so in their meta
    assert any(m["vendored"] for m in kept.values())
