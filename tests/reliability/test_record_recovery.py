"""Record-level recovery in the streaming readers (issue 14 item 4): a damaged record in the middle of
a MediaWiki dump (a malformed page, a NUL byte, invalid UTF-8, a broken page tag) or of a WARC (a
response whose body is not HTTP, a broken WARC header, stray bytes) costs that record only: one
Drop with a named reason and its provenance, and reading goes on at the next `<page>` / `WARC/1.x`.
Plain and compressed files alike; a stream cut at the end stays one named drop; a corrupt gzip
member (a WARC gzipped per record) or bz2 stream (a multistream dump) costs what it held. A damaged
EPUB chapter costs that chapter. The inputs are real files written here (wiki XML as MediaWiki
exports it; WARC records by warcio; EPUB by zipfile)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import random
import re
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import pipelines.sources.encyclopedia as encyclopedia
from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop
from pipelines.sources.encyclopedia import read_encyclopedia
from pipelines.sources.web import read_web
from tests.conftest import make_config, read_dir, run_config
from tests.sources.fixtures import MW_NS, article_wikitext, html_page, wiki_page

WIKI_SRC = SourceConfig(name="wiki", kind="encyclopedia", paths=["x"])
WEB_SRC = SourceConfig(name="web", kind="web", paths=["x"])
CFG = ReadConfig()
N_PAGES = 9
BAD = 3  # the damaged page / record sits in the middle
# A dump's start as MediaWiki writes it (tests/sources/fixtures.write_wiki)
HEAD = (f'<mediawiki xmlns="{MW_NS}" version="0.11" xml:lang="en">\n  <siteinfo>\n    <sitename>Testpedia</sitename>\n'
        f'  </siteinfo>\n').encode()


def _reasons(recs) -> list[str]:
    return ["doc" if isinstance(r, Doc) else r.reason for r in recs]


# --- MediaWiki XML -----------------------------------------------------------------------------

def _pages() -> list[str]:
    return [wiki_page(f"P{i}", article_wikitext(i), i) for i in range(N_PAGES)]


def _damage_page(page: str, how: str) -> bytes:
    raw = page.encode()
    if how == "malformed":  # a mismatched end tag
        return raw.replace(b"</revision>", b"</revisoin>")
    if how == "nul":
        return raw.replace(b"== History ==", b"== Hist\x00ory ==")
    if how == "invalid_utf8":
        return raw.replace(b"== History ==", b"== Hist\xff\xfeory ==")
    if how == "unclosed":  # its end tag lost: the next <page> ends it
        return raw.replace(b"</page>", b"")
    if how == "broken_start":  # its start tag broken: found by its end tag
        return raw.replace(b"<page>", b"<pa ge>")
    raise ValueError(how)


def _dump(path: Path, damaged: dict[int, str], compress: str | None, cut: int = 0) -> tuple[Path, bytes]:
    """A dump of N_PAGES pages, page k damaged as damaged[k] says; (path, decompressed bytes)."""
    pages = [_damage_page(p, damaged[k]) if k in damaged else p.encode() for k, p in enumerate(_pages())]
    pages[0], pages[-1] = HEAD + pages[0], pages[-1] + b"</mediawiki>\n"
    data = b"".join(pages)
    if cut:
        data = data[:-cut]
        pages[-1] = pages[-1][:-cut]
    # bz2 as Wikipedia's multistream dumps (a bz2 stream per page here, per 100 pages there)
    stored = b"".join(map(bz2.compress, pages)) if compress == "bz2" else gzip.compress(data) if compress == "gzip" \
        else data
    path.write_bytes(stored)
    return path, data


def _name(compress: str | None) -> str:
    return {"bz2": "dump.xml.bz2", "gzip": "dump.xml.gz", None: "dump.xml"}[compress]


@pytest.mark.parametrize("compress", [None, "bz2", "gzip"])
@pytest.mark.parametrize("how, want", [
    ("malformed", "malformed_xml"), ("nul", "nul_byte"), ("invalid_utf8", "invalid_utf8"),
    ("unclosed", "malformed_xml"), ("broken_start", "malformed_xml"),
])
def test_damaged_page_costs_that_page_only(tmp_path, compress, how, want):
    path, data = _dump(tmp_path / _name(compress), {BAD: how}, compress)
    out = list(read_encyclopedia(str(path), WIKI_SRC, CFG))
    assert _reasons(out) == ["doc"] * BAD + [want] + ["doc"] * (N_PAGES - BAD - 1)
    assert [d.meta["title"] for d in out if isinstance(d, Doc)] == [f"P{i}" for i in range(N_PAGES) if i != BAD]
    drop = out[BAD]
    assert drop.meta["title"] == f"P{BAD}" and drop.meta["page_id"] == str(BAD) and drop.meta["error"]
    # its position in the decompressed stream: the page's start tag (or, start tag broken, the end of the page before)
    at = drop.meta["offset"]
    if how == "broken_start":
        assert data[:at].endswith(b"</page>") and data[at:].lstrip().startswith(b"<pa ge>")
    else:
        assert data[at:at + 6] == b"<page>"


@pytest.mark.parametrize("compress", [None, "bz2"])
def test_malformed_page_and_nul_in_one_dump(tmp_path, compress):
    path, _ = _dump(tmp_path / _name(compress), {2: "malformed", 6: "nul"}, compress)
    out = list(read_encyclopedia(str(path), WIKI_SRC, CFG))
    assert _reasons(out) == ["doc", "doc", "malformed_xml", "doc", "doc", "doc", "nul_byte", "doc", "doc"]
    assert [(r.meta["title"]) for r in out] == [f"P{i}" for i in range(N_PAGES)]  # every page accounted for


@pytest.mark.parametrize("compress, want", [(None, "truncated_xml"), ("bz2", "truncated_bz2"),
                                            ("gzip", "truncated_gzip")])
def test_cut_at_the_end_stays_a_named_drop(tmp_path, compress, want):
    """A damaged page in the middle, then the file cut inside its last page: every complete page,
    the damaged one as one drop, and the cut as one drop."""
    path, data = _dump(tmp_path / _name(compress), {BAD: "nul"}, compress, cut=0 if compress else 300)
    if compress:  # cut the compressed stream itself
        stored = path.read_bytes()
        path.write_bytes(stored[: len(stored) - 40])
    out = list(read_encyclopedia(str(path), WIKI_SRC, CFG))
    assert out[-1].reason == want and out[BAD].reason == "nul_byte"
    docs = out[:-1]
    assert _reasons(docs) == ["doc"] * BAD + ["nul_byte"] + ["doc"] * (len(docs) - BAD - 1)
    assert len(docs) == N_PAGES - 1  # the cut page only is lost
    if compress is None:
        assert data[out[-1].meta["offset"]:].startswith(b"<page>") and out[-1].meta["title"] == f"P{N_PAGES - 1}"


def test_chunk_boundaries_do_not_matter(tmp_path, monkeypatch):
    """Page tags cut by read boundaries anywhere (chunks of 5 and 977 bytes) read as with 64 KiB chunks."""
    path, _ = _dump(tmp_path / "dump.xml", {2: "malformed", 4: "broken_start", 6: "nul"}, None)
    want = [(type(r), getattr(r, "text", None), r.meta) for r in read_encyclopedia(str(path), WIKI_SRC, CFG)]
    for chunk in (5, 977):
        monkeypatch.setattr(encyclopedia, "_CHUNK", chunk)
        got = [(type(r), getattr(r, "text", None), r.meta) for r in read_encyclopedia(str(path), WIKI_SRC, CFG)]
        assert got == want, chunk


def test_utf16_dump_recovers_too(tmp_path):
    """A UTF-16 dump (as gensim's bgwiki test dump) is transcoded; a NUL page costs that page only."""
    _, data = _dump(tmp_path / "u8.xml", {BAD: "malformed"}, None)
    (tmp_path / "u16.xml").write_bytes(data.decode("utf-8").encode("utf-16"))  # with a byte-order mark
    out = list(read_encyclopedia(str(tmp_path / "u16.xml"), WIKI_SRC, CFG))
    assert _reasons(out) == ["doc"] * BAD + ["malformed_xml"] + ["doc"] * (N_PAGES - BAD - 1)


def test_random_damage_inside_a_page_costs_that_page_only():
    """Seeded random damage (bytes changed, cut out, inserted; NULs) inside one page's content: the
    reader never raises, every other page reads exactly as undamaged, the damaged one is one record."""
    pages = [p.encode() for p in _pages()]
    xml = HEAD
    reference = _read_bytes(xml + b"".join(pages) + b"</mediawiki>\n")
    assert _reasons(reference) == ["doc"] * N_PAGES
    rng = random.Random(20261202)
    for _ in range(60):
        k = rng.randrange(N_PAGES)
        page = bytearray(pages[k])
        lo, hi = page.index(b"</title>"), page.index(b"</revision>")  # between the tags that delimit pages
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(lo, hi)
            op = rng.random()
            if op < 0.3:
                page[i] = rng.randrange(256)
            elif op < 0.5:
                del page[i:i + rng.randint(1, 30)]
                hi = min(hi, len(page))
            elif op < 0.8:
                page[i:i] = rng.randbytes(rng.randint(1, 20)).replace(b"<", b"{")
            else:
                page[i:i] = b"\x00"
        out = _read_bytes(xml + b"".join(pages[:k]) + bytes(page) + b"".join(pages[k + 1:]) + b"</mediawiki>\n")
        assert len(out) == N_PAGES and all(isinstance(r, (Doc, Drop)) for r in out)
        for j in range(N_PAGES):
            if j != k:
                assert (out[j].text, out[j].meta) == (reference[j].text, reference[j].meta), j


def _read_bytes(data: bytes) -> list:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.xml"
        path.write_bytes(data)
        return list(read_encyclopedia(str(path), WIKI_SRC, CFG))


# --- WARC --------------------------------------------------------------------------------------

def _record(url: str, body: bytes, http: bool = True) -> bytes:
    """One response record written alone by warcio (uncompressed): an HTML page behind an HTTP head,
    or (http=False) `body` as the block of a record that says it holds an HTTP response."""
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=False)
    if http:
        head = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=head)
    else:  # warcio would parse (and reject) the HTTP head: written as a resource, then retyped
        rec = w.create_warc_record(url, "resource", payload=io.BytesIO(body),
                                   warc_content_type="application/http; msgtype=response")
        rec.rec_type = "response"
        rec.rec_headers.replace_header("WARC-Type", "response")
    w.write_record(rec)
    return buf.getvalue()


def _warcinfo() -> bytes:
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=False)
    w.write_record(w.create_warcinfo_record("t.warc", {"software": "grist-tests"}))
    return buf.getvalue()


def _good(i: int) -> bytes:
    return _record(f"https://good/{i}", html_page(i).encode())


def _broken_header(how: str) -> bytes:
    rec = _good(4).replace(b"https://good/4", b"https://bad/header")
    if how == "length_missing":
        return re.sub(rb"Content-Length: \d+\r\n", b"", rec, count=1)
    if how == "length_nul":
        return re.sub(rb"Content-Length: (\d)", lambda m: m.group() + b"\x00", rec, count=1)
    if how == "version_nul":  # the record's version line destroyed: its fields remain, as junk
        return rec.replace(b"WARC/1.", b"WA\x00C/1.", 1)
    if how == "no_blank_line":  # the HTTP head read as WARC fields; the block overruns the next head
        return rec.replace(b"\r\n\r\nHTTP/1.1", b"\r\nHTTP/1.1", 1)
    if how == "length_long":  # the next record's head swallowed: found inside the block again
        return re.sub(rb"Content-Length: (\d+)", lambda m: b"Content-Length: %d" % (int(m.group(1)) + 400), rec,
                      count=1)
    if how == "length_past_end":  # a length past the end of the file: the records after it are in the block
        return re.sub(rb"Content-Length: \d+", b"Content-Length: 999999999", rec, count=1)
    if how == "nul_run_before":  # stray NULs glued before the record's version line: nothing lost
        return b"\x00" * 64 + rec
    raise ValueError(how)


def _warc_records(broken: str) -> list[bytes]:
    not_http = _record("https://bad/body", html_page(2).encode() + b"\x00 body", http=False)
    return [_warcinfo(), _good(0), _good(1), not_http, _good(3), _broken_header(broken), _good(5), _good(6)]


def _write(path: Path, recs: list[bytes], gz: bool) -> Path:
    path.write_bytes(b"".join(gzip.compress(r) for r in recs) if gz else b"".join(recs))  # a gzip member per record
    return path


HEADER_CASES = [  # (broken header, what that record becomes)
    ("length_missing", "malformed_warc_header"),
    ("length_nul", "malformed_warc_header"),
    ("version_nul", "malformed_warc_record"),
    ("no_blank_line", "non_http_response"),
    ("length_long", "doc"),
    ("length_past_end", "doc"),
    ("nul_run_before", "doc"),
]


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
@pytest.mark.parametrize("broken, want", HEADER_CASES)
def test_non_http_body_and_broken_header_cost_their_records_only(tmp_path, gz, broken, want):
    path = _write(tmp_path / ("a.warc.gz" if gz else "a.warc"), _warc_records(broken), gz)
    out = list(read_web(str(path), WEB_SRC, CFG))
    assert _reasons(out) == ["doc", "doc", "non_http_response", "doc", want, "doc", "doc"]
    # accounting: one record out per response record in (7 = documents + drops)
    assert len(out) == 7 and sum(isinstance(r, Doc) for r in out) + sum(isinstance(r, Drop) for r in out) == 7
    urls = [r.meta["url"] for r in out]
    assert urls == ["https://good/0", "https://good/1", "https://bad/body", "https://good/3", "https://bad/header",
                    "https://good/5", "https://good/6"]
    for r in out:
        if isinstance(r, Doc):
            i = int(r.meta["url"].rsplit("/", 1)[1]) if "good" in r.meta["url"] else 4
            assert f"Article {i}" in r.text
    assert out[2].meta["warc_record_id"].startswith("<urn:uuid:") and out[2].meta["date"].startswith("20")


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_warc_cut_at_the_end_stays_a_named_drop(tmp_path, gz):
    recs = _warc_records("length_missing")
    data = b"".join(gzip.compress(r) for r in recs) if gz else b"".join(recs)
    (tmp_path / "cut.warc").write_bytes(data[:-150])
    path = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    (tmp_path / "cut.warc").rename(path)
    out = list(read_web(str(path), WEB_SRC, CFG))
    assert _reasons(out) == ["doc", "doc", "non_http_response", "doc", "malformed_warc_header", "doc", "truncated_warc"]
    assert out[-1].meta["url"] == "https://good/6"


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_random_damage_in_one_record_costs_that_record_only(gz):
    """Seeded random damage (bytes changed, cut out, inserted; NULs; record-like lines) anywhere in one
    record, its header included: every other record reads exactly as undamaged."""
    import tempfile

    recs = [_warcinfo()] + [_good(i) for i in range(6)]
    reference = _read_web_bytes(b"".join(gzip.compress(r) for r in recs) if gz else b"".join(recs), gz, tempfile)
    assert _reasons(reference) == ["doc"] * 6
    rng = random.Random(7)
    for _ in range(60):
        k = rng.randrange(1, len(recs) - 1)  # not the last: a damaged last record may read as a cut file
        rec = _damage(rng, recs[k], [
            (0.3, lambda b, i: b.__setitem__(i, rng.randrange(256))),
            (0.2, lambda b, i: b.__delitem__(slice(i, i + rng.randint(1, 40)))),
            (0.2, lambda b, i: b.__setitem__(slice(i, i), rng.randbytes(rng.randint(1, 20)))),
            (0.15, lambda b, i: b.__setitem__(slice(i, i), b"\x00" * rng.randint(1, 8))),
            (0.15, lambda b, i: b.__setitem__(slice(i, i), rng.choice(
                [b"\r\n", b"\r\n\r\n", b"HTTP/1.1 200 OK\r\n", b"Content-Length: 99999\r\n"]))),
        ])
        damaged = recs[:k] + [rec] + recs[k + 1:]
        out = _read_web_bytes(b"".join(gzip.compress(r) for r in damaged) if gz else b"".join(damaged), gz, tempfile)
        assert all(isinstance(r, (Doc, Drop)) for r in out)
        # the records before and after the damaged one (k - 1 is its index among documents)
        assert [(r.text, r.meta) for r in out[:k - 1]] == [(r.text, r.meta) for r in reference[:k - 1]]
        after = len(recs) - 1 - k
        assert [(r.text, r.meta) for r in out[len(out) - after:]] == [(r.text, r.meta) for r in reference[6 - after:]]
        assert len(out) <= 6


def _damage(rng: random.Random, data: bytes, edits: list) -> bytes:
    """`data` with 1-3 seeded edits at random positions, each drawn from `edits`: (probability,
    edit(buffer, position)) with probabilities summing to 1."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(buf))
        op, acc = rng.random(), 0.0
        for p, edit in edits:
            acc += p
            if op < acc or edit is edits[-1][1]:
                edit(buf, i)
                break
    return bytes(buf)


def _read_web_bytes(data: bytes, gz: bool, tempfile) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("f.warc.gz" if gz else "f.warc")
        path.write_bytes(data)
        return list(read_web(str(path), WEB_SRC, CFG))


# --- corrupt compressed members ---------------------------------------------------------------

def _flip(data: bytes, at: float = 0.5, n: int = 5) -> bytes:
    """`n` bytes inverted at `at` of the way into `data` (a compressed member's data damaged)."""
    out = bytearray(data)
    i = int(len(out) * at)
    for k in range(n):
        out[i + k] ^= 0xFF
    return bytes(out)


@pytest.mark.parametrize("damage, want", [
    ("deflate_data", [("doc", 0), ("doc", 1), ("corrupt_gzip", 2), ("doc", 3), ("doc", 4), ("doc", 5)]),
    ("crc", [("doc", 0), ("doc", 1), ("corrupt_gzip", 2), ("doc", 3), ("doc", 4), ("doc", 5)]),
    # the member's gzip header destroyed: nothing of it can be read, the loss is counted by offset
    ("header", [("doc", 0), ("doc", 1), ("corrupt_gzip", None), ("doc", 3), ("doc", 4), ("doc", 5)]),
    ("two_members", [("doc", 0), ("corrupt_gzip", 1), ("corrupt_gzip", 2), ("doc", 3), ("doc", 4), ("doc", 5)]),
    ("last_member", [("doc", 0), ("doc", 1), ("doc", 2), ("doc", 3), ("doc", 4), ("corrupt_gzip", 5)]),
])
def test_corrupt_gzip_member_costs_its_record_only(tmp_path, damage, want):
    """A .warc.gz is gzipped per record: a corrupt member costs its record (it ended the file)."""
    members = [gzip.compress(r) for r in [_warcinfo()] + [_good(i) for i in range(6)]]
    k = 6 if damage == "last_member" else 3  # members[k] holds good/(k-1)
    if damage == "crc":
        members[k] = members[k][:-8] + bytes(4) + members[k][-4:]
    elif damage == "header":
        members[k] = bytes(12) + members[k][12:]
    else:
        members[k] = _flip(members[k])
        if damage == "two_members":
            members[k - 1] = _flip(members[k - 1])
    path = tmp_path / "c.warc.gz"
    path.write_bytes(b"".join(members))
    out = list(read_web(str(path), WEB_SRC, CFG))
    got = [("doc" if isinstance(r, Doc) else r.reason, r.meta.get("url")) for r in out]
    assert got == [(reason, None if i is None else f"https://good/{i}") for reason, i in want]
    assert all(isinstance(r.meta.get("offset"), int) for r in out if isinstance(r, Drop))


def test_random_damage_in_one_gzip_member_costs_that_record_only():
    """Seeded random damage (bits flipped, bytes cut out or inserted) in the compressed bytes of one
    member of a WARC gzipped per record: every other record reads exactly as undamaged, and the
    damaged one is one record out (a Doc if the damage missed its data, else one named Drop)."""
    import tempfile

    members = [gzip.compress(r, mtime=0) for r in [_warcinfo()] + [_good(i) for i in range(6)]]
    reference = _read_web_bytes(b"".join(members), True, tempfile)
    assert _reasons(reference) == ["doc"] * 6
    rng = random.Random(14)
    for _ in range(100):
        k = rng.randrange(1, len(members) - 1)  # not the last: a damaged last member may read as a cut file
        member = _damage(rng, members[k], [
            (0.5, lambda b, i: b.__setitem__(i, b[i] ^ (1 << rng.randrange(8)))),
            (0.25, lambda b, i: b.__delitem__(slice(i, i + rng.randint(1, 20)))),
            (0.25, lambda b, i: b.__setitem__(slice(i, i), rng.randbytes(rng.randint(1, 20)))),
        ])
        out = _read_web_bytes(b"".join(members[:k] + [member] + members[k + 1:]), True, tempfile)
        assert len(out) == 6, _reasons(out)
        assert [(getattr(r, "text", None), r.meta) for j, r in enumerate(out) if j != k - 1] == \
            [(r.text, r.meta) for j, r in enumerate(reference) if j != k - 1]


@pytest.mark.parametrize("where", ["middle", "last"])
def test_corrupt_bz2_stream_of_a_multistream_dump(tmp_path, where):
    """A multistream dump (a bz2 stream per page here): a corrupt stream costs the pages it held, one
    drop; reading goes on at the next stream."""
    pages = [p.encode() for p in _pages()]
    pages[0], pages[-1] = HEAD + pages[0], pages[-1] + b"</mediawiki>\n"
    streams = [bz2.compress(p) for p in pages]
    k = BAD if where == "middle" else N_PAGES - 1
    streams[k] = _flip(streams[k])
    path = tmp_path / "multi.xml.bz2"
    path.write_bytes(b"".join(streams))
    out = list(read_encyclopedia(str(path), WIKI_SRC, CFG))
    assert _reasons(out) == ["doc"] * k + ["corrupt_bz2"] + ["doc"] * (N_PAGES - k - 1)  # no truncated_xml after it
    assert [d.meta["title"] for d in out if isinstance(d, Doc)] == [f"P{i}" for i in range(N_PAGES) if i != k]


# --- EPUB ---------------------------------------------------------------------------------------

def test_damaged_epub_chapter_costs_that_chapter_only(tmp_path):
    """A book's record is its EPUB; a chapter whose zip member is damaged is skipped and counted,
    the book keeps its other chapters (it was one `corrupt_epub` drop)."""
    import zipfile

    from pipelines.sources.books import read_books
    from tests.sources.fixtures import paragraph, write_epub

    names = ["one.xhtml", "two.xhtml", "three.xhtml"]
    path = write_epub(tmp_path / "b.epub", {n: paragraph(k) for k, n in enumerate(names)}, names)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("OEBPS/text/two.xhtml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 5, start + info.compress_size - 5, 7):  # the deflate data, damaged
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    src = SourceConfig(name="books", kind="books", paths=["x"])
    [doc] = list(read_books(str(path), src, CFG))
    assert isinstance(doc, Doc) and doc.meta["damaged_chapters"] == 1 and doc.meta["chapters"] == 2
    assert paragraph(0) in doc.text and paragraph(2) in doc.text and paragraph(1) not in doc.text


# --- through the pipeline ----------------------------------------------------------------------

def test_read_stage_accounts_for_every_record(tmp_path, ray_local):
    """One read-stage run over a damaged dump (bz2) and a damaged WARC (gzip per record): the damaged
    records are the only drops, named, with their provenance; records in = documents + dropped."""
    (tmp_path / "wiki").mkdir()
    (tmp_path / "web").mkdir()
    _dump(tmp_path / "wiki" / "dump.xml.bz2", {2: "malformed", 6: "nul"}, "bz2")
    _write(tmp_path / "web" / "crawl.warc.gz", _warc_records("length_missing"), gz=True)
    cfg = make_config(tmp_path, [
        {"name": "wiki", "kind": "encyclopedia", "paths": ["wiki/*.bz2"]},
        {"name": "web", "kind": "web", "paths": ["web/*.warc.gz"]},
    ])
    report = run_config(cfg, workers=1)
    acc = report["accounting"]
    assert acc["balanced"] and acc["records_in"] == N_PAGES + 7
    assert acc["documents"] == (N_PAGES - 2) + 5 and acc["dropped"] == 4
    dropped = read_dir(tmp_path / "out" / "dropped").to_pylist()
    metas = [d["meta"] if isinstance(d["meta"], dict) else json.loads(d["meta"]) for d in dropped]
    got = sorted((d["reason"], m.get("title") or m.get("url")) for d, m in zip(dropped, metas))
    assert got == [("malformed_warc_header", "https://bad/header"), ("malformed_xml", "P2"),
                   ("non_http_response", "https://bad/body"), ("nul_byte", "P6")]
    titles = {json.loads(m)["title"] if isinstance(m, str) else m["title"]
              for m in read_dir(tmp_path / "out" / "documents").column("meta").to_pylist()
              if "title" in (json.loads(m) if isinstance(m, str) else m)}
    assert titles == {f"P{i}" for i in range(N_PAGES)} - {"P2", "P6"}
