"""HTML main-text extraction on real saved pages: grist's choice against trafilatura (FineWeb's
settings) and resiliparse (DCLM's), side by side.

    .venv/bin/python benchmarks/bench_extraction.py [--repeats 3] [--extractors grist,trafilatura,resiliparse]

Pages: the real set's `web_pages()` (`make real`), decoded as the web reader decodes them
(`decode_html`: BOM, HTTP/meta charset, else detection). Per extractor:
- must %: must-appear phrases found in the text; boilerplate %: must-not phrases absent (both
  matched after collapsing white space); empty: pages with no text at all.
- on pages with a full gold text: token and character precision / recall / F1, bag-of-tokens
  overlap as in trafilatura's evaluation and the ScrapingHub article-extraction benchmark:
  tokens are white-space tokens, each CJK character its own token; the character figures weight
  every token by its length. Mean over pages; an empty extraction scores 0.
- empty: articles (pages with must phrases or a gold text) with no text at all; pages without
  either (an Angular template, a portal front page) are counted in "pages", not here.
- pages/s: all pages, one process, extraction only (decoding done before), in CPU seconds of this
  process (the machine is shared; wall time would measure the neighbours), the median of
  `--repeats` passes taken in turn per extractor.
trafilatura's own pages (its realworld tests) are its development set, so it is favoured there:
every figure is also given for the other origins (newspaper4k's pages with full gold text, gne's
Chinese news pages with hand-written phrases), and the default is chosen on those.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.real.realset import ensure_built, web_pages  # noqa: E402
from pipelines.sources.extract import EXTRACTORS, decode_html, extract_main_text  # noqa: E402

LANG_GROUPS = ("en", "de", "zh", "other")
_WS = re.compile(r"\s+")
# Han, kana, CJK punctuation and full-width forms: one token per character (no spaces between words).
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")


def norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def prf(pred: Counter, gold: Counter, weight) -> tuple[float, float, float]:
    """(precision, recall, F1) of two bags, each token weighted by weight(token)."""
    tp = sum(weight(t) * n for t, n in (pred & gold).items())
    p_all = sum(weight(t) * n for t, n in pred.items())
    g_all = sum(weight(t) * n for t, n in gold.items())
    p = tp / p_all if p_all else 0.0
    r = tp / g_all if g_all else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def lang_group(lang: str | None) -> str:
    lang = (lang or "").lower().split("-")[0]
    return lang if lang in LANG_GROUPS else "other"


def is_trafilatura_page(page: dict) -> bool:
    return "trafilatura" in str(page.get("origin", "")).lower()


def is_article(page: dict) -> bool:
    return bool(page.get("must") or page.get("gold"))


def score_page(page: dict, text: str) -> dict:
    """Per-page figures: phrase hits and, with a gold text, token / char P/R/F1."""
    flat = norm(text)
    must, must_not = page.get("must") or [], page.get("must_not") or []
    out = {"empty": not flat and is_article(page), "must_hit": [m for m in must if norm(m) in flat],
           "must_miss": [m for m in must if norm(m) not in flat],
           "bp_left": [m for m in must_not if norm(m) in flat], "must_n": len(must), "bp_n": len(must_not)}
    if page.get("gold"):
        pred, gold = Counter(tokens(text)), Counter(tokens(page["gold"]))
        out["tok"] = prf(pred, gold, lambda t: 1)
        out["chr"] = prf(pred, gold, len)
    return out


def aggregate(scores: list[dict]) -> dict:
    must_n = sum(s["must_n"] for s in scores)
    bp_n = sum(s["bp_n"] for s in scores)
    gold = [s for s in scores if "tok" in s]
    agg = {"pages": len(scores), "empty": sum(s["empty"] for s in scores),
           "must": 100 * sum(len(s["must_hit"]) for s in scores) / must_n if must_n else float("nan"),
           "boilerplate": 100 * (1 - sum(len(s["bp_left"]) for s in scores) / bp_n) if bp_n else float("nan"),
           "gold_pages": len(gold)}
    for key in ("tok", "chr"):
        for i, name in enumerate("prf"):
            agg[f"{key}_{name}"] = 100 * statistics.fmean(s[key][i] for s in gold) if gold else float("nan")
    return agg


def run_extractors(extractors, pages: list[dict], htmls: list[str], repeats: int) -> dict[str, tuple[list[str], float]]:
    """extractor -> (texts, pages per CPU second: the median of `repeats` passes, extractors in turn)."""
    rates: dict[str, list[float]] = {ex: [] for ex in extractors}
    texts: dict[str, list[str]] = {}
    for _ in range(repeats):
        for ex in extractors:
            t0 = time.process_time()
            texts[ex] = [extract_main_text(h, p.get("url"), ex) for p, h in zip(pages, htmls)]
            rates[ex].append(len(pages) / max(time.process_time() - t0, 1e-9))
    return {ex: (texts[ex], statistics.median(rates[ex])) for ex in extractors}


def load_pages() -> tuple[list[dict], list[str]]:
    ensure_built()
    pages = web_pages()
    return pages, [decode_html(Path(p["path"]).read_bytes(), p.get("charset")) for p in pages]


def evaluate(extractors, repeats: int = 3) -> dict:
    pages, htmls = load_pages()
    results = {}
    for ex, (texts, rate) in run_extractors(extractors, pages, htmls, repeats).items():
        scores = [score_page(p, t) for p, t in zip(pages, texts)]
        groups = {"all": scores,
                  "other origins (choose on these)": [s for s, p in zip(scores, pages) if not is_trafilatura_page(p)],
                  "trafilatura's own pages (its dev set)": [s for s, p in zip(scores, pages) if is_trafilatura_page(p)]}
        for lg in LANG_GROUPS:
            groups[f"lang {lg}"] = [s for s, p in zip(scores, pages) if lang_group(p.get("lang")) == lg]
        results[ex] = {"rate": rate, "groups": {g: aggregate(s) for g, s in groups.items() if s},
                       "scores": scores, "pages": pages}
    return results


def _fmt(v, spec=".1f") -> str:
    return "-" if v != v else format(v, spec)  # NaN -> '-'


def print_report(results: dict) -> None:
    exs = list(results)
    print("trafilatura's own realworld pages are its development set (trafilatura is favoured on them);")
    print("choose on 'other origins'. empty: articles with no text. %: of phrases; P/R/F1: mean over gold pages.\n")
    cols = ["pages", "empty", "must%", "bp%", "gold", "tokP", "tokR", "tokF1", "chrP", "chrR", "chrF1"]
    groups = list(next(iter(results.values()))["groups"])
    for g in groups:
        print(f"== {g}")
        print(f"{'extractor':<12}" + "".join(f"{c:>7}" for c in cols))
        for ex in exs:
            a = results[ex]["groups"].get(g)
            if not a:
                continue
            vals = [str(a["pages"]), str(a["empty"]), _fmt(a["must"]), _fmt(a["boilerplate"]), str(a["gold_pages"]),
                    *(_fmt(a[f"{k}_{m}"]) for k in ("tok", "chr") for m in "prf")]
            print(f"{ex:<12}" + "".join(f"{v:>7}" for v in vals))
        print()
    print("== speed (pages per CPU second, one process, median of repeats)")
    for ex in exs:
        line = f"{ex:<12}{results[ex]['rate']:>9.1f}"
        for other in ("resiliparse", "trafilatura"):
            if ex == "grist" and other in results:
                line += f"   grist/{other} = {results[ex]['rate'] / results[other]['rate']:.2f}x"
        print(line)


def print_misses(results: dict, extractor: str) -> None:
    r = results[extractor]
    print(f"\n== {extractor}: missed must phrases / boilerplate left / empty pages")
    for p, s in zip(r["pages"], r["scores"]):
        if s["empty"]:
            print(f"  EMPTY {p['name']}")
        for m in s["must_miss"]:
            print(f"  miss  {p['name']}: {m[:90]!r}")
        for m in s["bp_left"]:
            print(f"  left  {p['name']}: {m[:90]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--extractors", default=",".join(("grist", "trafilatura", "resiliparse")))
    ap.add_argument("--misses", default=None, help="list the failing phrases of this extractor")
    args = ap.parse_args()
    exs = [e for e in args.extractors.split(",") if e]
    unknown = set(exs) - set(EXTRACTORS)
    if unknown:
        sys.exit(f"unknown extractor(s): {', '.join(sorted(unknown))}; expected {', '.join(EXTRACTORS)}")
    results = evaluate(exs, args.repeats)
    print_report(results)
    if args.misses:
        print_misses(results, args.misses)


if __name__ == "__main__":
    main()
