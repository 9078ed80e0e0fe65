"""Pieces of large WARCs and dumps (pipelines/sources/pieces.py) read exactly what the whole file
reads, on the real-data set (`make real`): every real WARC/ARC file, and gensim's real Wikipedia
dumps as shipped (one bz2 stream: read whole, and said so), re-compressed as Wikimedia's multistream
dumps are (bz2, and gzip one member a group of pages) and uncompressed. Same documents (text, meta),
same drops and reasons, in the same order, whatever the cuts; damaged files included
(tests/reliability/test_record_recovery.py's)."""

from __future__ import annotations

import bz2
import gzip
import json
import os

import pytest

from data.real.realset import ensure_built, warcs, wiki_dumps
from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc
from pipelines.sources.encyclopedia import read_encyclopedia
from pipelines.sources.web import read_web
from tests.sources.fixtures import MW_NS, multistream, read_in_pieces, wiki_page

WEB = SourceConfig(name="web", kind="web", paths=["x"])
WIKI = SourceConfig(name="wiki", kind="encyclopedia", paths=["x"])
CFG = ReadConfig()
WEB_CFG = ReadConfig(extractor="resiliparse")  # the fastest extractor: what is compared is the framing
ENWIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def key(rec, offsets: bool = True) -> tuple:
    """A record as a comparable value. A piece of a compressed file counts a damaged record's
    `offset` from its first member (`from_offset`): left out there."""
    meta = {k: v for k, v in rec.meta.items() if offsets or k not in ("offset", "from_offset", "error")}
    body = rec.text if isinstance(rec, Doc) else rec.reason
    return type(rec).__name__, body, json.dumps(meta, sort_keys=True, default=str)


@pytest.fixture(scope="module")
def real():
    ensure_built()
    return {r["file"]: r["path"] for r in warcs() + wiki_dumps()}


@pytest.fixture(scope="module")
def dumps(real, tmp_path_factory) -> dict[str, str]:
    """The real enwiki dump as shipped (one bz2 stream), as a multistream bz2 (10 pages a stream), as
    bz2 streams of 100 kB each (pages cut across streams), as gzip members (10 pages each) and
    uncompressed."""
    d = tmp_path_factory.mktemp("dumps")
    xml = bz2.decompress(open(real[ENWIKI], "rb").read())
    out = {"shipped": real[ENWIKI]}
    cut = b"".join(bz2.compress(xml[i:i + 100_000]) for i in range(0, len(xml), 100_000))
    for name, data in (("multistream.xml.bz2", multistream(xml, 10)), ("cut.xml.bz2", cut),
                       ("members.xml.gz", multistream(xml, 10, gzip.compress)), ("plain.xml", xml)):
        (d / name).write_bytes(data)
        out[name] = str(d / name)
    return out


def test_every_real_warc_reads_the_same_in_pieces(real):
    """1 kB pieces: every real WARC/ARC of the set (the 787 kB iana capture: 787 pieces, 48 of them
    hold its 48 records that are pages or drops); the files that are one gzip stream are read whole
    by their first piece."""
    single = set()
    for name, path in sorted(real.items()):
        if not name.startswith(("pywb-", "warcio-")):
            continue
        whole = [key(r) for r in read_web(path, WEB, WEB_CFG)]
        pieces, notes, holding = read_in_pieces(read_web, path, WEB, WEB_CFG, 1000)
        assert [key(r) for r in pieces] == whole, name
        if notes:
            single.add(name)
        if name == "pywb-iana.warc.gz":
            assert holding == 48 and len(whole) == 48
    assert single == {"pywb-example-bad.warc.gz.bad", "warcio-example-bad.warc.gz.bad",
                      "warcio-example-bad-non-chunked.warc.gz", "pywb-httpbin-resource.warc.gz"}  # (one record)


def test_an_uncompressed_real_warc_reads_the_same_in_pieces(real, tmp_path):
    """The iana capture decompressed (2.3 MB, 343 records) in 100 kB pieces."""
    path = tmp_path / "iana.warc"
    path.write_bytes(gzip.decompress(open(real["pywb-iana.warc.gz"], "rb").read()))
    whole = [key(r) for r in read_web(str(path), WEB, WEB_CFG)]
    pieces, notes, holding = read_in_pieces(read_web, str(path), WEB, WEB_CFG, 100_000)
    assert [key(r) for r in pieces] == whole and not notes and holding > 10


@pytest.fixture(scope="module")
def shipped(dumps) -> list:
    """The whole-file read of the enwiki dump as shipped."""
    return list(read_encyclopedia(dumps["shipped"], WIKI, CFG))


@pytest.mark.parametrize("form, step, min_holding", [
    ("multistream.xml.bz2", 64 << 10, 10), ("cut.xml.bz2", 64 << 10, 10), ("members.xml.gz", 64 << 10, 10),
    ("plain.xml", 256 << 10, 20),
])
def test_a_real_dump_reads_the_same_in_pieces(dumps, shipped, form, step, min_holding):
    """The pieces of each form read what the whole dump reads (the same XML: the same pages)."""
    pieces, notes, holding = read_in_pieces(read_encyclopedia, dumps[form], WIKI, CFG, step)
    offsets = form == "plain.xml"  # (a compressed piece counts offsets from its first stream)
    assert [key(r, offsets) for r in pieces] == [key(r, offsets) for r in shipped]
    assert not notes and holding >= min_holding
    assert sum(isinstance(r, Doc) for r in shipped) == 106  # the real set's article count for this dump


def test_a_single_stream_dump_is_read_whole_by_its_first_piece(dumps, shipped):
    whole = [key(r) for r in shipped]
    pieces, notes, holding = read_in_pieces(read_encyclopedia, dumps["shipped"], WIKI, CFG, 256 << 10)
    assert [key(r) for r in pieces] == whole
    assert notes == ["unsplit_single_bz2_stream"] and holding == 1


def test_a_transcoded_dump_is_read_whole_by_its_first_piece(real, tmp_path):
    """gensim's bgwiki dump is UTF-16: its byte offsets are not the UTF-8 stream's."""
    path = tmp_path / "bg.xml"
    path.write_bytes(bz2.decompress(open(real["bgwiki-latest-pages-articles-shortened.xml.bz2"], "rb").read()))
    whole = [key(r) for r in read_encyclopedia(str(path), WIKI, CFG)]
    pieces, notes, _ = read_in_pieces(read_encyclopedia, str(path), WIKI, CFG, 100_000)
    assert [key(r) for r in pieces] == whole and notes == ["unsplit_transcoded_xml"]


def test_damaged_files_read_the_same_in_pieces(tmp_path):
    """Damaged pages and records (the recovery tests' files) are dropped alike, whatever the cuts."""
    from tests.reliability.test_record_recovery import HEADER_CASES, _dump, _flip, _warc_records, _write

    checked = 0
    for compress in (None, "bz2"):
        path, _ = _dump(tmp_path / ("d.xml.bz2" if compress else "d.xml"), {3: "unclosed", 5: "broken_start",
                                                                             6: "nul"}, compress)
        whole = [key(r, not compress) for r in read_encyclopedia(str(path), WIKI, CFG)]
        for step in (97, 1500):
            pieces, _, _ = read_in_pieces(read_encyclopedia, str(path), WIKI, CFG, step)
            assert [key(r, not compress) for r in pieces] == whole
            checked += 1
    for broken, _ in HEADER_CASES:
        for gz in (True, False):
            path = _write(tmp_path / ("d.warc.gz" if gz else "d.warc"), _warc_records(broken), gz)
            whole = [key(r, not gz) for r in read_web(str(path), WEB, WEB_CFG)]
            pieces, _, _ = read_in_pieces(read_web, str(path), WEB, WEB_CFG, 500)
            assert [key(r, not gz) for r in pieces] == whole, (broken, gz)
            checked += 1
    members = [gzip.compress(r) for r in _warc_records("length_long")]
    members[4] = _flip(members[4])  # a corrupt member: its record is dropped as corrupt_gzip
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(b"".join(members))
    whole = list(read_web(str(path), WEB, WEB_CFG))
    pieces, _, _ = read_in_pieces(read_web, str(path), WEB, WEB_CFG, 500)
    assert [key(r, False) for r in pieces] == [key(r, False) for r in whole]
    assert "corrupt_gzip" in [getattr(r, "reason", None) for r in pieces]
    assert checked == 4 + 2 * len(HEADER_CASES)


def test_a_page_without_ns_takes_its_namespace_from_the_siteinfo(tmp_path):
    """Export schema < 0.5 has no <ns>: the title's prefix, looked up in <siteinfo>, says it; a
    piece reads the siteinfo from the file's head, so it drops the talk page as the whole file does."""
    head = (f'<mediawiki xmlns="{MW_NS}" version="0.4">\n<siteinfo>\n<namespaces>\n'
            '<namespace key="0" />\n<namespace key="1">Talk</namespace>\n<namespace key="4">Wikipedia</namespace>\n'
            '</namespaces>\n</siteinfo>\n')
    pages = [wiki_page(f"Talk:Article {i}" if i % 2 else f"Article {i}", f"Text of article {i}. " * 40, i)
             for i in range(8)]
    pages = [p.replace("<ns>0</ns>", "") for p in pages]
    path = tmp_path / "old.xml"
    path.write_text(head + "".join(pages) + "</mediawiki>\n")
    whole = list(read_encyclopedia(str(path), WIKI, CFG))
    assert [getattr(r, "reason", "doc") for r in whole] == ["doc", "non_article_namespace"] * 4
    assert whole[1].meta["ns"] == "1"
    pieces, _, holding = read_in_pieces(read_encyclopedia, str(path), WIKI, CFG, os.path.getsize(path) // 5)
    assert [key(r) for r in pieces] == [key(r) for r in whole] and holding > 2


def test_pieces_of_files_on_s3_read_by_ranged_reads(real, tmp_path):
    """The same pieces read from an S3 server (moto over HTTP, the s3fs client a run uses): the
    readers and the planner's probe seek and read ranges through pipelines/storage.py, nothing
    local-only."""
    import fsspec

    from pipelines.sources import pieces as pieces_mod
    from tests.s3server import s3_server

    small = tmp_path / "testcorpus.xml.bz2"  # gensim's 9 short articles, a bz2 stream each
    small.write_bytes(multistream(bz2.decompress(open(real["testcorpus.xml.bz2"], "rb").read()), 1))
    with s3_server("grist-pieces"):
        # (an s3fs instance cached by an earlier test would still speak to that test's server)
        type(fsspec.filesystem("s3", skip_instance_cache=True)).clear_instance_cache()
        fs = fsspec.filesystem("s3")
        for reader, local, src, cfg, step in ((read_web, real["pywb-example-wget-1-14.warc.gz"], WEB, WEB_CFG, 700),
                                              (read_encyclopedia, str(small), WIKI, CFG, 500)):
            remote = "s3://grist-pieces/" + os.path.basename(local)
            fs.put(local, remote)
            size = os.path.getsize(local)
            cuts = list(range(0, size, step)) + [size]
            got = [r for a, b in zip(cuts, cuts[1:]) for r in reader(remote, src, cfg, byte_range=(a, b))]
            want = list(reader(local, src, cfg))
            assert [key(r, False) for r in got] == [key(r, False) for r in want] and len(want) >= 4
        # the planner's probe (one ranged read per file) on the server: streams, and one stream
        fs.put(real["testcorpus.xml.bz2"], "s3://grist-pieces/one.xml.bz2")
        assert pieces_mod.probe_splittable("s3://grist-pieces/testcorpus.xml.bz2", "bz2")
        assert pieces_mod.probe_splittable("s3://grist-pieces/pywb-example-wget-1-14.warc.gz", "gzip")
        assert not pieces_mod.probe_splittable("s3://grist-pieces/one.xml.bz2", "bz2")


def test_multi_member_compressed_jsonl_reads_the_same_in_pieces(tmp_path):
    """Real Chinese text (chardet's feeds, 620 kB of jsonl) compressed as bgzip does (gzip members of
    64 kB of input, lines cut across members) and as pbzip2 does (a bz2 stream per 100 kB): pieces
    read every line once, as the whole file does; one gzip stream is read whole by its first piece."""
    from pipelines.sources.tabular import read_jsonl

    src = SourceConfig(name="zh", kind="jsonl", paths=["x"])
    data = open(ensure_built() / "web" / "zh" / "chardet-feeds.jsonl", "rb").read() + b"not json\n" + b'{"text": "cut'

    def rec(r) -> tuple:  # (a drop's `line` counts within its piece, as for uncompressed pieces)
        return key(r, False)[:2] + (r.id, json.dumps({k: v for k, v in r.meta.items() if k != "line"}))

    whole = [rec(r) for r in read_jsonl(_write_bytes(tmp_path / "plain.jsonl", data), src, CFG)]
    assert whole[-2:] == [("Drop", "invalid_json", None, "{}"), ("Drop", "invalid_json", None, "{}")]
    for name, compress, block, note in (("bgzip.jsonl.gz", gzip.compress, 65280, None),
                                        ("pbzip2.jsonl.bz2", bz2.compress, 100_000, None),
                                        ("one.jsonl.gz", gzip.compress, len(data), "unsplit_single_gzip_stream")):
        path = _write_bytes(tmp_path / name, b"".join(compress(data[i:i + block]) for i in range(0, len(data), block)))
        pieces, notes, holding = read_in_pieces(read_jsonl, path, src, CFG, 20_000)
        assert [rec(r) for r in pieces] == whole, name
        assert notes == ([note] if note else [])
        assert holding == 1 if note else holding > 5


def _write_bytes(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_a_real_arc_reads_the_same_in_pieces(real, tmp_path):
    """ARC (v1) records repeated after the real file's filedesc (plain, and gzipped per record as
    pywb's .arc.gz is): pieces that start in the middle read ARC headers, learnt from the filedesc."""
    arc = open(real["pywb-example.arc"], "rb").read()
    filedesc, record = arc[:151], arc[151:]  # (the real file: a filedesc, then one response record)
    assert record.startswith(b"http://example.com/ ")
    plain = _write_bytes(tmp_path / "x.arc", filedesc + record * 6)
    gz = _write_bytes(tmp_path / "x.arc.gz", gzip.compress(filedesc) + gzip.compress(record) * 6)
    for path, step in ((plain, 700), (gz, 500)):
        whole = [key(r) for r in read_web(path, WEB, WEB_CFG)]
        pieces, notes, holding = read_in_pieces(read_web, path, WEB, WEB_CFG, step)
        assert [key(r) for r in pieces] == whole and len(whole) == 6 and holding > 3 and not notes
