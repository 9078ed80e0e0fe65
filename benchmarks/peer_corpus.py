"""One corpus of real text for the side-by-side peer benchmarks (grist vs datatrove / rensa).

    .venv/bin/python benchmarks/peer_corpus.py [--mb 64]    # prints the folder

Documents come from the real-data set (data/real): Gutenberg books cut into chapters of about
8 KB, Wikipedia articles (grist's wikitext reader), Chinese web texts, and source files of the
real repositories. They are repeated until the corpus holds `--mb` MB of text; every repetition
shuffles each document's paragraphs with a seeded generator, so copies are near-duplicates at
most, never exact ones. Written as `NN.jsonl.gz` files ({"id", "text", "source"}), 16 of them, so
both tools can split the work the same way. Cached in ~/.cache/grist/peer-corpus/<mb>mb.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.peers import CACHE  # noqa: E402

FILES = 16
CODE_EXT = {".py", ".c", ".h", ".js", ".rs", ".go", ".java", ".rb", ".sh", ".md", ".txt"}


def _chunks(text: str, size: int = 8000) -> list[str]:
    out, cur, n = [], [], 0
    for para in text.split("\n\n"):
        cur.append(para)
        n += len(para)
        if n >= size:
            out.append("\n\n".join(cur))
            cur, n = [], 0
    if n > 500:
        out.append("\n\n".join(cur))
    return out


def real_documents() -> list[dict]:
    """The distinct real documents, in a fixed order."""
    from data.real import realset
    from pipelines.config import ReadConfig, SourceConfig
    from pipelines.sources.base import Doc

    realset.ensure_built()
    docs: list[dict] = []
    for b in realset.books():
        if b["format"] == "txt":
            text = Path(b["path"]).read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
            docs += [{"source": "books", "text": t} for t in _chunks(text)]
    from pipelines.sources.encyclopedia import read_encyclopedia

    for w in realset.wiki_dumps():
        src = SourceConfig(name="wiki", kind="encyclopedia", paths=[w["path"]])
        docs += [{"source": "wiki", "text": d.text} for d in read_encyclopedia(w["path"], src, ReadConfig())
                 if isinstance(d, Doc)]
    docs += [{"source": "zh", "text": r["text"]} for r in realset.zh_texts() if len(r.get("text", "")) > 200]
    for tree in realset.code_trees():
        for p in sorted(Path(tree["path"]).rglob("*")):
            if p.suffix in CODE_EXT and p.is_file() and 200 < p.stat().st_size < 200_000:
                docs.append({"source": "code", "text": p.read_text(encoding="utf-8", errors="replace")})
    return docs


def build(mb: int) -> Path:
    dest = CACHE / "peer-corpus" / f"{mb}mb"
    if (dest / "_DONE").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    base = real_documents()
    rng = random.Random(0)
    target, total, rep = mb * 1_000_000, 0, 0
    outs = [gzip.open(dest / f"{i:02d}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) for i in range(FILES)]
    n = 0
    while total < target:
        for d in base:
            paras = d["text"].split("\n\n")
            if rep:
                rng.shuffle(paras)
            text = "\n\n".join(paras)
            outs[n % FILES].write(json.dumps({"id": f"d{n:08d}", "text": text, "source": d["source"]},
                                             ensure_ascii=False) + "\n")
            n += 1
            total += len(text.encode())
            if total >= target:
                break
        rep += 1
    for f in outs:
        f.close()
    (dest / "_DONE").write_text(json.dumps({"docs": n, "text_bytes": total, "distinct": len(base)}) + "\n")
    return dest


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=64)
    print(build(ap.parse_args().mb))
