"""The filter stage on Ray: classifier training + metrics, columns, accounting, reasons, the Pareto
decision's independence from the number of workers, and resume of the training sub-step."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.compute as pc
import pytest

from tests.conftest import dir_bytes, make_config, read_dir, run_config, write_jsonl
from tests.filters.corpus import reference_doc, web_doc, write_corpus

# on_weak: warn: these corpora are far below min_docs_per_class (the safety checks: test_quality_safety.py).
QUALITY = {"positives": ["ref"], "negatives": ["web"], "epoch": 5, "dim": 16, "bucket": 20_000, "on_weak": "warn"}


def _config(tmp_path, sources, **quality):
    return make_config(tmp_path, sources, filters={"enabled": True, "quality": {**QUALITY, **quality}})


@pytest.fixture(scope="module")
def trained(tmp_path_factory, ray_local):
    """One run on the generated corpus plus a few special documents, shared by the checks below."""
    tmp = tmp_path_factory.mktemp("filters")
    src = write_corpus(tmp / "data")
    zh = ("北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有着三千多年的建城史，拥有众多的历史遗迹。"
          "故宫位于北京市中心，是明清两代的皇家宫殿，也是世界上现存规模最大的木质结构古建筑之一。")
    write_jsonl(tmp / "data" / "misc.jsonl", [
        {"id": "zh", "text": zh * 3},
        {"id": "pii", "text": reference_doc(random.Random(0)) + "\nWrite to jane.roe@example.org or ping 8.8.8.8 for it."},
        {"id": "short", "text": "Too short to keep."},
    ])
    misc = {"name": "misc", "kind": "jsonl", "paths": [str(tmp / "data" / "misc.jsonl")], "languages": ["en"]}
    cfg = _config(tmp, [src["ref"], src["web"], misc])
    report = run_config(cfg, workers=2)
    return cfg, report


def test_classifier_metrics_in_report_and_files(trained):
    cfg, report = trained
    stage = next(s for s in report["stages"] if s["name"] == "filters")
    q = stage["extra"]["quality"]
    held = q["metrics"]["held_out"]
    assert held["roc_auc"] >= 0.9 and held["precision"] is not None and held["recall"] is not None
    assert q["trained"] and q["apply_to"] == ["web"] and q["keep"] == "pareto"
    out = Path(cfg.output)
    saved = json.loads((out / "filters" / "quality_metrics.json").read_text())
    assert saved["metrics"]["held_out"] == held and (out / "filters" / "quality.bin").stat().st_size > 0


def test_columns_and_accounting(trained):
    cfg, report = trained
    docs = read_dir(Path(cfg.output) / "documents")
    assert {"lang", "lang_score", "quality_score"} <= set(docs.column_names)
    by_source = {s: docs.filter(pc.equal(docs["source"], s)) for s in ("ref", "web")}
    # Scores only on the sources the classifier applies to (the negatives by default).
    assert by_source["web"]["quality_score"].null_count == 0
    assert by_source["ref"]["quality_score"].null_count == by_source["ref"].num_rows
    assert set(docs["lang"].to_pylist()) <= {"en", "zh"}
    assert report["accounting"]["balanced"]
    stage = next(s for s in report["stages"] if s["name"] == "filters")
    assert stage["docs_in"] == stage["docs_out"] + sum(stage["dropped"].values())
    assert stage["dropped"].get("quality_pareto", 0) > 0


def test_reasons_and_counters(trained):
    cfg, report = trained
    dropped = read_dir(Path(cfg.output) / "dropped" / "filters")
    # by the id as written in the input (the read stage may prefix it with where it came from)
    reasons = {i.rsplit("/", 1)[-1]: r for i, r in zip(dropped["id"].to_pylist(), dropped["reason"].to_pylist())}
    assert reasons["zh"] == "lang_not_allowed"  # misc allows only English
    assert reasons["short"] == "gopher_short_doc"
    docs = read_dir(Path(cfg.output) / "documents")
    pii = docs.filter(pc.ends_with(docs["id"], "pii"))["text"][0].as_py()
    assert "<EMAIL>" in pii and "<IP_ADDRESS>" in pii and "@" not in pii
    stage = next(s for s in report["stages"] if s["name"] == "filters")
    assert stage["extra"]["pii"] == {"email": 1, "ip": 1}


def test_pareto_decision_same_for_one_and_two_workers(tmp_path, ray_local):
    src = write_corpus(tmp_path / "data", n_ref=60, n_web=90, web_files=3)
    outs = []
    for workers in (1, 2):
        cfg = _config(tmp_path / f"w{workers}", [src["ref"], src["web"]])
        run_config(cfg, workers=workers)
        out = tmp_path / f"w{workers}" / "out"
        outs.append({**dir_bytes(out / "documents"), **{f"dropped/{k}": v for k, v in dir_bytes(out / "dropped").items()}})
        outs[-1]["quality.bin"] = (out / "filters" / "quality.bin").read_bytes()
    assert outs[0] == outs[1]
    assert any(k.startswith("web-") for k in outs[0])


def test_training_not_redone_on_resume(tmp_path, ray_local):
    src = write_corpus(tmp_path / "data", n_ref=40, n_web=40, web_files=2)
    cfg = _config(tmp_path, [src["ref"], src["web"]])
    run_config(cfg, workers=1)
    out = tmp_path / "out"
    model = out / "filters" / "quality.bin"
    before = (model.stat().st_mtime_ns, dir_bytes(out / "documents"))
    # A killed run: the stage's marker and one part are gone, the classifier's outputs are there.
    work = next((out / "_work").glob("*-filters"))
    (work / "_SUCCESS.json").unlink()
    next((work / "stats").glob("web-*.json")).unlink()
    run_config(cfg, workers=1)
    assert (model.stat().st_mtime_ns, dir_bytes(out / "documents")) == before


def test_labelled_training_then_a_user_model_with_top_fraction(tmp_path, ray_local):
    src = write_corpus(tmp_path / "data", n_ref=30, n_web=60, web_files=2)
    rng = random.Random(5)
    write_jsonl(tmp_path / "labelled.jsonl", [{"id": f"p{i}", "text": reference_doc(rng), "label": 1} for i in range(60)]
                + [{"id": f"n{i}", "text": web_doc(rng), "label": 0} for i in range(60)])
    first = _config(tmp_path / "a", [src["ref"], src["web"]], labelled=str(tmp_path / "labelled.jsonl"), keep="none")
    rep = run_config(first, workers=2)
    q = next(s for s in rep["stages"] if s["name"] == "filters")["extra"]["quality"]
    assert q["metrics"]["positives"] == ["labelled:1"] and q["metrics"]["held_out"]["roc_auc"] >= 0.9
    model = tmp_path / "a" / "out" / "filters" / "quality.bin"
    # A model trained elsewhere: no training, the top 25% of web documents by score are kept.
    second = _config(tmp_path / "b", [src["ref"], src["web"]], model=str(model), keep="top_fraction", top_fraction=0.25)
    rep = run_config(second, workers=2)
    stage = next(s for s in rep["stages"] if s["name"] == "filters")
    assert stage["extra"]["quality"]["trained"] is False and not (tmp_path / "b" / "out" / "filters").exists()
    kept_web = stage["docs_out"] - 30
    assert kept_web == 60 - stage["dropped"]["quality_top_fraction"] and 10 <= kept_web <= 20


def test_unknown_training_source_is_a_config_error(tmp_path, ray_local):
    from pipelines.errors import ConfigError

    src = write_corpus(tmp_path / "data", n_ref=5, n_web=5, web_files=1)
    with pytest.raises(ConfigError, match=r"filters.quality.positives: no source or kind named 'refs'"):
        run_config(_config(tmp_path, [src["ref"], src["web"]], positives=["refs"]), workers=1)


def test_training_sample_taken_on_workers_equals_the_whole_corpus_sample(tmp_path):
    """The hash-threshold sample the workers take and clean is exactly `hashed_sample` over every
    cleaned document, also when cleaning empties most of them (a second round, higher threshold)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from filters.quality import SamplePartTask, hashed_sample, sample_classes

    rng = random.Random(3)
    parts = []
    for src in ("ref", "web"):
        for k in range(3):
            ids = [f"{src}/{k}/{i}" for i in range(400)]
            path = tmp_path / f"{src}-{k:016x}.parquet"
            pq.write_table(pa.table({"id": ids, "text": [web_doc(rng) for _ in ids]}), path)
            parts.append(path)

    def clean(doc_id, source, text):  # empties 90% of the web documents
        return None if source == "web" and int(doc_id.rsplit("/", 1)[1]) % 10 else text.upper()

    def local_round(name, specs):
        task = SamplePartTask(tmp_path / name, clean, max_chars=300, seed=7)
        for sp in specs:
            task.run(sp)
        return [tmp_path / name / "sample" / f"{sp['part']}.parquet" for sp in specs]

    rounds = []
    got = sample_classes(parts, {"pos": frozenset({"ref"}), "neg": frozenset({"web"})}, 50, 7,
                         lambda name, specs: rounds.append(name) or local_round(name, specs))
    for salt, src in (("pos", "ref"), ("neg", "web")):
        every = [(i, c[:300]) for p in parts if p.name.startswith(src)
                 for i, t in zip(*pq.read_table(p).to_pydict().values()) if (c := clean(i, src, t[:600]))]
        assert got[salt] == hashed_sample(every, 50, 7, salt) and len(got[salt]) == 50
    assert len(rounds) >= 2  # the web class came back short once
