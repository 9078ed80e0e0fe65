"""The books reader on real books from the real-data set (`make real`, data/real/books.py): 1992-era
Gutenberg etexts from the Canterbury corpus (Brotli's sdist), calibre's Quick Start Guide, the Live
Systems Manual and the Ubuntu Packaging Guide EPUBs (Debian). Each file's index row says which
phrases must stay, which boilerplate must go and what the meta must hold."""

from __future__ import annotations

import zipfile

import pyarrow.parquet as pq
import pytest
from resiliparse.parse.encoding import detect_encoding

from data.real.realset import books, ensure_built
from pipelines.config import ReadConfig, SourceConfig
from pipelines.read_stage import ReadPartTask
from pipelines.sources.base import Doc
from pipelines.sources.books import read_books
from pipelines.sources.epub import decode_markup
from pipelines.sources.gutenberg import boilerplate_lines, gutenberg_book
from pipelines.sources.reader_config import BooksConfig

SRC = SourceConfig(name="books", kind="books", paths=["x"])


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    ensure_built()
    return {r["file"]: r for r in books()}


def _doc(path: str, cfg: ReadConfig = ReadConfig()) -> Doc:
    [doc] = read_books(path, SRC, cfg)
    assert isinstance(doc, Doc), doc
    return doc


def test_every_real_book_keeps_its_text_and_loses_its_boilerplate(rows):
    assert len(rows) == 21
    for name, row in rows.items():
        doc = _doc(row["path"])
        for phrase in row["must"]:
            assert phrase in doc.text, (name, phrase)
        for phrase in row["must_not"]:
            assert phrase not in doc.text, (name, phrase)
        assert {k: doc.meta.get(k) for k in row["meta"]} == row["meta"], name
        assert boilerplate_lines(doc.text) == [], name


def test_1992_preamble_and_star_end_footer(rows):
    text = open(rows["plrabn12.txt"]["path"], encoding="ascii", newline="").read()
    body, marked, meta = gutenberg_book(text)
    # the preamble ends with the paragraph naming the October 1991 etext; the poem's title follows
    assert body.startswith("Paradise Lost \r\n") and marked
    assert meta == {"title": "Paradise Lost", "author": "John Milton"}
    text = open(rows["lcet10.txt"]["path"], encoding="ascii", newline="").read()
    body, marked, meta = gutenberg_book(text)
    assert body.startswith("WORKSHOP ON ELECTRONIC TEXTS") and marked
    assert body.rstrip().endswith("[A few of the italics (when used for emphasis) were replaced by CAPS mh]")
    assert "*End of" not in body and meta == {"title": "LOC WORKSHOP ON ELECTRONIC TEXTS"}


def test_crlf_and_dos_eof_normalised_and_counted_by_the_read_stage(rows, tmp_path):
    raw = open(rows["alice29.txt"]["path"], "rb").read()
    assert raw.count(b"\r\n") == 3608 and raw.endswith(b"\x1a")
    paths = [rows[f]["path"] for f in ("alice29.txt", "asyoulik.txt", "plrabn12.txt")]
    task = ReadPartTask([SourceConfig(name="books", kind="books", paths=paths)], ReadConfig(), tmp_path)
    counters = {}
    texts = []
    for i, path in enumerate(paths):
        stats = task.run({"part": f"books-{i:05d}", "source": "books", "path": path, "file_index": i, "size": 0})
        for k, v in stats["counters"].items():
            counters[k] = counters.get(k, 0) + v
        texts += pq.read_table(tmp_path / "kept" / f"books-{i:05d}.parquet").column("text").to_pylist()
    # alice and Paradise Lost have CRLF and 0x1a; As You Like It neither (tabs stay)
    assert counters == {"normalised_newlines": 2, "removed_control_chars": 2}
    assert all("\r" not in t and "\x1a" not in t for t in texts)
    assert texts[0].rstrip().endswith("THE END") and "\tDRAMATIS PERSONAE" in texts[1]


def test_utf8_declared_in_the_xml_declaration_only(rows):
    path = rows["calibre-quick-start-eng.epub"]["path"]
    with zipfile.ZipFile(path) as zf:
        data = zf.read("text/common_tasks.xhtml")
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>") and b"charset" not in data
    # what content detection alone says about this file: a legacy code page, so "Let’s" -> "Letâ€™s"
    assert detect_encoding(data, from_html_meta=True) != "utf-8"
    text, enc = decode_markup(data)
    assert enc == "utf-8" and "Let’s take a look" in text
    assert "Let’s take a look at a few of the common tasks" in _doc(path).text


def test_spine_read_once_toc_and_matter_skipped(rows):
    doc = _doc(rows["live-manual-en.epub"]["path"])
    # 190 spine items name 46 files; each file is read once
    assert doc.meta["skipped"]["repeated"] == 143 and doc.text.count("This manual serves as a single access point") == 1
    assert "1.1 For the impatient\n1.2 Terms" not in doc.text  # index.xhtml, the table of contents
    calibre = _doc(rows["calibre-quick-start-eng.epub"]["path"])
    assert calibre.meta["skipped"] == {"cover": 1, "matter_or_toc": 2}  # toc.xhtml, the copyright title page
    assert calibre.text.startswith("Introduction\n")
    guide = _doc(rows["ubuntu-packaging-guide.epub"]["path"])
    assert guide.meta["skipped"] == {"nonlinear": 108} and "\nNavigation\n" not in guide.text
    assert guide.text.startswith("Ubuntu Packaging Guide\n\nWelcome to the Ubuntu Packaging")


def test_front_matter_and_nonlinear_configurable(rows):
    keep_all = ReadConfig(books=BooksConfig(skip_matter=[], epub_nonlinear=True))
    calibre = _doc(rows["calibre-quick-start-eng.epub"]["path"], keep_all)
    assert "Copyright © 2010-2014 John Schember" in calibre.text and "Table of Contents" in calibre.text
    guide = _doc(rows["ubuntu-packaging-guide.epub"]["path"], keep_all)
    assert "skipped" not in guide.meta or "nonlinear" not in guide.meta["skipped"]
    assert "Willkommen" in guide.text  # the German translation, a non-linear spine item
