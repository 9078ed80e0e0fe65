"""Load grist's real-data evaluation set (built by data/real/build.py, `make real`).

The set lives outside the repo in `$GRIST_REAL_DIR` (default `~/.cache/grist/real`):

    web/pages/<name>.html   + web/pages.jsonl      real saved pages; must / must_not phrases, gold text
    web/warc/*              + web/warc/index.json  real WARC / ARC files from package sdists
    web/zh/*.jsonl                                 real Chinese text, one {"id","text","origin"} a line
    web/charset/*.html      + web/charset/index.json  real CJK text as GBK / Big5 / Shift-JIS pages

    from data.real.realset import ensure_built, web_pages
    ensure_built()
    for page in web_pages(): page["path"], page["must"], page["gold"]
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build.py"
# Files whose content decides what the build writes (README, this loader and tests do not).
_NOT_BUILD_INPUTS = {"realset.py", "__init__.py"}


def real_dir() -> Path:
    """Where the set is built: `$GRIST_REAL_DIR`, default `~/.cache/grist/real`."""
    return Path(os.environ.get("GRIST_REAL_DIR") or Path.home() / ".cache" / "grist" / "real")


def fingerprint() -> str:
    """sha256 over the build's inputs (its scripts and gold files): a changed input means a rebuild."""
    h = hashlib.sha256()
    files = [p for p in HERE.glob("*.py") if p.name not in _NOT_BUILD_INPUTS]
    files += [p for p in (HERE / "gold").rglob("*") if p.is_file()]
    for p in sorted(files):
        h.update(p.relative_to(HERE).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def build_info(root: Path | None = None) -> dict | None:
    """The built set's build.json (fingerprint and counts), or None when not built."""
    path = (root or real_dir()) / "build.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_built() -> bool:
    info = build_info()
    return bool(info) and info.get("fingerprint") == fingerprint()


def ensure_built() -> Path:
    """Build the set if it is missing or stale (downloads once, then offline); return its folder."""
    if not is_built():
        res = subprocess.run([sys.executable, str(BUILD)], capture_output=True, text=True)
        if res.returncode != 0:
            last = (res.stderr.strip() or res.stdout.strip() or "no output").splitlines()[-1]
            raise RuntimeError(f"real-data build failed: {last}")
    return real_dir()


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _with_paths(rows: list[dict], base: Path, key: str = "file") -> list[dict]:
    for r in rows:
        r["path"] = str(base / r[key])
    return rows


def web_pages() -> list[dict]:
    """pages.jsonl rows ({"name","file","url","lang","must","must_not","gold","origin",...}) + absolute "path"."""
    web = real_dir() / "web"
    return _with_paths(_jsonl(web / "pages.jsonl"), web)


def _index(base: Path) -> list[dict]:
    """An index.json ({file: {...}}) as rows {"file", ..., "path"}, sorted by file."""
    index = json.loads((base / "index.json").read_text(encoding="utf-8"))
    return _with_paths([{"file": f, **index[f]} for f in sorted(index)], base)


def warcs() -> list[dict]:
    """web/warc/index.json as rows {"file","format","origin","license","notes","path"} (WARC, ARC, a brotli body)."""
    return _index(real_dir() / "web" / "warc")


def zh_texts() -> list[dict]:
    """Every real Chinese document in web/zh/*.jsonl ({"id","text","origin",...}), file by file."""
    return [row for p in sorted((real_dir() / "web" / "zh").glob("*.jsonl")) for row in _jsonl(p)]


def charset_pages() -> list[dict]:
    """web/charset/index.json rows ({"file","encoding","declared","expected_text",...}) + absolute "path"."""
    return _index(real_dir() / "web" / "charset")


def code_trees() -> list[dict]:
    """code/index.json as rows {"repo","origin","license","notes","files","path"} by repo; "path" is the
    unpacked tree (code/<repo>/), "license" the SPDX expression its files should carry."""
    base = real_dir() / "code"
    index = json.loads((base / "index.json").read_text(encoding="utf-8"))
    return [{"repo": repo, **index[repo], "path": str(base / repo)} for repo in sorted(index)]


def books() -> list[dict]:
    """books/index.json as rows {"file","format","origin","license","notes","must","must_not","meta","path"}:
    real Gutenberg etexts (txt) and EPUBs; `must` / `must_not` phrases for the reader's text, `meta`
    what the doc's meta must hold."""
    return _index(real_dir() / "books")


def wiki_dumps() -> list[dict]:
    """wiki/index.json as rows {"file","origin","license","lang","articles","notes","path"}: real
    MediaWiki XML dumps (bz2, as shipped)."""
    return _index(real_dir() / "wiki")
