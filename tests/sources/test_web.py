"""WARC/WET reader on real WARC files written with warcio (gzip per record, as Common Crawl)."""

from __future__ import annotations

import gzip
import io
import random
import re
import tempfile
import zlib
from pathlib import Path

import brotli
import pytest
from warcio.warcwriter import WARCWriter

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop
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
    assert [d.meta["charset_source"] for d in out] == ["header", "meta", "detected", "utf8"]
    assert [d.meta["charset"] for d in out] == ["cp1252", "cp1252", "cp1252", "utf-8"]


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


# --- Content-Encoding, malformed HTTP, damaged WARC framing --------------------------------------

def _raw_response(w, url: str, message: bytes):
    """A `response` record whose block is `message` byte for byte. warcio parses (and rejects or
    re-serialises) the HTTP head it is handed, so the record is built as a resource and retyped."""
    rec = w.create_warc_record(url, "resource", payload=io.BytesIO(message),
                               warc_content_type="application/http; msgtype=response")
    rec.rec_type = "response"
    rec.rec_headers.replace_header("WARC-Type", "response")
    return rec


def _http(body: bytes, *fields: tuple[str, str], status: bytes = b"HTTP/1.1 200 OK") -> bytes:
    head = b"".join(f"{k}: {v}\r\n".encode() for k, v in (("Content-Type", "text/html; charset=utf-8"), *fields))
    return status + b"\r\n" + head + b"\r\n" + body


def _warc(path, messages: list[tuple[str, bytes]], gz: bool = True):
    """A WARC (warcinfo first) with one response record per (url, raw HTTP message)."""
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=gz)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "grist-tests"}))
        for url, message in messages:
            w.write_record(_raw_response(w, url, message))
    return path


def _good(i: int) -> tuple[str, bytes]:
    return f"https://good/{i}", _http(html_page(i).encode())


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


def _chunked(data: bytes, size: int = 700) -> bytes:
    parts = [b"%x;ext=1\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def _assert_good(doc, i: int):
    assert isinstance(doc, Doc), doc
    assert f"Article {i}" in doc.text and paragraph(i * 10) in doc.text and paragraph(i * 10 + 2) in doc.text
    assert "SCRIPT_JUNK" not in doc.text


def _assert_provenance(drop, url: str):
    assert drop.meta["url"] == url
    assert drop.meta["warc_record_id"].startswith("<urn:uuid:") and drop.meta["date"].startswith("20")


@pytest.mark.parametrize("gz", [True, False])
def test_content_encodings_are_decoded(tmp_path, gz):
    page = {i: html_page(i).encode() for i in range(10)}
    encoded = [
        ("gzip", gzip.compress(page[0])),
        ("x-gzip", gzip.compress(page[1])),
        ("deflate", zlib.compress(page[2])),  # zlib-wrapped, as RFC 9110 says
        ("deflate", _raw_deflate(page[3])),  # raw, as many servers send it
        ("br", brotli.compress(page[4])),
        ("gzip, br", brotli.compress(gzip.compress(page[5]))),  # gzip applied first, then br
        ("identity", page[6]),
        ("GZip", gzip.compress(page[7])),
    ]
    messages = [(f"https://enc/{i}", _http(body, ("Content-Encoding", coding)))
                for i, (coding, body) in enumerate(encoded)]
    # chunked transfer coding over a gzip content coding (what a server streaming gzip sends)
    messages.append(("https://enc/8", _http(_chunked(gzip.compress(page[8])), ("Content-Encoding", "gzip"),
                                            ("Transfer-Encoding", "chunked"))))
    messages.append(("https://enc/9", _http(_chunked(page[9]), ("Transfer-Encoding", "chunked"))))
    out = _read(_warc(tmp_path / ("e.warc.gz" if gz else "e.warc"), messages, gz))
    assert _reasons(out) == ["doc"] * 10
    for i, doc in enumerate(out):
        _assert_good(doc, i)
        assert doc.meta["url"] == f"https://enc/{i}" and doc.meta["charset"] == "utf-8"
    assert [d.meta.get("content_encoding") for d in out] == [c for c, _ in encoded] + ["gzip", None]


def test_bad_content_encoding_drops_that_record_only(tmp_path):
    page = html_page(1).encode()
    bad = [
        ("https://bad/zstd", _http(page, ("Content-Encoding", "zstd"))),  # a coding grist does not decode
        ("https://bad/compress", _http(page, ("Content-Encoding", "compress"))),
        ("https://bad/not-gzip", _http(page, ("Content-Encoding", "gzip"))),  # says gzip, is not
        ("https://bad/not-br", _http(b"\xff\xfe broken brotli " * 20, ("Content-Encoding", "br"))),
        ("https://bad/stacked", _http(gzip.compress(page), ("Content-Encoding", "gzip, snappy"))),
    ]
    messages = [m for k, b in enumerate(bad) for m in (b, _good(k))]
    out = _read(_warc(tmp_path / "b.warc.gz", messages))
    assert _reasons(out) == ["bad_content_encoding", "doc"] * len(bad)
    for k, (url, _) in enumerate(bad):
        _assert_provenance(out[2 * k], url)
        _assert_good(out[2 * k + 1], k)
    assert out[0].meta["content_encoding"] == "zstd" and out[8].meta["content_encoding"] == "gzip, snappy"


@pytest.mark.parametrize("gz", [True, False])
def test_malformed_http_drops_that_record_and_reading_goes_on(tmp_path, gz):
    page = html_page(50).encode()
    cases = [  # (raw HTTP message, expected outcome)
        (b"HTTP/1.0 302 \r\nLocation: /elsewhere\r\n\r\n", "http_status_302"),  # no reason phrase: valid
        (b"HTTP/1.1 200\r\nContent-Type: text/html\r\n\r\n" + page, "doc"),  # no reason phrase: valid
        (b"HTTP/1.1 200 OK\nContent-Type: text/html\n\n" + page, "doc"),  # bare LF line ends
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page, "doc"),
        (b"HTTPX/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page, "non_http_response"),
        (page, "non_http_response"),  # a body stored without its HTTP head
        (bytes(range(256)) * 4, "non_http_response"),
        (b"HTTP/1.1 2x0 OK\r\nContent-Type: text/html\r\n\r\n" + page, "malformed_http_header"),
        (b"HTTP/1.1 200 OK\r\nContent-Type text/html\r\nnot a field\r\n\r\n" + page, "malformed_http_header"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + page, "malformed_http_header"),  # no blank line
        # lines ending CR CR LF (a CRLF file converted again) and a header running to the record's end
        (b"HTTP/1.0 302 \r\r\nLocation: http://x/\r\r\nContent-Length: 0", "http_status_302"),
        (b"HTTP/1.1 200 OK\r\r\nContent-Type: text/html\r\r\n\r\r\n" + page, "doc"),
    ]
    messages = [m for k, (raw, _) in enumerate(cases) for m in ((f"https://case/{k}", raw), _good(k))]
    out = _read(_warc(tmp_path / ("h.warc.gz" if gz else "h.warc"), messages, gz))
    assert _reasons(out) == [r for _, want in cases for r in (want, "doc")]
    for k, (_, want) in enumerate(cases):
        got, good = out[2 * k], out[2 * k + 1]
        if want == "doc":
            _assert_good(got, 50)
            assert got.meta["url"] == f"https://case/{k}"
        else:
            _assert_provenance(got, f"https://case/{k}")
        _assert_good(good, k)
        assert good.meta["url"] == f"https://good/{k}"


def _record_bytes(messages: list[tuple[str, bytes]]) -> list[bytes]:
    """Each response record written alone (uncompressed), to be damaged and joined by a test."""
    out = []
    for url, message in messages:
        buf = io.BytesIO()
        w = WARCWriter(buf, gzip=False)
        w.write_record(_raw_response(w, url, message))
        out.append(buf.getvalue())
    return out


def _set_length(rec: bytes, delta: int | None) -> bytes:
    """Content-Length off by `delta` bytes, or removed (None)."""
    def repl(m):
        return b"" if delta is None else b"Content-Length: %d\r\n" % (int(m.group(1)) + delta)
    return re.sub(rb"Content-Length: (\d+)\r\n", repl, rec, count=1)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("damage, want", [
    # stray bytes hold no record: skipped, nothing lost
    ("garbage_between", ["doc"] * 5),
    # the leftover of a record's head (a record lost): one drop, with the provenance it still holds
    ("head_remains_between", ["doc", "doc", "malformed_warc_record", "doc", "doc", "doc"]),
    ("length_short", ["doc"] * 5),  # the record's tail is left over: stray bytes
    # it swallows (a part of) the next head: found inside the block, reading resumes there
    ("length_long", ["doc"] * 5),
    ("length_missing", ["doc", "doc", "malformed_warc_header", "doc", "doc"]),
    ("length_not_a_number", ["doc", "doc", "malformed_warc_header", "doc", "doc"]),
    ("unknown_type", ["doc", "doc", "unknown_warc_type", "doc", "doc"]),
])
def test_damaged_warc_record_resynchronises_at_the_next(tmp_path, gz, damage, want):
    recs = _record_bytes([_good(i) for i in range(5)])
    if damage == "garbage_between":
        recs.insert(2, b"these bytes are no WARC record\r\n\x00\xff\r\n\r\n<html>junk</html>\r\n")
    elif damage == "head_remains_between":
        recs.insert(2, b"1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://lost/1\r\nContent-Length: 9\r\n\r\n")
    elif damage.startswith("length_"):
        delta = {"length_short": -60, "length_long": 60, "length_missing": None}.get(damage)
        recs[2] = _set_length(recs[2], delta) if damage != "length_not_a_number" else \
            re.sub(rb"Content-Length: \d+", b"Content-Length: 12x", recs[2], count=1)
    else:
        recs[2] = recs[2].replace(b"WARC-Type: response", b"WARC-Type: bogus", 1)
    path = tmp_path / ("d.warc.gz" if gz else "d.warc")
    path.write_bytes(b"".join(gzip.compress(r) for r in recs) if gz else b"".join(recs))
    out = _read(path)
    assert _reasons(out) == want
    docs = [d for d in out if isinstance(d, Doc)]
    assert docs[0].meta["url"] == "https://good/0" and docs[-1].meta["url"] == "https://good/4"
    _assert_good(docs[-1], 4)
    if damage in ("length_missing", "length_not_a_number", "unknown_type"):
        _assert_provenance(out[2], "https://good/2")
    if damage == "head_remains_between":
        assert out[2].meta["url"] == "https://lost/1"
    if damage == "length_long":
        assert out[3].meta["url"] == "https://good/3"  # its head, read as the block before, is found again
        _assert_good(out[2], 2)
        _assert_good(out[3], 3)
    if damage == "length_short":
        assert docs[2].meta["url"] == "https://good/2" and "Article 2" in docs[2].text


def test_truncated_after_a_bad_record_still_reads_all_complete_ones(tmp_path):
    messages = [_good(0), ("https://bad/1", b"garbage, not HTTP\r\n\r\n"), _good(2), _good(3)]
    data = _warc(tmp_path / "full.warc", messages, gz=False).read_bytes()
    (tmp_path / "cut.warc").write_bytes(data[:-200])
    out = _read(tmp_path / "cut.warc")
    assert _reasons(out) == ["doc", "non_http_response", "doc", "truncated_warc"]
    _assert_provenance(out[3], "https://good/3")


def test_charset_labels_decode_as_browsers_do(tmp_path):
    """Labels name narrower charsets than the pages hold: each page here has a character only the
    browsers' superset decoder knows (GB18030 for gb2312, HKSCS for big5, cp932 for shift_jis)."""
    pages = [  # (label, codec the page is really in, text)
        ("gb2312", "gb18030", "北京的天气很好，我们去公园散步。罕见字𠀀也能正确显示。" * 3),
        ("big5", "big5hkscs", "香港嘅天氣好好，我哋去公園散步。臺灣的朋友也來了。" * 3),
        ("shift_jis", "cp932", "東京の天気はとても良いです。①番の出口から公園へ行きます。" * 3),
        ("iso-8859-1", "cp1252", "“Smart quotes” cost €5 – naïve café. " * 5),
    ]
    messages = []
    for k, (label, codec, text) in enumerate(pages):
        body = html_page(k, charset=None, extra=f"<p>{text}</p>").encode(codec)
        messages.append((f"https://cs/header/{k}", _http(body, status=b"HTTP/1.1 200 OK").replace(
            b"charset=utf-8", b"charset=" + label.encode())))
        meta_page = html_page(k, charset=label, extra=f"<p>{text}</p>").encode(codec)
        messages.append((f"https://cs/meta/{k}", _http(meta_page).replace(b"; charset=utf-8", b"")))
    out = _read(_warc(tmp_path / "cs.warc.gz", messages))
    assert _reasons(out) == ["doc"] * 8
    for k, (label, codec, text) in enumerate(pages):
        for doc, source in zip(out[2 * k:2 * k + 2], ("header", "meta")):
            assert text.strip() in doc.text, (label, source)
            assert doc.meta["charset"] == codec and doc.meta["charset_source"] == source


@pytest.mark.parametrize("gz", [True, False])
def test_random_damage_never_raises_and_keeps_the_records_before_it(gz):
    """Seeded random damage (bytes changed, cut out, inserted, record-like lines inserted) at a random
    point: the reader never raises, and every record that ends before the damage reads as undamaged."""
    page = html_page(3).encode()
    messages = [_good(0), ("https://x/gz", _http(gzip.compress(page), ("Content-Encoding", "gzip"))),
                ("https://x/br", _http(brotli.compress(page), ("Content-Encoding", "br"))),
                ("https://x/chunked", _http(_chunked(zlib.compress(page)), ("Content-Encoding", "deflate"),
                                            ("Transfer-Encoding", "chunked"))), _good(1), _good(2)]
    recs = [gzip.compress(r) if gz else r for r in _record_bytes(messages)]
    ends = [sum(len(r) for r in recs[:k + 1]) for k in range(len(recs))]
    data = b"".join(recs)
    reference = _read_bytes(data, gz)
    assert _reasons(reference) == ["doc"] * len(messages)
    rng = random.Random(1234)
    for _ in range(150):
        damaged = bytearray(data)
        start = rng.randrange(len(data))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(start, len(damaged) + 1)
            op = rng.random()
            if op < 0.4 and i < len(damaged):
                damaged[i] = rng.randrange(256)
            elif op < 0.6:
                del damaged[i:i + rng.randint(1, 200)]
            elif op < 0.8:
                damaged[i:i] = rng.randbytes(rng.randint(1, 50))
            else:
                damaged[i:i] = rng.choice([b"\r\n", b"WARC/1.0\r\n", b"HTTP/1.1 200 OK\r\n", b"Content-Length: 99999\r\n"])
        out = _read_bytes(bytes(damaged), gz)
        assert all(isinstance(r, (Doc, Drop)) for r in out)
        intact = sum(end <= start for end in ends)
        assert [(r.text, r.meta) for r in out[:intact]] == [(r.text, r.meta) for r in reference[:intact]]


def _read_bytes(data: bytes, gz: bool) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("f.warc.gz" if gz else "f.warc")
        path.write_bytes(data)
        return _read(path)
