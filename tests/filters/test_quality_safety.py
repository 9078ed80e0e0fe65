"""The quality classifier's safety checks on real text: a weak classifier stops the run with one
line (exit 2) unless the config says to go on; its warnings lead report.json, report.html and the
terminal summary; the keep rate expected from a hashed sample matches the realized one;
`grist quality train` / `grist quality score` as a user runs them.

Real text, nobody here wrote it. Negatives: the real-data set's saved web pages (data/real: 108
pages shipped in trafilatura's sdist, English, German, French, Chinese) through
`extract_main_text`. Positives: the long descriptions (README text) of the Python packages
installed in this environment (pinned in pyproject.toml), written by their authors.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from filters.config import QualityConfig
from filters.quality import hash_unit, pareto_keep
from filters.quality_checks import SourceScores, pareto_keep_probability, weak_reasons, weighted_cutoff
from pipelines.report import run_warnings
from tests.conftest import make_config, run_config, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> dict[str, Path]:
    from data.real.realset import ensure_built, web_pages
    from pipelines.sources.extract import decode_html, extract_main_text

    ensure_built()
    tmp = tmp_path_factory.mktemp("real")
    web = [{"id": p["name"], "text": extract_main_text(decode_html(Path(p["path"]).read_bytes()), p.get("url"))}
           for p in web_pages()]
    refs = {}
    for d in importlib.metadata.distributions():
        body = d.metadata.get_payload() or d.metadata.get("Description") or ""
        if len(body) > 1500:  # a real README, not a one-line summary
            refs[d.metadata["Name"].lower()] = body  # by name: an editable install shows up twice
    return {"web": write_jsonl(tmp / "web.jsonl", [r for r in web if r["text"].strip()]),
            "refs": write_jsonl(tmp / "refs.jsonl", [{"id": k, "text": v} for k, v in sorted(refs.items())])}


def _sources(texts: dict[str, Path]) -> list[dict]:
    return [{"name": "refs", "kind": "jsonl", "domain": "encyclopedia", "paths": [str(texts["refs"])]},
            {"name": "web", "kind": "jsonl", "domain": "web", "paths": [str(texts["web"])]}]


def _config(tmp_path: Path, texts, **quality):
    cfg = make_config(tmp_path, _sources(texts), filters={"enabled": True, "quality": {
        "positives": ["refs"], "negatives": ["web"], **quality}})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    return cfg, path


def _grist(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, capture_output=True, text=True)


# -- the run ------------------------------------------------------------------------------------


def test_weak_classifier_stops_the_run_with_one_line(tmp_path, texts, ray_local, capsys):
    from pipelines.cli import main

    cfg, path = _config(tmp_path, texts)  # the defaults: ~100 documents a class, on_weak: stop
    rc = main(["run", str(path)])
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("grist:")]
    assert rc == 2 and len(lines) == 1, lines
    line = lines[0]
    assert "too weak to delete documents" in line and "documents a class (min_docs_per_class 500)" in line
    # What the real failure looked like: every web score ~0.5 (measured: p25 0.4999, p75 0.5001).
    assert "scores of 'web' barely spread" in line
    assert "filters.quality.positives" in line and "filters.quality.model" in line and "on_weak: warn" in line
    out = Path(cfg.output)
    assert not (out / "documents").exists() and not (out / "report.json").exists()
    assert not list(out.glob("_work/*-filters/kept/*.parquet"))  # nothing was filtered
    # on_weak: skip goes on without the rule: every document that reaches it is kept, with its score.
    cfg, path = _config(tmp_path, texts, on_weak="skip")
    report = run_config(cfg, workers=2)
    q = next(s for s in report["stages"] if s["name"] == "filters")
    assert q["extra"]["quality"]["effective_keep"] == "none" and not any(r.startswith("quality_") for r in q["dropped"])
    assert report["warnings"][0].endswith("on_weak: skip: every document kept, scores written")
    assert q["extra"]["quality"]["sources"]["web"]["realized_keep"] == 1.0


@pytest.fixture(scope="module")
def warned(tmp_path_factory, texts, ray_local):
    """on_weak: warn, a classifier that learns (lr 1, 25 epochs: scores spread) and a Pareto rule
    with alpha 2 (keep probabilities 0.25-1: a mid-range keep rate), expected keep estimated on a
    hashed sample of 40 of the web's documents."""
    tmp = tmp_path_factory.mktemp("warned")
    cfg, path = _config(tmp, texts, on_weak="warn", lr=1.0, epoch=25, pareto_alpha=2.0, score_sample=40)
    return cfg, path, run_config(cfg, workers=2)


def _quality(report: dict) -> dict:
    return next(s for s in report["stages"] if s["name"] == "filters")["extra"]["quality"]


def test_on_weak_warn_goes_on_with_the_warning_first(warned, capsys):
    cfg, _, report = warned
    first = report["warnings"][0]
    assert first.startswith("filters.quality: weak classifier (trained on") and "on_weak: warn" in first
    assert report["accounting"]["balanced"] and _quality(report)["effective_keep"] == "pareto"
    page = (Path(cfg.output) / "report.html").read_text()
    alert = page.index('<div class="alert">')
    assert alert < page.index("<h2>Stages</h2>") and html.escape(first) in page[alert:page.index("<h2>Stages</h2>")]
    assert "<h2>Quality classifier</h2>" in page
    from pipelines.report import print_summary

    print_summary(report)
    err = capsys.readouterr().err
    assert err.index(first[:60]) < err.index("grist run:")  # above the stage table


def test_training_size_and_auc_in_report(warned):
    cfg, _, report = warned
    m = _quality(report)["metrics"]
    assert m["docs_per_class"] >= 80 and m["train_tokens"]["positive"] > 10_000 and m["train_tokens"]["negative"] > 10_000
    assert m["held_out"]["roc_auc"] >= 0.9 and m["held_out"]["accuracy"] is not None and m["held_out"]["n"] >= 20
    page = (Path(cfg.output) / "report.html").read_text()
    assert f'<td class="n">{m["docs_per_class"]:,}</td>' in page


def test_expected_keep_matches_realized(warned):
    _, _, report = warned
    web = _quality(report)["sources"]["web"]
    assert web["sampled"] < web["documents"]  # estimated on a sample, applied to all
    p, n_s, n_r = web["expected_keep"], web["scored"], web["reached"]
    # The sample mean of keep probabilities (variance <= p(1-p)/n_s) against the mean of the
    # Pareto coin flips over every document that reached the rule (<= p(1-p)/n_r): 4 sigma.
    tol = 4 * math.sqrt(p * (1 - p) * (1 / n_s + 1 / n_r))
    assert 0.2 < p < 0.9 and n_s >= 20 and abs(web["realized_keep"] - p) <= tol, (web, tol)


# -- grist quality train / score ------------------------------------------------------------------


def test_quality_train_and_score_on_files(tmp_path, texts):
    model = tmp_path / "m.bin"
    res = _grist("quality", "train", "--positives", str(texts["refs"]), "--negatives", str(texts["web"]),
                 "--out", str(model), "--top", "2")
    assert res.returncode == 0, res.stderr
    assert "documents a class" in res.stdout and "held-out ROC AUC" in res.stdout
    assert "'negative web.jsonl': " in res.stdout and "expected keep (pareto)" in res.stdout
    assert "weak: trained on" in res.stdout  # the same checks as a run, printed
    res = _grist("quality", "score", str(model), str(texts["web"]), "--top", "3")
    assert res.returncode == 0, res.stderr
    n_web = sum(1 for _ in open(texts["web"]))
    assert res.stdout.startswith(f"{n_web:,} documents scored")
    lines = res.stdout.splitlines()
    top = [float(ln.split()[0]) for ln in lines[lines.index("top 3:") + 1:][:3]]
    bottom = [float(ln.split()[0]) for ln in lines[lines.index("bottom 3:") + 1:][:3]]
    assert top == sorted(top, reverse=True) and bottom == sorted(bottom) and min(top) >= max(bottom)


def test_quality_train_from_a_config_is_the_runs_classifier(warned, tmp_path):
    cfg, path, _ = warned
    out = tmp_path / "again.bin"
    res = _grist("quality", "train", str(path), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == (Path(cfg.output) / "filters" / "quality.bin").read_bytes()
    assert "'web': " in res.stdout and "expected keep (pareto)" in res.stdout


def test_quality_cli_errors_are_one_line(tmp_path, texts):
    _, path = _config(tmp_path, texts)  # never run: no read stage outputs
    for args, wanted in [
        (("quality", "train", str(path)), "--until read` first"),
        (("quality", "score", str(tmp_path / "missing.bin"), str(texts["web"])), "model file not found"),
        (("quality", "score", str(texts["web"]), str(texts["web"])), "not a usable fastText classifier"),
        (("quality", "train", "--positives", str(texts["refs"])), "give both --positives and --negatives"),
    ]:
        res = _grist(*args)
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and wanted in res.stderr, (args, res.stderr)


# -- the checks on their own ----------------------------------------------------------------------


def test_pareto_keep_probability_is_the_rules_exact_boundary():
    for alpha in (2.0, 9.0):
        for s in (0.0, 0.3, 0.5, 0.97, 1.0):
            p = pareto_keep_probability(s, alpha)  # keep iff u > 1 - p
            assert not pareto_keep(s, 1 - p - 1e-9, alpha) and pareto_keep(s, 1 - p + 1e-9, alpha)
    us = [hash_unit(0, str(i), "pareto") for i in range(20_000)]
    assert abs(sum(pareto_keep(0.5, u, 9.0) for u in us) / len(us) - 1.5 ** -9) < 0.003


def test_weak_reasons_on_the_measured_failure_and_on_a_confident_classifier():
    qc = QualityConfig()
    flat = SourceScores("web", rows=178, sampled=178, scores=[0.4997 + 0.0008 * i / 177 for i in range(178)])
    reasons = weak_reasons({"docs_per_class": 118, "held_out": {"roc_auc": 0.62}}, {"web": flat}, qc)
    assert [r.split(" ")[0] for r in reasons] == ["trained", "held-out", "scores"]
    # Saturated near 0 (a confident "all of this is unlike the references") is not "flat".
    low = SourceScores("web", rows=200, sampled=200, scores=[1e-4 * 1.05 ** i for i in range(200)])
    assert weak_reasons({"docs_per_class": 5000, "held_out": {"roc_auc": 0.97}}, {"web": low}, qc) == []


def test_weighted_cutoff_weighs_each_source_by_its_sampling_rate():
    a = SourceScores("a", rows=1000, rate=0.1, sampled=100, scores=[0.9] * 100)  # stands for 1000 documents
    b = SourceScores("b", rows=100, rate=1.0, sampled=100, scores=[0.1] * 100)  # stands for 100
    assert weighted_cutoff([a, b], 0.5) == 0.9 and weighted_cutoff([a, b], 0.95) == 0.1


def test_run_warnings_losses_and_mixture_caps():
    def stage(name, sources, extra=None):
        return {"name": name, "sources": sources, "extra": extra or {}}

    report = {"stages": [
        stage("read", {"web": {"docs_in": 1000, "docs_out": 178, "dropped": {"non_html": 800, "truncated_warc": 22}}}),
        stage("filters", {"web": {"docs_in": 178, "docs_out": 2, "dropped": {"quality_pareto": 150, "c4_too_few_sentences": 26}},
                          "wiki": {"docs_in": 100, "docs_out": 95, "dropped": {"gopher_short_doc": 5}}}),
        stage("mixture", {}, {"table": [
            {"source": "web", "target_share": 0.5, "planned_share": 0.0041, "capped": True, "available_tokens": 1234,
             "max_epochs": 4.0},
            {"source": "wiki", "target_share": 0.5, "planned_share": 0.9959, "capped": False, "available_tokens": 10 ** 6,
             "max_epochs": 4.0}]}),
    ]}
    w = run_warnings(report, 0.9)
    assert len(w) == 3, w  # read lost 22 of 200 documents (non-HTML responses are not documents)
    assert w[0].startswith("'web' lost 98.9% of its documents in stage filters (176 of 178: quality_pareto 150")
    assert w[1].startswith("mixture: 'web' gets 0.41% of the tokens, target 50.00% (capped: 1,234 tokens a pass")
    assert "renormalised" in w[2]


def test_run_warnings_a_source_that_lost_most_over_the_run():
    """No stage cut 'zh' past max_drop, but over the run it kept 27 of 71: a warning names it.
    Non-content records and the classifier's intended cut are not counted as losses, and a source
    already warned for one stage is not warned twice."""
    report = {"stages": [], "sources": {
        "zh": {"docs_in": 71, "docs_out": 27, "dropped": {"dedup:near_duplicate": 12, "filters:fineweb_short_line_ratio": 9,
                                                           "filters:c4_too_few_sentences": 23}},
        "web": {"docs_in": 1000, "docs_out": 90, "dropped": {"read:non_html": 700, "filters:quality_top_fraction": 150,
                                                             "filters:gopher_short_doc": 60}},
    }}
    w = run_warnings(report, 0.9)
    assert w == ["'zh' kept 27 of 71 documents over the run (62.0% lost: filters:c4_too_few_sentences 23, "
                 "dedup:near_duplicate 12, filters:fineweb_short_line_ratio 9)"]
    report["stages"] = [{"name": "filters", "extra": {}, "sources": {
        "zh": {"docs_in": 71, "docs_out": 2, "dropped": {"c4_too_few_sentences": 69}}}}]
    assert [x for x in run_warnings(report, 0.9) if "over the run" in x] == []
