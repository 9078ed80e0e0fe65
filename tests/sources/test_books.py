"""Books reader: Gutenberg-style text files (plain and gzip) and real EPUB zips."""

from __future__ import annotations

import codecs
import gzip
import resource
import zipfile

import pytest

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc
from pipelines.sources.books import read_books, strip_gutenberg
from pipelines.sources.epub import decode_markup
from pipelines.sources.gutenberg import gutenberg_book
from pipelines.sources.textnorm import normalize_text
from tests.sources.fixtures import book_body, gutenberg_text, paragraph, write_big_line, write_epub

SRC = SourceConfig(name="books", kind="books", paths=["x"])
CFG = ReadConfig()


def _read(path, cfg=CFG):
    return list(read_books(str(path), SRC, cfg))


def _reasons(recs):
    return ["doc" if isinstance(r, Doc) else r.reason for r in recs]


@pytest.mark.parametrize("name", ["moby.txt", "moby.txt.gz"])
def test_gutenberg_header_and_footer_removed(tmp_path, name):
    body = book_body(1)
    data = gutenberg_text("Moby Dick", body).encode()
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    [doc] = _read(tmp_path / name)
    assert doc.text == body
    assert doc.meta == {"encoding": "utf-8", "encoding_fallback": False, "gutenberg_markers": True,
                        "title": "Moby Dick"}


@pytest.mark.parametrize("start,end", [
    ("*** START OF THIS PROJECT GUTENBERG EBOOK ALICE ***", "*** END OF THIS PROJECT GUTENBERG EBOOK ALICE ***"),
    ("***START OF THE PROJECT GUTENBERG E-BOOK ALICE***", "End of the Project Gutenberg EBook of Alice\n\n*** END OF THE PROJECT"),
    ("*** START OF THE PROJECT GUTENBERG EBOOK\nALICE IN WONDERLAND ***", "*** END OF THE PROJECT GUTENBERG EBOOK ALICE ***"),
    ("*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*", "End of Project Gutenberg's Alice, by Lewis Carroll"),
])
def test_marker_variants(start, end):
    text, marked = strip_gutenberg(f"Header line\nLicence blah\n{start}\n\nThe real text.\nMore.\n\n{end}\nFOOTER\n")
    assert marked and text == "The real text.\nMore."


def test_text_without_markers_kept_whole(tmp_path):
    body = book_body(2)
    (tmp_path / "plain.txt").write_text(body, encoding="utf-8")
    [doc] = _read(tmp_path / "plain.txt")
    assert doc.text == body and doc.meta["gutenberg_markers"] is False


def test_legacy_encoding_detected_and_counted(tmp_path):
    body = "Il était une fois, à Noël, un garçon très célèbre qui mangeait des crêpes. " * 30
    (tmp_path / "fr.txt").write_bytes(gutenberg_text("Conte", body).encode("cp1252", errors="replace"))
    [doc] = _read(tmp_path / "fr.txt")
    assert "à Noël, un garçon très célèbre" in doc.text
    assert doc.meta["encoding_fallback"] is True and doc.meta["encoding"] != "utf-8"


def test_empty_and_truncated_text_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt.gz").write_bytes(gzip.compress(b"\n\n  \n"))
    data = gzip.compress(gutenberg_text("X", book_body(3, chapters=20)).encode())
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "only_licence.txt").write_text(gutenberg_text("Y", ""))
    assert _reasons(_read(tmp_path / "empty.txt")) == ["empty_file"]
    assert _reasons(_read(tmp_path / "blank.txt.gz")) == ["empty_file"]
    assert _reasons(_read(tmp_path / "cut.txt.gz")) == ["truncated_gzip"]
    assert _reasons(_read(tmp_path / "only_licence.txt")) == ["empty_text"]


def test_giant_single_line_book_is_read_bounded(tmp_path):
    path = write_big_line(tmp_path / "huge.txt", 100 * 1024 * 1024)
    cfg = ReadConfig(max_doc_bytes=1_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [doc] = _read(path, cfg)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert doc.meta["input_truncated"] is True and len(doc.text) == 2 * cfg.max_doc_bytes
    assert grown_mb < 50, f"reading a 100 MB line grew RSS by {grown_mb:.0f} MB"


def test_epub_chapters_in_spine_order(tmp_path):
    chapters = {"a_epilogue.xhtml": paragraph(3), "b_intro.xhtml": paragraph(1), "c_middle.xhtml": paragraph(2)}
    spine = ["b_intro.xhtml", "c_middle.xhtml", "a_epilogue.xhtml"]  # not file-name order
    path = write_epub(tmp_path / "book.epub", chapters, spine, title="Spine Order", author="Jane Doe")
    [doc] = _read(path)
    assert doc.text.index(paragraph(1)) < doc.text.index(paragraph(2)) < doc.text.index(paragraph(3))
    assert doc.meta["title"] == "Spine Order" and doc.meta["author"] == "Jane Doe"
    assert doc.meta["chapters"] == 3 and doc.meta["missing_chapters"] == 0 and doc.meta["language"] == "en"
    with zipfile.ZipFile(path) as zf:  # the fixture is a well-formed OCF container
        assert zf.namelist()[0] == "mimetype"


def test_epub_missing_chapter_counted(tmp_path):
    full = write_epub(tmp_path / "full.epub", {"one.xhtml": paragraph(1), "two.xhtml": paragraph(2)},
                      ["one.xhtml", "two.xhtml"], opf_dir="")
    with zipfile.ZipFile(full) as src, zipfile.ZipFile(tmp_path / "b.epub", "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith("two.xhtml"):  # the spine still names it
                dst.writestr(info, src.read(info))
    [doc] = _read(tmp_path / "b.epub")
    assert doc.text == paragraph(1) and doc.meta["missing_chapters"] == 1 and doc.meta["chapters"] == 1


def test_corrupt_epubs(tmp_path):
    good = write_epub(tmp_path / "good.epub", {"one.xhtml": paragraph(1)}, ["one.xhtml"]).read_bytes()
    (tmp_path / "notzip.epub").write_bytes(b"this is not a zip file" * 10)
    (tmp_path / "cut.epub").write_bytes(good[: len(good) // 2])
    with zipfile.ZipFile(tmp_path / "noopf.epub", "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("META-INF/container.xml", '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                    '<rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>')
    with zipfile.ZipFile(tmp_path / "badxml.epub", "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr("META-INF/container.xml", "<container><rootfiles><rootfile full-path=")
    for name in ("notzip", "cut", "noopf", "badxml"):
        assert _reasons(_read(tmp_path / f"{name}.epub")) == ["corrupt_epub"], name


@pytest.mark.parametrize("start,end", [
    ("*END THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*",
     "***START**THE SMALL PRINT!**FOR PUBLIC DOMAIN EBOOKS**START***"),  # early-2000s: small print last
    ("***START OF THE PROJECT GUTENBERG EBOOK ALICE***", "*** START: FULL LICENSE ***"),
    ("*** START OF THIS PROJECT GUTENBERG EBOOK ALICE ***", "*End of The Project Gutenberg Etext of Alice"),
])
def test_older_marker_generations(start, end):
    text, marked = strip_gutenberg(f"Header\r\n{start}\r\n\r\nThe real text.\r\nMore.\r\n\r\n{end}\r\nFOOTER\r\n")
    assert marked and text == "The real text.\r\nMore."


def test_credits_and_transcribers_notes_removed_prose_kept():
    body = ("Produced by Ann Reader, Bob Proof and the Online Distributed\nProofreading Team at http://www.pgdp.net\n\n\n\n"
            "CHAPTER I\n\nThe tower had been produced by [Transcriber's Note: sic] local masons in 1850.\n\n"
            "It stood for a century.\n\n\n\n"
            "Transcriber's Notes:\n\nObvious typographical errors have been silently corrected.\n")
    text, _ = strip_gutenberg(gutenberg_text("Tower", body))
    assert text == "CHAPTER I\n\nThe tower had been produced by local masons in 1850.\n\nIt stood for a century."


def test_header_metadata():
    header = ("The Project Gutenberg EBook of Essays, by Michel de Montaigne\n\nTitle: The Essays of Montaigne,\n"
              "       Complete\n\nAuthor: Michel de Montaigne\n\nLanguage: French\n\n"
              "*** START OF THIS PROJECT GUTENBERG EBOOK ESSAYS ***\n\nBody.\n")
    assert gutenberg_book(header) == ("Body.", True, {"title": "The Essays of Montaigne, Complete",
                                                      "author": "Michel de Montaigne", "language": "fr"})


def test_control_characters_and_newlines_normalised():
    assert normalize_text("a\r\nb\rc\x00d\x1a\te\x0c\n") == ("a\nb\ncd\te\n", True, True)
    assert normalize_text("plain\ttext\n") == ("plain\ttext\n", False, False)


def test_epub_encoding_declarations():
    text = "Let’s go — now"
    assert decode_markup(b"<?xml version='1.0' encoding='utf-8'?><p>" + text.encode() + b"</p>")[1] == "utf-8"
    assert decode_markup(b'<?xml version="1.0" encoding="windows-1252"?><p>' + text.encode("cp1252") + b"</p>") == (
        f'<?xml version="1.0" encoding="windows-1252"?><p>{text}</p>', "cp1252")
    assert decode_markup(codecs.BOM_UTF16_LE + "<p>é</p>".encode("utf-16-le"))[0] == "<p>é</p>"
    assert decode_markup("<p>sans déclaration</p>".encode())[1] == "utf-8"  # the XML default
