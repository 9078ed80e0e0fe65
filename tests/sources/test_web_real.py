"""The web reader on real WARC / ARC files shipped in package sdists (the real-data set, `make real`),
checked against warcio, an independent reader: every document record is accounted for (a Doc or a
named Drop, in file order), and each page's text is what warcio's de-chunked, decompressed payload
gives. Then real bodies in the set (a brotli stream, CJK pages) inside WARCs written by warcio."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from data.real.realset import charset_pages, ensure_built, warcs
from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop
from pipelines.sources.charset import decode_page, split_content_type
from pipelines.sources.extract import extract_main_text
from pipelines.sources.web import read_web
from tests.sources.fixtures import cjk_norm

SRC = SourceConfig(name="web", kind="web", paths=["x"])
CFG = ReadConfig()
ARCHIVES = ("warc", "warc.gz", "arc", "arc.gz")
DOC_TYPES = ("response", "resource", "conversion")
# Reasons that name a record (a Drop of one document record); any other would be file-level.
RECORD_REASONS = {"non_html", "empty_extraction", "non_http_response", "malformed_http_header", "bad_content_encoding",
                  "malformed_warc_header", "malformed_warc_record", "unknown_warc_type"}


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    ensure_built()
    return {r["file"]: r for r in warcs()}


@pytest.fixture(scope="module")
def files(rows) -> dict[str, dict]:
    """The archives (WARC, ARC) among them."""
    archives = {name: r for name, r in rows.items() if r["format"] in ARCHIVES}
    assert len(archives) >= 20, sorted(archives)
    return archives


def _read(path, cfg=CFG) -> list:
    return list(read_web(str(path), SRC, cfg))


def _warcio_doc_records(path: str) -> list[dict]:
    """The document records (response / resource / conversion) as warcio reads them: url, HTTP
    status and charset, and the payload de-chunked and decompressed by warcio."""
    data = Path(path).read_bytes()
    try:
        return _warcio_records(data)
    except ArchiveLoadFailed:  # a whole-file gzip stream, which warcio refuses: give it the WARC inside
        return _warcio_records(gzip.decompress(data))


def _warcio_records(data: bytes) -> list[dict]:
    out = []
    for rec in ArchiveIterator(io.BytesIO(data), arc2warc=True):
        if rec.rec_type not in DOC_TYPES:
            continue
        http = rec.http_headers
        try:
            payload = rec.content_stream().read()
        except Exception:  # noqa: BLE001 - warcio on a record it cannot decode: no payload to compare
            payload = None
        out.append({"url": rec.rec_headers.get_header("WARC-Target-URI"),
                    "status": int(http.get_statuscode()) if http and http.get_statuscode().isdigit() else None,
                    "charset": split_content_type(http.get_header("Content-Type") if http else None)[1],
                    "payload": payload})
    return out


def test_every_document_record_is_accounted_for(files):
    """docs + drops = document records, one for one and in order, each Drop with its provenance."""
    total = {"doc": 0, "drop": 0}
    for name, row in files.items():
        ours, theirs = _read(row["path"]), _warcio_doc_records(row["path"])
        assert len(ours) == len(theirs), (name, [getattr(r, "reason", "doc") for r in ours])
        for rec, ref in zip(ours, theirs):
            assert rec.meta["url"] == ref["url"], name
            if isinstance(rec, Drop):
                assert rec.reason in RECORD_REASONS or rec.reason == f"http_status_{ref['status']}", (name, rec.reason)
                assert rec.meta["date"], (name, rec)
                if not row["format"].startswith("arc"):  # ARC records have no record id
                    assert rec.meta["warc_record_id"].startswith("<urn:"), (name, rec)
            total["doc" if isinstance(rec, Doc) else "drop"] += 1
    assert total["doc"] >= 30 and total["drop"] >= 50, total


def test_page_text_is_what_warcio_payload_gives(files):
    """Framing, HTTP parsing, de-chunking and Content-Encoding checked against warcio's own: the
    main text of each page equals the one extracted from warcio's decoded payload."""
    compared = 0
    for name, row in files.items():
        for rec, ref in zip(_read(row["path"]), _warcio_doc_records(row["path"])):
            if isinstance(rec, Doc):
                html, _, _ = decode_page(ref["payload"], ref["charset"])
                assert rec.text == extract_main_text(html, ref["url"], CFG.extractor), (name, ref["url"])
                assert not rec.text.startswith("\x1f\x8b")
                compared += 1
    assert compared >= 30


def test_named_real_faults(files):
    def read(name):
        return _read(files[name]["path"])

    # Content-Encoding: gzip bodies (warcio's example.warc), plain and per-record gzipped
    for name in ("warcio-example.warc", "warcio-example.warc.gz", "pywb-example2.warc.gz"):
        (doc,) = [r for r in read(name) if isinstance(r, Doc)]
        assert doc.meta["content_encoding"] == "gzip" and "This domain is established" in doc.text
        assert "This domain is established to be used for illustrative examples" in doc.text
    # Transfer-Encoding: chunked: no chunk-size line ('001c37', the final '0') in the text
    (doc,) = read("warcio-example-iana.org-chunked.warc")
    assert "Management of the DNS Root Zone" in doc.text and "001c37" not in doc.text
    assert doc.meta["url"] == "http://www.iana.org/"
    # 'HTTP/1.0 302 ' (no reason text, lines ending CR CR LF) is a valid 302, not a truncated file
    out = read("pywb-missing-status-text.warc")
    assert [(r.reason, r.meta["url"]) for r in out] == [("http_status_302", "http://iana.org/bads")]
    # an 'HTTPX/1.1' response is named; the good page before it is read
    out = read("pywb-example-extra.warc")
    assert isinstance(out[0], Doc) and [r.reason for r in out[1:]] == ["non_http_response"]
    # a response whose Content-Length is 2 bytes short of its gzip body, trailer cut: still read
    (doc,) = read("warcio-example-trunc.warc")
    assert "This domain is established" in doc.text and doc.meta["content_encoding"] == "gzip"
    # a whole-file gzip stream (warcio refuses it), also under a name that hides the compression
    for name in ("warcio-example-bad-non-chunked.warc.gz", "warcio-example-bad.warc.gz.bad"):
        assert isinstance(read(name)[0], Doc) and "This domain is established" in read(name)[0].text
    # ARC v1, plain and gzipped: the record gets the url and date of its header line
    for name in ("warcio-example.arc", "warcio-example.arc.gz"):
        (doc,) = read(name)
        assert doc.meta["url"] == "http://example.com/" and doc.meta["date"] == "2014-02-16T05:02:21Z"
        assert "This domain is established" in doc.text
    # ARC records with a length of -1 or 'abc' are named; the record between them is read
    assert [(r.reason, r.meta["url"]) for r in read("warcio-bad.arc")] == [
        ("malformed_warc_header", "http://example.com/"), ("non_http_response", "http://example.com/"),
        ("malformed_warc_header", "http://example.com/")]


def _http_record(w, url: str, body: bytes, *fields: tuple[str, str]):
    http = StatusAndHeaders("200 OK", list(fields), protocol="HTTP/1.1")
    return w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)


def test_real_brotli_body_is_decoded_bounded(rows, files, tmp_path):
    """pywb's brotli test body (58 bytes -> 176 KB) in a WARC written by warcio, between real pages."""
    br = Path(rows["pywb-quickfox_repeated.compressed"]["path"]).read_bytes()
    page = Path(files["warcio-example-iana.org-chunked.warc"]["path"])
    iana = next(r for r in _warcio_doc_records(str(page)) if r["payload"])["payload"]
    path = tmp_path / "br.warc.gz"
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        w.write_record(_http_record(w, "https://br/0", iana, ("Content-Type", "text/html; charset=utf-8")))
        w.write_record(_http_record(w, "https://br/1", br, ("Content-Type", "text/html"), ("Content-Encoding", "br")))
        w.write_record(_http_record(w, "https://br/2", iana, ("Content-Type", "text/html; charset=utf-8")))
    out = _read(path)
    assert [type(r) for r in out] == [Doc, Doc, Doc]
    assert out[1].text.startswith("The quick brown fox jumps over the lazy dog")
    assert out[1].meta["content_encoding"] == "br"
    assert "html_truncated" not in out[1].meta and out[0].text == out[2].text
    # 176 KB out of 58 bytes: the output is bounded by the read limit, not by the input
    small = _read(path, ReadConfig(max_doc_bytes=10_000))
    assert small[1].meta["html_truncated"] is True and len(small[1].text) <= 40_000


# The label each page is declared with: the set's own labels, and for the GB18030 page the label
# such pages carry in the wild, gb2312, which browsers decode as GB18030.
LABELS = {"gbk": "GBK", "gb18030": "gb2312", "big5": "Big5", "shift_jis": "Shift_JIS"}
# What a browser decodes each with (the superset of the label's charset).
BROWSER_CODEC = {"gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs", "shift_jis": "cp932"}
_META_TAG = re.compile(rb"<meta charset=[^>]*>\s*", re.I)


def _variants(page: bytes, label: str) -> dict[str, tuple[bytes, str]]:
    """The page (charset declarations removed) declared in the HTTP header only, in <meta> only, nowhere:
    variant -> (body, HTTP Content-Type)."""
    bare = _META_TAG.sub(b"", page)
    assert b"charset" not in bare.lower()
    with_meta = re.sub(rb"<head>", b'<head><meta charset="' + label.encode() + b'">', bare, count=1, flags=re.I)
    assert with_meta != bare
    return {"header": (bare, f"text/html; charset={label}"), "meta": (with_meta, "text/html"), "none": (bare, "text/html")}


_norm = cjk_norm


def test_real_cjk_pages_decode_with_header_meta_or_neither(tmp_path):
    """Real GBK / GB18030 / Big5 / Shift-JIS pages, each declared in the header only, in <meta> only and
    nowhere: the text comes out whole (every expected paragraph, no U+FFFD), with the browser's codec."""
    ensure_built()
    pages = charset_pages()
    assert {p["encoding"] for p in pages} >= {"gbk", "big5", "shift_jis"} and len(pages) >= 18
    path, expected = tmp_path / "cjk.warc.gz", []
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for p in pages:
            for variant, (body, ctype) in _variants(Path(p["path"]).read_bytes(), LABELS[p["encoding"]]).items():
                url = f"https://cjk/{variant}/{p['file']}"
                w.write_record(_http_record(w, url, body, ("Content-Type", ctype)))
                expected.append((url, variant, p))
    out = _read(path)
    assert [type(r) for r in out] == [Doc] * len(expected)
    source = {"header": "header", "meta": "meta", "none": "detected"}
    for doc, (url, variant, p) in zip(out, expected):
        assert doc.meta["url"] == url
        assert (doc.meta["charset"], doc.meta["charset_source"]) == (BROWSER_CODEC[p["encoding"]], source[variant]), url
        assert "\ufffd" not in doc.text, url
        text = _norm(doc.text)
        missing = [line for line in p["expected_text"].split("\n") if _norm(line) and _norm(line) not in text]
        assert not missing, (url, missing[:3])
