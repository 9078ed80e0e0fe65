"""The real-data evaluation set (data/real/build.py): built from pinned registry packages, in the
layout the benchmarks and tests read through data/real/realset.py, and byte-identical on rebuild."""

from __future__ import annotations

import hashlib
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from data.real import realset

ROOT = Path(__file__).resolve().parents[1]
ROW_KEYS = {"name", "file", "url", "lang", "must", "must_not", "gold", "origin", "license", "path"}


@pytest.fixture(scope="module")
def built() -> Path:
    return realset.ensure_built()


def _visible(doc: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", doc)))


def test_pages_have_files_and_phrases(built):
    pages = realset.web_pages()
    assert len(pages) >= 100
    assert len({p["name"] for p in pages}) == len(pages)
    for p in pages:
        assert set(p) == ROW_KEYS, p["name"]
        assert Path(p["path"]).is_file() and Path(p["path"]).stat().st_size > 1000, p["name"]
        assert all(isinstance(s, str) and s for s in p["must"] + p["must_not"]), p["name"]
        assert p["origin"].split("==")[0], p["name"]
    with_phrases = [p for p in pages if p["must"] or p["must_not"]]
    assert len(with_phrases) >= 95
    assert {"de", "en", "fr", "zh"} <= {p["lang"] for p in with_phrases}
    # the gold phrases belong to their pages: nearly all must-appear phrases are in the page's own text
    # (measured: 194 of 198 trafilatura phrases; the rest differ by non-breaking spaces or entities)
    # full gold main texts (for character / token F1), in several scripts
    with_gold = [p for p in pages if p["gold"] is not None]
    assert len(with_gold) >= 20 and all(isinstance(p["gold"], str) and p["gold"].strip() for p in with_gold)
    assert {"en", "zh", "ja"} <= {p["lang"] for p in with_gold}
    musts = [(p, m) for p in with_phrases for m in p["must"]]
    found = sum(re.sub(r"\s+", " ", m) in _visible(Path(p["path"]).read_bytes().decode("utf-8", "replace")) for p, m in musts)
    assert found >= 0.95 * len(musts)


def _digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_rebuild_is_byte_identical(built, tmp_path):
    env = {**os.environ, "GRIST_REAL_DIR": str(tmp_path / "again")}
    res = subprocess.run([sys.executable, str(ROOT / "data" / "real" / "build.py"), "--force"], env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert _digest(tmp_path / "again") == _digest(built)


def test_warcs_are_real_archives(built):
    from warcio.archiveiterator import ArchiveIterator

    warcs = {w["file"]: w for w in realset.warcs()}
    assert sum(w["format"] != "brotli" for w in warcs.values()) >= 25
    assert all(Path(w["path"]).is_file() and w["origin"] and w["notes"] for w in warcs.values())
    # a response whose body is still gzip-encoded (Content-Encoding: gzip), as the reader must decode
    with open(warcs["pywb-example2.warc.gz"]["path"], "rb") as f:
        gz = [r.raw_stream.read() for r in ArchiveIterator(f)
              if r.rec_type == "response" and r.http_headers.get_header("Content-Encoding") == "gzip"]
    assert gz and gz[0].startswith(b"\x1f\x8b")
    # the malformed status line the issue names, exactly as shipped
    assert b"HTTP/1.0 302 \r\r\n" in Path(warcs["pywb-missing-status-text.warc"]["path"]).read_bytes()


def test_chinese_text_holds_pages_with_link_lines(built):
    docs = realset.zh_texts()
    by_file = {}
    for d in docs:
        assert d["id"] and d["text"].strip() and d["origin"]
        by_file.setdefault(d["id"].split("/")[0], []).append(d)
    assert len(by_file["gne"]) >= 60 and len(by_file["chardet"]) >= 400 and len(by_file["fortunes-zh"]) >= 5000
    assert {"simplified", "traditional"} == {d["script"] for d in by_file["chardet"]}
    # scraped pages keep their navigation: most gne pages have dozens of short link-title lines
    short_lines = [sum(len(ln) <= 8 for ln in d["text"].splitlines()) for d in by_file["gne"]]
    assert sorted(short_lines)[len(short_lines) // 2] >= 30


def test_charset_pages_are_encoded_as_declared(built):
    pages = realset.charset_pages()
    assert {(p["encoding"], p["declared"]) for p in pages} >= {
        (e, d) for e in ("gbk", "big5", "shift_jis") for d in ("meta", "header", "none")}
    for p in pages:
        raw = Path(p["path"]).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        decoded = raw.decode(p["encoding"])
        assert ("charset=" in decoded.lower()) == (p["declared"] == "meta"), p["file"]
        assert ("charset=" in p["http_content_type"].lower()) == (p["declared"] == "header"), p["file"]
        lines = p["expected_text"].splitlines()
        assert len(p["expected_text"]) >= 250
        visible = _visible(decoded)
        assert all(ln in visible for ln in lines), p["file"]
