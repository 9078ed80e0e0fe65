"""Source reader throughput: generates a few MB per source kind in a temp dir (the test fixtures'
generators), runs each reader in this process and prints docs/s, MB/s of input as stored (compressed)
and MB/s of text produced (what the later stages see). Books, encyclopedia and code read the real
files of the real-data set (`make real`); benchmarks/bench_real_code.py breaks the code row down by
tree and drop reason.

    .venv/bin/python benchmarks/bench_sources.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.real.realset import books, code_trees, ensure_built, wiki_dumps  # noqa: E402
from pipelines.config import ReadConfig, SourceConfig  # noqa: E402
from pipelines.sources.base import Doc  # noqa: E402
from pipelines.sources.registry import get_reader  # noqa: E402
from tests.sources.fixtures import web_records, wet_records, write_warc  # noqa: E402


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def build(d: Path) -> dict[str, tuple[str, list[Path]]]:
    """kind label -> (source kind, input paths)."""
    real_books = books()
    return {
        "web (warc.gz)": ("web", [write_warc(d / "a.warc.gz", web_records(1500))]),
        "web (wet.gz)": ("web", [write_warc(d / "a.warc.wet.gz", wet_records(3000))]),
        # real books and dumps of the real-data set (data/real/books.py, wiki.py): 1992 Gutenberg etexts,
        # calibre / Live Systems Manual / Ubuntu guide EPUBs; gensim's Wikipedia dumps (bz2 as stored)
        "books (real txt)": ("books", [Path(b["path"]) for b in real_books if b["format"] == "txt"]),
        "books (real epub)": ("books", [Path(b["path"]) for b in real_books if b["format"] == "epub"]),
        "encyclopedia (real)": ("encyclopedia", [Path(w["path"]) for w in wiki_dumps()]),
        # real trees of the real-data set (data/real/code_trees.py): pip with _vendor/, npm with node_modules/, ...
        "code (real trees)": ("code", [Path(t["path"]) for t in code_trees()]),
    }


def main() -> None:
    ensure_built()
    cfg = ReadConfig()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, (kind, paths) in build(Path(tmp)).items():
            src = SourceConfig(name="bench", kind=kind, paths=["unused"])
            reader = get_reader(kind)
            size = sum(_size(p) for p in paths)
            t0 = time.perf_counter()
            docs = drops = text_bytes = 0
            for p in paths:
                for rec in reader(str(p), src, cfg):
                    if isinstance(rec, Doc):
                        docs += 1
                        text_bytes += len(rec.text.encode())
                    else:
                        drops += 1
            secs = time.perf_counter() - t0
            rows.append((label, docs, drops, size / 1e6, text_bytes / 1e6, secs))
    print(f"{'source':<20} {'docs':>6} {'drops':>6} {'MB in':>7} {'MB text':>8} {'s':>6} {'docs/s':>9} {'MB in/s':>8} {'MB text/s':>9}")
    for label, docs, drops, mb, mb_text, secs in rows:
        print(f"{label:<20} {docs:>6} {drops:>6} {mb:>7.2f} {mb_text:>8.2f} {secs:>6.2f} {docs / secs:>9,.0f} "
              f"{mb / secs:>8.2f} {mb_text / secs:>9.2f}")


if __name__ == "__main__":
    main()
