"""jsonl/parquet readers and the decompression helpers they share with the other readers."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc
from pipelines.sources.compression import open_decompressed, read_bounded_lines
from pipelines.sources.tabular import read_jsonl, read_parquet
from tests.sources.fixtures import paragraph, write_big_line

SRC = SourceConfig(name="notes", kind="jsonl", paths=["x"])
CFG = ReadConfig()
COMPRESS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


def _reasons(recs):
    return ["doc" if isinstance(r, Doc) else r.reason for r in recs]


def _lines(n: int) -> bytes:
    return b"".join(json.dumps({"id": f"r{i}", "text": paragraph(i), "lang": "en"}).encode() + b"\n" for i in range(n))


def test_jsonl_records_and_bad_lines(tmp_path):
    data = (b'{"id": "a", "text": "hello", "url": "u"}\n\n{"text": "no id"}\n[1, 2]\n{"id": 5}\n{"text": "  "}\n'
            b'{not json}\n{"text": "caf\xe9"}\n')
    (tmp_path / "a.jsonl").write_bytes(data)
    out = list(read_jsonl(str(tmp_path / "a.jsonl"), SRC, CFG))
    assert _reasons(out) == ["doc", "doc", "not_an_object", "missing_text", "empty_text", "invalid_json",
                             "undecodable_bytes"]
    assert out[0].id == "a" and out[0].meta == {"url": "u"} and out[1].id is None and out[3].id == "5"


@pytest.mark.parametrize("ext", ["gz", "bz2", "xz"])
def test_multi_member_streams_read_whole(tmp_path, ext):
    data = _lines(300)
    path = tmp_path / f"m.jsonl.{ext}"
    path.write_bytes(COMPRESS[ext](data[:5000]) + COMPRESS[ext](data[5000:]))  # concatenated members
    out = list(read_jsonl(str(path), SRC, CFG))
    assert _reasons(out) == ["doc"] * 300 and out[-1].id == "r299"


def test_truncated_gzip_mid_stream_keeps_records_before_cut(tmp_path):
    data = _lines(3000)
    comp = gzip.compress(data)
    (tmp_path / "cut.jsonl.gz").write_bytes(comp[: len(comp) // 2])
    out = list(read_jsonl(str(tmp_path / "cut.jsonl.gz"), SRC, CFG))
    assert _reasons(out)[-1] == "truncated_gzip" and set(_reasons(out)[:-1]) == {"doc"}
    n = len(out) - 1
    assert [d.id for d in out[:-1]] == [f"r{i}" for i in range(n)]
    # every complete line that zlib could decompress before the cut is there (not one buffer less)
    d = zlib_prefix(comp[: len(comp) // 2])
    assert n == d.count(b"\n")


def zlib_prefix(comp: bytes) -> bytes:
    import zlib

    return zlib.decompressobj(31).decompress(comp)


def test_truncated_bz2_and_corrupt_gzip(tmp_path):
    comp = bz2.compress(_lines(100))
    (tmp_path / "cut.jsonl.bz2").write_bytes(comp[:-10])
    out = _reasons(read_jsonl(str(tmp_path / "cut.jsonl.bz2"), SRC, CFG))
    assert out[-1] == "truncated_bz2" and set(out[:-1]) <= {"doc"}
    (tmp_path / "bad.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 200)
    assert _reasons(read_jsonl(str(tmp_path / "bad.jsonl.gz"), SRC, CFG)) == ["corrupt_gzip"]


def test_read_n_keeps_bytes_before_error(tmp_path):
    data = _lines(2000)
    comp = gzip.compress(data)
    (tmp_path / "cut.gz").write_bytes(comp[: len(comp) // 2])
    with open_decompressed(str(tmp_path / "cut.gz")) as f:
        got = f.read(len(data))  # one big read: the decompressed prefix, not an exception
        assert got and data.startswith(got)
        with pytest.raises(EOFError):
            f.read(10)


def test_empty_files(tmp_path):
    (tmp_path / "e.jsonl").write_bytes(b"")
    (tmp_path / "e.jsonl.gz").write_bytes(gzip.compress(b""))
    assert _reasons(read_jsonl(str(tmp_path / "e.jsonl"), SRC, CFG)) == ["empty_file"]
    assert _reasons(read_jsonl(str(tmp_path / "e.jsonl.gz"), SRC, CFG)) == ["empty_file"]


def test_read_bounded_lines_limits():
    lines = list(read_bounded_lines(io.BytesIO(b"abc\n" + b"x" * 10 + b"\n" + b"y" * 11 + b"\nlast"), 10, chunk=4))
    assert lines == [(b"abc\n", 4), (b"x" * 10 + b"\n", 11), (None, 12), (b"last", 4)]
    assert list(read_bounded_lines(io.BytesIO(b"z" * 11), 10)) == [(None, 11)]


def test_giant_single_line_jsonl_is_skipped_streaming(tmp_path):
    import resource

    path = write_big_line(tmp_path / "huge.jsonl", 100 * 1024 * 1024, b"q")
    with open(path, "ab") as f:
        f.write(b'\n{"text": "after the giant line"}\n')
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = list(read_jsonl(str(path), SRC, ReadConfig(max_line_bytes=1_000_000)))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert _reasons(out) == ["line_too_long", "doc"] and out[1].text == "after the giant line"
    assert grown_mb < 50


def test_parquet(tmp_path):
    pq.write_table(pa.table({"id": ["p1", "p2", None], "text": ["one", "", "three"], "score": [1, 2, 3]}),
                   tmp_path / "a.parquet")
    out = list(read_parquet(str(tmp_path / "a.parquet"), SRC, CFG))
    assert _reasons(out) == ["doc", "empty_text", "doc"]
    assert out[0].id == "p1" and out[0].meta == {"score": 1} and out[2].id is None
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nope")
    assert _reasons(read_parquet(str(tmp_path / "bad.parquet"), SRC, CFG)) == ["invalid_parquet"]
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "nocol.parquet")
    assert _reasons(read_parquet(str(tmp_path / "nocol.parquet"), SRC, CFG)) == ["missing_column_text"]
