"""The dedup stage in `grist run`: planted duplicates across sources, Chinese near-duplicates,
source priority, decontamination, 1 vs 2 workers, and resuming after an interruption."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.conftest import dir_bytes, make_config, read_dir, run_config, write_jsonl


def _doc(rng: random.Random, n: int = 120) -> str:
    return " ".join(f"w{rng.randrange(5000)}" for _ in range(n))


def _edit(text: str, rng: random.Random, k: int) -> str:
    words = text.split()
    for _ in range(k):
        words[rng.randrange(len(words))] = f"x{rng.randrange(10**6)}"
    return " ".join(words)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """web: 40 originals; books: 10 light edits of web docs (J ~ 0.9), 5 exact copies with other
    case/spacing, 5 heavy edits (J < 0.5, kept), 5 unrelated; zh: 4 articles + 4 near copies."""
    root = tmp_path_factory.mktemp("dedup")
    rng = random.Random(0)
    web = [{"id": f"w{i:02d}", "text": _doc(rng)} for i in range(40)]
    books = [{"id": f"b{i:02d}", "text": _edit(web[i]["text"], rng, 1)} for i in range(10)]
    books += [{"id": f"b{i:02d}", "text": "  " + web[i]["text"].upper().replace(" ", "\n ")} for i in range(10, 15)]
    books += [{"id": f"b{i:02d}", "text": _edit(web[i]["text"], rng, 30)} for i in range(15, 20)]
    books += [{"id": f"b{i:02d}", "text": _doc(rng)} for i in range(20, 25)]
    han = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
    zh_docs = ["".join(rng.choice(han) for _ in range(300)) for _ in range(4)]
    zh = [{"id": f"z{i}", "text": t} for i, t in enumerate(zh_docs)]
    for i, t in enumerate(zh_docs):
        chars = list(t)
        for _ in range(4):
            chars[rng.randrange(len(chars))] = rng.choice(han)
        zh.append({"id": f"zc{i}", "text": "".join(chars)})
    evalset = [{"question": " ".join(web[30]["text"].split()[40:60]), "answer": "w1"}]
    write_jsonl(root / "web.jsonl", web)
    write_jsonl(root / "books.jsonl", books)
    write_jsonl(root / "zh.jsonl", zh)
    write_jsonl(root / "eval" / "quiz.jsonl", evalset)
    return root


def _sources(root: Path) -> list[dict]:
    return [{"name": n, "kind": "jsonl", "paths": [str(root / f"{n}.jsonl")]} for n in ("web", "books", "zh")]


def _dedup(root: Path, **kw) -> dict:
    return {"enabled": True, "source_priority": ["books"], "buckets": 3,
            "decontam": {"eval_sets": [{"name": "quiz", "paths": [str(root / "eval" / "*.jsonl")],
                                        "fields": ["question", "answer"]}]}, **kw}


def _short(doc_id: str | None) -> str | None:
    """The record's own id (the read stage may prefix ids with their file: `web/00000/w00`)."""
    return doc_id.rsplit("/", 1)[-1] if doc_id else doc_id


def _dropped(out: Path) -> dict[str, tuple[str, str | None]]:
    t = read_dir(out / "dropped")
    return {_short(r["id"]): (r["reason"], _short(r["duplicate_of"])) for r in t.to_pylist()}


@pytest.fixture(scope="module")
def run2(corpus, ray_local, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run2")
    cfg = make_config(tmp, _sources(corpus), dedup=_dedup(corpus))
    report = run_config(cfg, workers=2)
    return Path(cfg.output), report


def test_planted_duplicates_across_sources(run2):
    out, report = run2
    dropped = _dropped(out)
    # light edits and exact copies: the books copy wins by source priority, the web doc goes
    for i in range(10):
        assert dropped[f"w{i:02d}"] == ("near_duplicate", f"b{i:02d}")
    for i in range(10, 15):
        assert dropped[f"w{i:02d}"] == ("exact_duplicate", f"b{i:02d}")
    # heavy edits and unrelated documents stay
    assert not {f"w{i:02d}" for i in range(15, 30)} & dropped.keys()
    assert not {f"b{i:02d}" for i in range(25)} & dropped.keys()
    stage = next(s for s in report["stages"] if s["name"] == "dedup")
    assert stage["docs_in"] == 40 + 25 + 8 and stage["docs_in"] == stage["docs_out"] + sum(stage["dropped"].values())
    assert stage["extra"]["cc_rounds"] >= 1 and stage["extra"]["verified_pairs"] >= 19


def test_chinese_near_duplicates(run2):
    dropped = _dropped(run2[0])
    assert {i: dropped[f"zc{i}"] for i in range(4)} == {i: ("near_duplicate", f"z{i}") for i in range(4)}
    assert not {f"z{i}" for i in range(4)} & dropped.keys()


def test_decontamination(run2):
    dropped = _dropped(run2[0])
    assert dropped["w30"] == ("contamination:quiz", None)
    assert sum(1 for r, _ in dropped.values() if r.startswith("contamination")) == 1


def test_star_rounds_same_output(corpus, run2, ray_local, tmp_path):
    """Components by large-star / small-star rounds (forced) decide exactly like the one-task path."""
    cfg = make_config(tmp_path, _sources(corpus), dedup=_dedup(corpus, cc_single_max_edges=0))
    report = run_config(cfg, workers=2)
    extra = next(s for s in report["stages"] if s["name"] == "dedup")["extra"]
    assert extra["cc_mode"] == "star" and extra["cc_rounds"] >= 1
    assert next(s for s in run2[1]["stages"] if s["name"] == "dedup")["extra"]["cc_mode"] == "single"
    for sub in ("documents", "dropped"):
        assert dir_bytes(Path(cfg.output) / sub) == dir_bytes(run2[0] / sub)


def test_exact_only_and_unverified(corpus, ray_local, tmp_path):
    """MinHash off: only the exact copies go. Verification off: candidate pairs become components
    directly (the light edits still go)."""
    exact = make_config(tmp_path / "exact", _sources(corpus), dedup=_dedup(corpus, minhash={"enabled": False}))
    run_config(exact, workers=2)
    dropped = _dropped(Path(exact.output))
    assert {k: v for k, v in dropped.items() if v[0] != "contamination:quiz"} == {
        f"w{i:02d}": ("exact_duplicate", f"b{i:02d}") for i in range(10, 15)}
    loose = make_config(tmp_path / "loose", _sources(corpus), dedup=_dedup(corpus, minhash={"verify": False}))
    run_config(loose, workers=2)
    dropped = _dropped(Path(loose.output))
    assert all(dropped[f"w{i:02d}"][1] == f"b{i:02d}" for i in range(15))


def test_parts_split_into_chunks_same_decisions(corpus, run2, ray_local, tmp_path):
    """More buckets than parts: the scan splits parts into row-group chunks; same decisions."""
    cfg = make_config(tmp_path, _sources(corpus), read={"batch_rows": 8}, dedup=_dedup(corpus, buckets=8))
    run_config(cfg, workers=2)
    work = next((Path(cfg.output) / "_work").glob("*-dedup"))
    assert len(list((work / "scan" / "stats").glob("*.json"))) > 3  # chunks, not parts
    assert _dropped(Path(cfg.output)) == _dropped(run2[0])


def test_one_and_two_workers_identical_then_resume(corpus, run2, ray_local, tmp_path):
    """1 worker with buckets from the cluster (2) against 2 workers with 3 buckets: same bytes."""
    out2 = run2[0]
    cfg = make_config(tmp_path, _sources(corpus), dedup=_dedup(corpus, buckets=None))
    out1 = Path(cfg.output)
    run_config(cfg, workers=1)
    for sub in ("documents", "dropped"):
        assert dir_bytes(out1 / sub) == dir_bytes(out2 / sub)
    # interrupt: forget the stage's success, one scanned part, one components round and one output part
    work = next((out1 / "_work").glob("*-dedup"))
    web = next((work / "scan" / "stats").glob("web-*.json")).stem
    books = next((work / "stats").glob("books-*.json")).stem
    (work / "_SUCCESS.json").unlink()
    (work / "scan" / "stats" / f"{web}.json").unlink()
    (work / "stats" / f"{books}.json").unlink()
    (work / "kept" / f"{books}.parquet").unlink()
    shutil.rmtree(work / "decide")
    untouched = work / "stats" / f"{web}.json"
    before = untouched.stat().st_mtime_ns
    run_config(cfg, workers=2)
    assert untouched.stat().st_mtime_ns == before  # committed parts are not redone
    assert (work / "scan" / "stats" / f"{web}.json").exists() and (work / "decide" / "_done").is_dir()
    for sub in ("documents", "dropped"):
        assert dir_bytes(out1 / sub) == dir_bytes(out2 / sub)


def test_scan_slices_cover_every_row_once_and_cut_by_bytes():
    import pyarrow as pa

    from filters.dedup.stage import text_slices

    texts = ["a" * 300, "é" * 200, "x" * 5000, "", "b" * 100, "c" * 700, "d" * 10]
    slices = text_slices(pa.array(texts), 1000)
    assert [lo for lo, _ in slices] == [0] + [hi for _, hi in slices[:-1]] and slices[-1][1] == len(texts)
    for lo, hi in slices:
        size = sum(len(t.encode()) for t in texts[lo:hi])
        assert size <= 1000 or hi - lo == 1  # a longer document is a slice of its own
    assert slices == [(0, 2), (2, 3), (3, 7)]
    assert text_slices(pa.array([], pa.string()), 1000) == []
