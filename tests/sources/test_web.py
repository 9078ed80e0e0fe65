"""WARC/WET reader on real WARC files written with warcio (gzip per record, as Common Crawl)."""

from __future__ import annotations

import gzip

import pytest

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc
from pipelines.sources.web import read_web
from tests.sources.fixtures import html_page, paragraph, web_records, wet_records, write_warc

SRC = SourceConfig(name="web", kind="web", paths=["x"])
CFG = ReadConfig()


def _read(path, cfg=CFG):
    return list(read_web(str(path), SRC, cfg))


def _reasons(recs):
    return ["doc" if isinstance(r, Doc) else r.reason for r in recs]


@pytest.mark.parametrize("gz", [True, False])
def test_html_responses_become_main_text(tmp_path, gz):
    path = write_warc(tmp_path / ("a.warc.gz" if gz else "a.warc"), web_records(3), gzip_records=gz)
    recs = _read(path)
    # warcinfo and request records are not documents: exactly one record per response
    assert _reasons(recs) == ["doc"] * 3
    d = recs[1]
    assert paragraph(10) in d.text and "Article 1" in d.text
    for junk in ("SCRIPT_JUNK", "color: red", "About us"):  # script, style, nav gone
        assert junk not in d.text
    assert d.meta["url"] == "https://example.com/page/1"
    assert d.meta["content_type"] == "text/html" and d.meta["charset"] == "utf-8"
    assert d.meta["warc_record_id"].startswith("<urn:uuid:") and d.meta["date"].startswith("20")
    assert d.id is None  # position-derived ids


def test_status_content_type_and_empty_extraction(tmp_path):
    recs = [
        {"url": "https://a/404", "status": "404 Not Found", "body": html_page(1).encode()},
        {"url": "https://a/301", "status": "301 Moved Permanently", "body": b""},
        {"url": "https://a/img.png", "content_type": "image/png", "body": b"\x89PNG\r\n\x1a\n\x00\x00"},
        {"url": "https://a/empty", "body": b"<html><body><script>x()</script></body></html>"},
        {"type": "metadata", "url": "https://a/ok", "content_type": "application/warc-fields", "body": b"fetchTimeMs: 5\r\n"},
        {"url": "https://a/ok", "body": html_page(2).encode()},
    ]
    out = _read(write_warc(tmp_path / "b.warc.gz", recs))
    assert _reasons(out) == ["http_status_404", "http_status_301", "non_html", "empty_extraction", "doc"]
    assert out[0].meta["url"] == "https://a/404"


def test_charset_from_header_meta_and_detection(tmp_path):
    text = "Ça coûte très cher à Zürich, déjà vu. " * 20
    page = lambda cs: html_page(0, charset=cs, extra=f"<p>{text}</p>").encode("cp1252")  # noqa: E731
    recs = [
        {"url": "https://a/header", "content_type": "text/html; charset=windows-1252", "body": page(None)},
        {"url": "https://a/meta", "content_type": "text/html", "body": page("windows-1252")},
        {"url": "https://a/sniff", "content_type": "text/html", "body": page(None)},
        {"url": "https://a/utf8", "content_type": "text/html", "body": html_page(0, charset=None, extra=f"<p>{text}</p>").encode()},
    ]
    out = _read(write_warc(tmp_path / "c.warc.gz", recs))
    assert _reasons(out) == ["doc"] * 4
    for d in out:
        assert "Ça coûte très cher à Zürich" in d.text, d.meta
    assert out[0].meta["charset_source"] == "header" and out[1].meta["charset_source"] == "detected"


def test_wet_conversion_records_kept_as_is(tmp_path):
    path = write_warc(tmp_path / "d.warc.wet.gz", wet_records(4))
    out = _read(path)
    assert _reasons(out) == ["doc"] * 4
    assert out[2].text == f"{paragraph(2)}\n{paragraph(1002)}\n"
    assert out[2].meta["url"] == "https://example.org/doc/2" and out[2].meta["content_type"] == "text/plain"


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_warc_yields_records_before_the_cut(tmp_path, gz):
    full = write_warc(tmp_path / ("full.warc.gz" if gz else "full.warc"), web_records(6), gzip_records=gz)
    data = full.read_bytes()
    # cut inside the last response: the five before it are whole, then exactly one Drop
    cut = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    cut.write_bytes(data[: len(data) - 300])
    out = _read(cut)
    assert _reasons(out) == ["doc"] * 5 + ["truncated_warc"]
    assert [d.meta["url"] for d in out[:5]] == [f"https://example.com/page/{i}" for i in range(5)]


def test_truncated_inside_record_headers(tmp_path):
    full = write_warc(tmp_path / "full.warc", web_records(2), gzip_records=False)
    data = full.read_bytes()
    second = data.index(b"WARC/1.0", data.index(b"https://example.com/page/1") - 400)
    (tmp_path / "cut.warc").write_bytes(data[: second + 40])  # inside the 2nd request's header block
    assert _reasons(_read(tmp_path / "cut.warc")) == ["doc", "truncated_warc"]


def test_gzip_trailer_cut_and_garbage(tmp_path):
    full = write_warc(tmp_path / "full.warc.gz", web_records(3))
    data = full.read_bytes()
    (tmp_path / "trailer.warc.gz").write_bytes(data[:-4])  # records whole, gzip CRC/size cut off
    assert _reasons(_read(tmp_path / "trailer.warc.gz")) == ["doc"] * 3 + ["truncated_warc"]
    (tmp_path / "garbage.warc.gz").write_bytes(data + b"this is not gzip at all")
    assert _reasons(_read(tmp_path / "garbage.warc.gz")) == ["doc"] * 3 + ["corrupt_gzip"]


def test_empty_and_non_warc_files(tmp_path):
    (tmp_path / "empty.warc").write_bytes(b"")
    (tmp_path / "empty.warc.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "junk.warc").write_bytes(b"hello, I am not a WARC file\n" * 10)
    assert _reasons(_read(tmp_path / "empty.warc")) == ["empty_file"]
    assert _reasons(_read(tmp_path / "empty.warc.gz")) == ["empty_file"]
    assert _reasons(_read(tmp_path / "junk.warc")) == ["invalid_warc"]


def test_giant_html_record_is_read_bounded(tmp_path):
    big = html_page(0, extra="<p>" + "word " * 400_000 + "</p>").encode()  # ~2 MB page
    path = write_warc(tmp_path / "big.warc.gz", [{"url": "https://a/big", "body": big}, *web_records(1, start=5)])
    out = _read(path, ReadConfig(max_doc_bytes=100_000))
    assert _reasons(out) == ["doc", "doc"]
    assert out[0].meta["html_truncated"] is True and len(out[0].text.encode()) <= 400_000
    assert "html_truncated" not in out[1].meta
