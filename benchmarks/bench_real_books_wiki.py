"""Books and encyclopedia readers on the real-data set (`make real`): per file, what was read, what is
left that should not be (Gutenberg boilerplate lines in books, wiki / HTML markup tokens in
articles) and how fast; then the wikitext cleaner alone on the dumps' article wikitext.

    .venv/bin/python benchmarks/bench_real_books_wiki.py
"""

from __future__ import annotations

import bz2
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree  # noqa: E402

from data.real.realset import books, ensure_built, wiki_dumps  # noqa: E402
from pipelines.config import ReadConfig, SourceConfig  # noqa: E402
from pipelines.sources.base import Doc  # noqa: E402
from pipelines.sources.books import read_books  # noqa: E402
from pipelines.sources.encyclopedia import read_encyclopedia  # noqa: E402
from pipelines.sources.gutenberg import boilerplate_lines  # noqa: E402
from pipelines.sources.reader_config import DEFAULT_DROP_SECTIONS  # noqa: E402
from pipelines.sources.textnorm import normalize_text  # noqa: E402
from pipelines.sources.wikitext import markup_tokens, wikitext_to_text  # noqa: E402


def _run(reader, kind: str, path: str, check) -> tuple[int, int, int, float]:
    """(docs, drops, leftovers found by `check`, seconds)."""
    src = SourceConfig(name="bench", kind=kind, paths=["unused"])
    t0 = time.perf_counter()
    recs = list(reader(path, src, ReadConfig()))
    secs = time.perf_counter() - t0
    docs = [r for r in recs if isinstance(r, Doc)]
    left = sum(check(normalize_text(d.text)[0]) for d in docs)  # the text as the read stage hands it on
    return len(docs), len(recs) - len(docs), left, secs


def _wikitext(paths: list[str]) -> list[str]:
    texts = []
    for path in paths:
        for _, page in etree.iterparse(bz2.open(path), tag="{*}page"):
            text = page.find("{*}revision/{*}text")
            if page.findtext("{*}ns") == "0" and page.find("{*}redirect") is None and text is not None and text.text:
                texts.append(text.text)
            page.clear()
    return texts


def main() -> None:
    ensure_built()
    print(f"{'file':<72} {'docs':>5} {'drops':>5} {'left':>5} {'MB':>6} {'MB/s':>6}")
    totals: dict[str, list[float]] = {}
    jobs = [("books", read_books, "boilerplate lines", b["path"], lambda t: len(boilerplate_lines(t))) for b in books()]
    jobs += [("encyclopedia", read_encyclopedia, "markup tokens", w["path"], lambda t: sum(markup_tokens(t).values()))
             for w in wiki_dumps()]
    for kind, reader, what, path, check in jobs:
        docs, drops, left, secs = _run(reader, kind, path, check)
        mb = Path(path).stat().st_size / 1e6
        t = totals.setdefault(f"{kind} ({what} left)", [0, 0, 0, 0.0, 0.0])
        for i, v in enumerate((docs, drops, left, mb, secs)):
            t[i] += v
        print(f"{Path(path).name:<72} {docs:>5} {drops:>5} {left:>5} {mb:>6.2f} {mb / secs:>6.2f}")
    for label, (docs, drops, left, mb, secs) in totals.items():
        print(f"{'TOTAL ' + label:<72} {docs:>5} {drops:>5} {left:>5} {mb:>6.2f} {mb / secs:>6.2f}")
    texts = _wikitext([w["path"] for w in wiki_dumps()])
    sections = [n for names in DEFAULT_DROP_SECTIONS.values() for n in names]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    t0 = time.perf_counter()
    outs = [wikitext_to_text(t, "drop", sections)[0] for t in texts]
    secs = time.perf_counter() - t0
    print(f"wikitext cleaner alone: {len(texts)} articles, {mb:.2f} MB of wikitext, {mb / secs:.2f} MB/s, "
          f"articles with markup left: {sum(bool(markup_tokens(o)) for o in outs)}")


if __name__ == "__main__":
    main()
