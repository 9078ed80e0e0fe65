"""Language id, the classifier's pieces (hashing, Pareto rule, metrics, training) and the filter
step on an Arrow batch, without Ray."""

from __future__ import annotations

import json
import random

import fasttext
import numpy as np
import pyarrow as pa
import pytest

from filters.base import FilterDoc, FilterStep
from filters.config import QualityConfig
from filters.heuristics import GopherQualityFilter
from filters.language import LanguageFilter, lid_model_path
from filters.quality import (Example, QualityFilter, QualityModel, hash_unit, hashed_sample, model_text,
                             pareto_keep, read_labelled, roc_auc, train_classifier)
from pipelines.document import DROP_REASON, documents_table
from tests.filters.corpus import reference_doc, web_doc
from tests.filters.test_rules import EN, ZH


@pytest.fixture(scope="module")
def lid():
    f = LanguageFilter()
    f.setup()
    return f


@pytest.fixture(scope="module")
def quality_model(tmp_path_factory):
    rng = random.Random(3)
    examples = [Example(f"r{i}", reference_doc(rng), 1) for i in range(80)] + \
               [Example(f"w{i}", web_doc(rng), 0) for i in range(80)]
    path = tmp_path_factory.mktemp("q") / "quality.bin"
    metrics = train_classifier(examples, QualityConfig(epoch=5, dim=16, bucket=20_000), 0, path)
    return path, metrics


def test_fasttext_predict_on_a_string_and_a_list(lid, quality_model):
    # fasttext / fasttext-wheel break predict(str) under numpy 2; fasttext-numpy2-wheel does not.
    for model in (lid.model, fasttext.load_model(str(quality_model[0]))):
        labels, probs = model.predict("The city has a long history and a famous university.")
        assert len(labels) == 1 and labels[0].startswith("__label__") and 0 < float(probs[0]) <= 1.00001
        many_labels, many_probs = model.predict(["The river is long.", "北京是中国的首都。"])
        assert len(many_labels) == 2 and all(len(p) == 1 for p in many_probs)


def test_language_ids_and_allowed_languages(lid):
    docs = [FilterDoc("a", "any", "web", EN), FilterDoc("b", "any", "web", ZH), FilterDoc("c", "en_only", "web", ZH)]
    f = LanguageFilter(allowed={"en_only": ["en"], "any": None})
    f.model = lid.model
    f.prepare(docs)
    assert [d.lang for d in docs] == ["en", "zh", "zh"] and all(d.lang_score > 0.9 for d in docs)
    assert [f.keep(d) for d in docs] == [True, True, (False, "lang_not_allowed")]
    assert LanguageFilter(languages=["zh"]).keep(FilterDoc("d", "s", "web", EN)) == (False, "lang_not_allowed")
    # keep() alone identifies the document when prepare() did not run.
    assert LanguageFilter(min_score=0.9).keep(FilterDoc("e", "s", "web", "ok 123 xyz ###")) == (False, "lang_low_score")
    assert lid_model_path().name == "lid.176.ftz"


def test_hash_unit_and_hashed_sample_are_order_free():
    assert hash_unit(0, "doc-1") == hash_unit(0, "doc-1") != hash_unit(1, "doc-1")
    us = [hash_unit(0, str(i)) for i in range(5000)]
    assert 0 <= min(us) and max(us) < 1 and abs(np.mean(us) - 0.5) < 0.02
    items = [(f"id{i}", f"text {i}") for i in range(200)]
    assert hashed_sample(items, 20, 0, "s") == hashed_sample(items[::-1], 20, 0, "s")
    assert len(hashed_sample(items, 20, 0, "s")) == 20


def test_pareto_rule_matches_numpy_pareto():
    alpha = 9.0
    us = np.array([hash_unit(7, str(i), "pareto") for i in range(20000)])
    ours = (1 - us) ** (-1 / alpha) - 1
    theirs = np.random.default_rng(0).pareto(alpha, 20000)  # Lomax: the GPT-3 paper's np.random.pareto
    assert abs(np.median(ours) - np.median(theirs)) < 0.005 and abs(ours.mean() - theirs.mean()) < 0.01
    for score in (0.0, 0.5, 0.9, 0.99, 1.0):  # P(Lomax > 1 - s) = (2 - s) ** -alpha
        assert abs(np.mean([pareto_keep(score, u, alpha) for u in us]) - (2 - score) ** -alpha) < 0.01


def test_roc_auc():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc([1, 1], [0.1, 0.2]) is None


def test_training_is_deterministic_and_separates_registers(quality_model, tmp_path):
    path, metrics = quality_model
    assert metrics["held_out"]["roc_auc"] >= 0.9 and metrics["train_examples"] > 100
    rng = random.Random(3)
    examples = [Example(f"r{i}", reference_doc(rng), 1) for i in range(80)] + \
               [Example(f"w{i}", web_doc(rng), 0) for i in range(80)]
    again = tmp_path / "again.bin"
    train_classifier(examples, QualityConfig(epoch=5, dim=16, bucket=20_000), 0, again)
    assert again.read_bytes() == path.read_bytes()


def test_quality_scores_single_equals_batch(quality_model):
    m = QualityModel(quality_model[0])
    texts = [model_text(reference_doc(random.Random(i)), 20_000) for i in range(5)]
    batch = m.scores(texts)
    assert batch == [m.scores([t])[0] for t in texts] and all(0 <= s <= 1 for s in batch)


def test_quality_filter_modes(quality_model):
    path = quality_model[0]
    good = FilterDoc("g", "web", "web", reference_doc(random.Random(11)))
    bad = FilterDoc("b", "web", "web", web_doc(random.Random(11)))
    thr = QualityFilter(model_path=path, sources=["web"], keep="threshold", threshold=0.5)
    assert thr.keep(good) is True and thr.keep(bad) == (False, "quality_threshold")
    top = QualityFilter(model_path=path, sources=["web"], keep="top_fraction", cutoff=0.99)
    assert top.keep(bad) == (False, "quality_top_fraction")
    none = QualityFilter(model_path=path, sources=["web"], keep="none")
    assert none.keep(bad) is True and bad.quality_score < 0.5 < good.quality_score
    assert not QualityFilter(model_path=path, sources=["web"]).applies(FilterDoc("x", "wiki", "encyclopedia", ""))


def test_read_labelled(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [{"text": "a", "label": 1}, {"text": "b", "label": 0, "id": "x"}]))
    assert read_labelled(p) == ([("0", "a")], [("x", "b")])
    p.write_text(json.dumps({"text": "a", "label": "maybe"}))
    with pytest.raises(ValueError, match="label must be"):
        read_labelled(p)


def test_filter_step_on_a_batch_respects_kinds_and_adds_columns():
    code = "def f(x):\n    return x + 1\n"
    table = documents_table([
        {"id": "1", "source": "site", "text": EN + "\nMail me: a@example.com please, it is fine."},
        {"id": "2", "source": "repo", "text": code},
        {"id": "3", "source": "site", "text": "Too short."},
    ])
    step = FilterStep(rules=[LanguageFilter(min_score=None), GopherQualityFilter()], domains={"site": "web", "repo": "code"})
    step.setup()
    out = step.process(table)
    assert out.column(DROP_REASON).to_pylist() == [None, None, "gopher_short_doc"]
    assert out.column("lang").to_pylist() == ["en", None, "en"]  # lid and heuristics skip code
    assert out.column("quality_score").null_count == 3
    assert out.schema.field("lang_score").type == pa.float32()
    from filters.pii import PiiScrubber

    pii = FilterStep(rules=[PiiScrubber()], domains={"site": "web", "repo": "code"})
    out = pii.process(table)
    assert "<EMAIL>" in out.column("text")[0].as_py() and pii.counters == {"pii:email": 1}
