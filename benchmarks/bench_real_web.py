"""Line cleaning and the default filter stage on real web pages (the real-data set, `make real`).

    .venv/bin/python benchmarks/bench_real_web.py [--pages-out FILE]

Per language (en, de, zh, other) and extractor (resiliparse = DCLM's, trafilatura = FineWeb's,
grist's default `ReadConfig().extractor`), on the set's saved pages (web/pages/):
- must%ext / must%cln: must-appear phrases found in the extracted text, then after line cleaning;
- bp%ext / bp%cln: boilerplate removed, i.e. must-not phrases absent after extraction, then after
  extraction + line cleaning;
- gold lost to line cleaning, median and worst page: of the gold characters the extractor kept,
  the share line cleaning removed. Gold = the page's full gold text where the set has one (bag of
  words, CJK characters one by one), else its must phrases (a phrase present after extraction but
  gone after cleaning loses all its characters); (n) = pages with gold present after extraction;
- cut med% / max%: characters of the extracted text that line cleaning removed, median and worst page;
- keep %: pages (non-empty extractions) kept by the whole default filter stage: `build_rules` of
  filters/stage.py on a config whose source has `domain: web`, run in-process; no quality
  classifier (it needs a trained model);
- the same for C4's line rules (`c4` rows: terminal punctuation, >= 3 words, javascript, policy),
  as the baseline line cleaning replaced.
Then the set's real Chinese texts (web/zh/*.jsonl) as a `domain: web` jsonl source: lines removed
by reason, characters kept, documents kept by the stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.real.realset import ensure_built, web_pages, zh_texts  # noqa: E402
from filters.base import FilterDoc, FilterStep  # noqa: E402
from filters.config import LinesConfig  # noqa: E402
from filters.lines import LineCleaner  # noqa: E402
from filters.stage import build_rules  # noqa: E402
from filters.text import display_width, words  # noqa: E402
from pipelines.config import Config, ReadConfig  # noqa: E402
from pipelines.sources.extract import EXTRACTORS, decode_html, extract_main_text  # noqa: E402

# C4's line rules as LinesConfig switches (everything else off): the baseline.
C4_LINES = {"link_list_min_lines": None, "related_links": False, "copyright": False, "login": False, "share": False,
            "read_more": False, "promo": False, "meta": False, "ui_label": False, "nav_min_items": None,
            "breadcrumb": False, "seo_min_keywords": None, "require_terminal_punct": True, "min_words_per_line": 3}


def squash(text: str) -> str:
    return " ".join(text.split())


def has(text: str, phrase: str) -> bool:
    """Whether a phrase is in a text, whitespace folded (extractors differ in line breaks)."""
    return squash(phrase) in text


def _bag(text: str) -> Counter:
    return Counter(words(text))


def _chars(bag: Counter) -> int:
    return sum(len(w) * n for w, n in bag.items())


@dataclass
class PageResult:
    name: str
    lang: str
    extracted: str
    cleaned: str
    must_extracted: int = 0
    must_cleaned: int = 0
    must_total: int = 0
    must_not_absent_extracted: int = 0
    must_not_absent: int = 0
    must_not_total: int = 0
    gold_loss: float | None = None  # share of the gold characters kept by extraction that cleaning removed
    removed: Counter = field(default_factory=Counter)


def gold_loss(extracted: str, cleaned: str, page: dict) -> float | None:
    """Share of gold characters present after extraction that line cleaning removed (None: no gold
    present after extraction)."""
    if page.get("gold"):
        gold = _bag(page["gold"])
        before, after = _chars(gold & _bag(extracted)), _chars(gold & _bag(cleaned))
    else:
        present = [p for p in page["must"] if has(squash(extracted), p)]
        before = sum(len(squash(p)) for p in present)
        after = sum(len(squash(p)) for p in present if has(squash(cleaned), p))
    return None if before == 0 else (before - after) / before


def clean(text: str, cleaner: LineCleaner) -> str:
    return cleaner.apply(FilterDoc("page", "web", "web", text))


def extract_page(page: dict, extractor: str) -> str:
    html = decode_html(Path(page["path"]).read_bytes(), page.get("charset"))
    return extract_main_text(html, page.get("url"), extractor)


def measure_page(page: dict, extracted: str, cleaner: LineCleaner) -> PageResult:
    before = Counter(cleaner.counters)
    cleaned = clean(extracted, cleaner)
    e, c = squash(extracted), squash(cleaned)
    r = PageResult(page["name"], page.get("lang") or "?", extracted, cleaned,
                   must_total=len(page["must"]), must_not_total=len(page["must_not"]))
    r.must_extracted = sum(has(e, p) for p in page["must"])
    r.must_cleaned = sum(has(c, p) for p in page["must"])
    r.must_not_absent_extracted = sum(not has(e, p) for p in page["must_not"])
    r.must_not_absent = sum(not has(c, p) for p in page["must_not"])
    r.gold_loss = gold_loss(extracted, cleaned, page)
    r.removed = Counter(cleaner.counters) - before
    return r


def measure(pages: list[dict], extractor: str, lines: dict | None = None,
            texts: dict[str, str] | None = None) -> list[PageResult]:
    """Every page extracted (or taken from `texts`, name -> extracted text) and line-cleaned."""
    cleaner = LineCleaner(LinesConfig(**(lines or {})))
    return [measure_page(p, texts[p["name"]] if texts else extract_page(p, extractor), cleaner) for p in pages]


def pct(num: float, den: float) -> float | None:
    return None if den == 0 else 100.0 * num / den


def summary(results: list[PageResult]) -> dict:
    losses = [r.gold_loss for r in results if r.gold_loss is not None]
    cut = [1 - len(r.cleaned) / len(r.extracted) for r in results if r.extracted.strip()]
    return {
        "pages": len(results),
        "empty": sum(not r.extracted.strip() for r in results),
        "must_extracted": pct(sum(r.must_extracted for r in results), sum(r.must_total for r in results)),
        "must_cleaned": pct(sum(r.must_cleaned for r in results), sum(r.must_total for r in results)),
        "boilerplate_extracted": pct(sum(r.must_not_absent_extracted for r in results),
                                     sum(r.must_not_total for r in results)),
        "boilerplate_removed": pct(sum(r.must_not_absent for r in results), sum(r.must_not_total for r in results)),
        "loss_pages": len(losses),
        "median_loss": 100 * statistics.median(losses) if losses else None,
        "worst_loss": 100 * max(losses) if losses else None,
        "median_cut": 100 * statistics.median(cut) if cut else None,
        "worst_cut": 100 * max(cut) if cut else None,
    }


def web_config(kind: str = "web") -> Config:
    """The default config with one source of domain web (no files are read: rules run in-process)."""
    return Config.model_validate({"output": "unused", "sources": [
        {"name": "web", "kind": kind, "domain": "web", "paths": ["unused"]}]})


def stage_step(kind: str = "web") -> FilterStep:
    """The default filter rules (no quality classifier) for one source of `kind` holding web text."""
    cfg = web_config(kind)
    step = FilterStep(rules=build_rules(cfg), domains={"web": "web"})
    step.setup()
    return step


def stage_keep(step: FilterStep, texts: list[str]) -> tuple[int, Counter]:
    """(documents kept, drop reasons) of the default filter rules over non-empty texts."""
    docs = [FilterDoc(str(i), "web", "web", t) for i, t in enumerate(texts) if t.strip()]
    step.filter_docs(docs)
    return sum(d.reason is None for d in docs), Counter(d.reason for d in docs if d.reason)


def _fmt(v: float | None, digits: int = 1) -> str:
    return "  -" if v is None else f"{v:.{digits}f}"


def lang_group(lang: str) -> str:
    return lang if lang in ("en", "de", "zh") else "other"


def print_pages(pages: list[dict], out: Path | None) -> None:
    default = ReadConfig().extractor
    step = stage_step()
    print(f"real pages: {len(pages)}; default extractor: {default}")
    print(f"{'lang':6} {'extractor':24} {'pages':>5} {'empty':>5} {'must%ext':>8} {'must%cln':>8} {'bp%ext':>6} "
          f"{'bp%cln':>6} {'loss med%':>9} {'loss max%':>9} {'(n)':>4} {'cut med%':>8} {'cut max%':>8} {'keep%':>6}")
    rows = []
    for extractor in EXTRACTORS:
        texts = {p["name"]: extract_page(p, extractor) for p in pages}
        for lines_name, lines in (("lines", None), ("c4", C4_LINES)):
            results = measure(pages, extractor, lines, texts)
            by_lang: dict[str, list[PageResult]] = {"all": results}
            for r in results:
                by_lang.setdefault(lang_group(r.lang), []).append(r)
            for lang in ("en", "de", "zh", "other", "all"):
                group = by_lang.get(lang, [])
                if not group:
                    continue
                s = summary(group)
                keep = None
                if lines is None:
                    kept, _ = stage_keep(step, [r.extracted for r in group])
                    keep = pct(kept, len(group) - s["empty"])
                label = extractor + (" (default)" if extractor == default else "") + ("" if lines is None else " c4")
                print(f"{lang:6} {label:24} {s['pages']:>5} {s['empty']:>5} {_fmt(s['must_extracted']):>8} "
                      f"{_fmt(s['must_cleaned']):>8} {_fmt(s['boilerplate_extracted']):>6} "
                      f"{_fmt(s['boilerplate_removed']):>6} {_fmt(s['median_loss']):>9} {_fmt(s['worst_loss']):>9} "
                      f"{s['loss_pages']:>4} {_fmt(s['median_cut']):>8} {_fmt(s['worst_cut']):>8} {_fmt(keep):>6}")
                rows.append({"lang": lang, "extractor": extractor, "lines": lines_name, **s, "keep": keep})
        if extractor == default:
            _, reasons = stage_keep(step, list(texts.values()))
            print(f"  {extractor}: stage drop reasons {dict(reasons.most_common())}")
    if out is not None:
        out.write_text(json.dumps(rows, indent=1) + "\n")


def is_prose(line: str) -> bool:
    """A Chinese prose line (the article text of a page dump): 30+ characters and a full stop
    (titles, which may end in ！ or ？, are left out)."""
    line = line.strip()
    return len(line) >= 30 and "。" in line


def zh_figures(rows: list[dict], lines: dict | None = None) -> dict:
    """Line cleaning of real Chinese texts: characters kept, prose characters kept (all, and the
    worst document), menu-sized lines (<= 8 columns: 4 characters) removed, lines removed by reason."""
    cleaner = LineCleaner(LinesConfig(**(lines or {})))
    chars = kept = prose = prose_kept = tiny = tiny_removed = 0
    worst = 0.0
    for r in rows:
        ls = r["text"].split("\n")
        reasons = cleaner.line_reasons(ls)
        doc_prose = doc_prose_kept = 0
        for ln, why in zip(ls, reasons):
            n = len(ln.strip())
            chars += n
            kept += n if why is None else 0
            if is_prose(ln):
                doc_prose += n
                doc_prose_kept += n if why is None else 0
            elif n and display_width(ln.strip()) <= 8:
                tiny += 1
                tiny_removed += why is not None
        prose, prose_kept = prose + doc_prose, prose_kept + doc_prose_kept
        if doc_prose:
            worst = max(worst, 1 - doc_prose_kept / doc_prose)
        cleaner.counters.update(f"lines_removed:{w}" for w in reasons if w)
    return {"docs": len(rows), "chars_kept": pct(kept, chars), "prose_kept": pct(prose_kept, prose),
            "worst_prose_loss": 100 * worst, "tiny_removed": pct(tiny_removed, tiny),
            "removed": {k.removeprefix("lines_removed:"): v for k, v in cleaner.counters.most_common()}}


def print_zh(rows: list[dict]) -> None:
    """Per origin package: gne = whole news pages as text (menus, share bars, comments, ads),
    chardet = blog feed items, fortunes-zh = verse and prose."""
    print("\nChinese texts as a jsonl source with domain: web (web/zh/*.jsonl)")
    print(f"{'origin':12} {'rules':6} {'docs':>5} {'chars%':>6} {'prose%':>6} {'prose worst loss%':>17} "
          f"{'menu lines removed%':>19} {'stage keep%':>11}")
    step = stage_step("jsonl")
    for origin in sorted({r["origin"].split("=")[0] for r in rows}):
        group = [r for r in rows if r["origin"].split("=")[0] == origin]
        for name, lines in (("lines", None), ("c4", C4_LINES)):
            f = zh_figures(group, lines)
            keep = None
            if lines is None:
                kept, _ = stage_keep(step, [r["text"] for r in group])
                keep = pct(kept, sum(bool(r["text"].strip()) for r in group))
            print(f"{origin:12} {name:6} {f['docs']:>5} {_fmt(f['chars_kept']):>6} {_fmt(f['prose_kept']):>6} "
                  f"{_fmt(f['worst_prose_loss']):>17} {_fmt(f['tiny_removed']):>19} {_fmt(keep):>11}")
            if lines is None:
                print(f"{'':19} removed: {f['removed']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages-out", type=Path, help="write the per-language figures as JSON here")
    args = ap.parse_args()
    ensure_built()
    print_pages(web_pages(), args.pages_out)
    print_zh(zh_texts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
