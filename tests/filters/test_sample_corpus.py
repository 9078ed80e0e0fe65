"""The filter stage with its defaults on the bundled sample corpus (configs/demo.yaml's sources):
the classifier of reference (books, wiki) vs web text reaches held-out ROC AUC >= 0.9, and the
rules do what they are for on the planted pages (Chinese articles vs Chinese spam, code untouched)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow.compute as pc
import pytest
import yaml

from tests.conftest import make_config, read_dir, run_config

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile("[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, ray_local):
    sources = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())["sources"]
    for s in sources:
        s["paths"] = [os.path.normpath(ROOT / "configs" / p) for p in s["paths"]]
    # on_weak: warn: the sample has fewer reference documents than filters.quality.min_docs_per_class.
    cfg = make_config(tmp_path_factory.mktemp("sample"), sources, filters={"enabled": True, "quality": {"on_weak": "warn"}})
    report = run_config(cfg, workers=2)
    return Path(cfg.output), report


def test_classifier_separates_reference_from_web(sample_run):
    _, report = sample_run
    q = next(s for s in report["stages"] if s["name"] == "filters")["extra"]["quality"]
    assert q["metrics"]["positives"] == ["books", "wiki"] and q["metrics"]["negatives"] == ["web"]
    assert q["metrics"]["held_out"]["roc_auc"] >= 0.9
    assert q["metrics"]["held_out"]["n"] >= 40


def test_rules_on_planted_pages(sample_run):
    out, report = sample_run
    read = read_dir(out / "_work" / "00-read" / "kept")
    dropped = read_dir(out / "dropped" / "filters")
    reasons = dict(zip(dropped["id"].to_pylist(), dropped["reason"].to_pylist()))
    web = read.filter(pc.equal(read["source"], "web"))
    chinese = [(i, t) for i, t in zip(web["id"].to_pylist(), web["text"].to_pylist()) if len(CJK.findall(t)) > 50]
    articles = [i for i, t in chinese if "。" in t]
    spam = [i for i, t in chinese if "。" not in t]
    assert len(articles) >= 14 and len(spam) >= 6
    # Chinese articles are not "too short" nor emptied by line cleaning: they reach the classifier.
    reached = [i for i in articles if reasons.get(i, "kept") in ("kept", "quality_pareto")]
    assert len(reached) >= len(articles) - 2
    assert all(reasons.get(i, "kept") not in ("kept", "quality_pareto") for i in spam)
    docs = read_dir(out / "documents")
    code = docs.filter(pc.equal(docs["source"], "code"))
    assert code.num_rows == pc.sum(pc.equal(read["source"], "code")).as_py()  # prose rules skip code
    assert code["lang"].null_count == code.num_rows
    stage = next(s for s in report["stages"] if s["name"] == "filters")
    assert stage["counters"]["lines_removed:promo"] > 0 and stage["counters"]["lines_removed:link_list"] > 0
    assert report["accounting"]["balanced"]
