"""Large WARCs and dumps split into read parts (pipelines/partition.py, pipelines/sources/pieces.py).

Prints, for real files made real-sized by concatenation (the real-data set's iana capture, a
.warc.gz gzipped per record; Debian's Chinese fortunes as jsonl gzipped as bgzip does; gensim's
real enwiki dump re-compressed as Wikimedia's multistream dumps are, 100 pages a bz2 stream):
- how many parts the read stage plans at a given part_mb,
- that the records of the parts, read one after the other, are those of the whole file (same text,
  meta, drops and reasons, same order),
- the whole file's read time against the longest part's (what bounds a parallel read) and the
  parts' sum (the cost of splitting: finding and verifying record starts, each part's head read).
And how many parts a 22 GB multistream dump and a 1 GB .warc.gz get at the default part_mb
(planning only: sparse files, nothing read).

    python benchmarks/bench_split_read.py [--copies 8] [--part-mb 8]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.real.realset import ensure_built, warcs, wiki_dumps  # noqa: E402
from pipelines.config import ReadConfig, SourceConfig, parse_config  # noqa: E402
from pipelines.partition import plan_read_parts  # noqa: E402
from pipelines.sources.base import Doc, Note  # noqa: E402
from pipelines.sources.encyclopedia import read_encyclopedia  # noqa: E402
from pipelines.sources.tabular import read_jsonl  # noqa: E402
from pipelines.sources.web import read_web  # noqa: E402
from tests.sources.fixtures import multistream  # noqa: E402

ENWIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def _key(rec) -> tuple:
    meta = {k: v for k, v in rec.meta.items() if k not in ("offset", "from_offset", "error")}
    return type(rec).__name__, rec.text if isinstance(rec, Doc) else rec.reason, json.dumps(meta, sort_keys=True)


def _plan(path: Path, kind: str, part_mb: float) -> list[list[int]]:
    cfg = parse_config({"output": str(path.parent / "out"), "sources": [{"name": "s", "kind": kind, "paths": [str(path)]}],
                        "runtime": {"part_mb": part_mb}}, path.parent)
    return [f.get("range") for spec in plan_read_parts(cfg, None) for f in spec["files"]]


def _compare(label: str, path: Path, kind: str, reader, src, cfg, part_mb: float) -> None:
    ranges = _plan(path, kind, part_mb)
    t = time.process_time()
    whole = [_key(r) for r in reader(str(path), src, cfg)]
    t_whole = time.process_time() - t
    got, times, notes = [], [], []
    for r in ranges:
        t = time.process_time()
        recs = list(reader(str(path), src, cfg, byte_range=tuple(r)))
        times.append(time.process_time() - t)
        notes += [n.counter for n in recs if isinstance(n, Note)]
        got += [_key(x) for x in recs if not isinstance(x, Note)]
    docs = sum(k[0] == "Doc" for k in whole)
    print(f"{label}: {path.stat().st_size / 1e6:.1f} MB, part_mb {part_mb:g} -> {len(ranges)} parts; "
          f"{len(whole)} records ({docs} documents); parts == whole: {got == whole}; notes {notes or 'none'}")
    print(f"  CPU s: whole {t_whole:.2f}, longest part {max(times):.2f} ({max(times) / t_whole:.2f}x), "
          f"parts summed {sum(times):.2f} ({sum(times) / t_whole:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=8, help="concatenated copies of each real file")
    ap.add_argument("--part-mb", type=float, default=8.0)
    args = ap.parse_args()
    ensure_built()
    real = {r["file"]: r["path"] for r in warcs() + wiki_dumps()}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        warc = d / "iana.warc.gz"
        warc.write_bytes(open(real["pywb-iana.warc.gz"], "rb").read() * args.copies)
        _compare(f"iana .warc.gz x{args.copies}", warc, "web", read_web, SourceConfig(name="s", kind="web", paths=["x"]),
                 ReadConfig(extractor="resiliparse"), args.part_mb)
        zh = (ensure_built() / "web" / "zh" / "fortunes-zh.jsonl").read_bytes() * args.copies
        bgz = d / "zh.jsonl.gz"  # bgzip's layout: a gzip member per 64 kB of input, lines cut across members
        bgz.write_bytes(b"".join(gzip.compress(zh[i:i + 65280]) for i in range(0, len(zh), 65280)))
        _compare(f"fortunes-zh jsonl x{args.copies}, bgzip-style .gz", bgz, "jsonl", read_jsonl,
                 SourceConfig(name="s", kind="jsonl", paths=["x"]), ReadConfig(), args.part_mb)
        xml = bz2.decompress(open(real[ENWIKI], "rb").read())
        dump = d / "enwiki-multistream.xml.bz2"
        dump.write_bytes(multistream(xml, 100) * args.copies)
        src = SourceConfig(name="s", kind="encyclopedia", paths=["x"])
        _compare(f"enwiki multistream .bz2 x{args.copies}", dump, "encyclopedia", read_encyclopedia, src, ReadConfig(),
                 args.part_mb)
        single = d / "enwiki-single.xml.bz2"
        single.write_bytes(bz2.compress(xml * 2))
        _compare("enwiki single-stream .bz2 x2", single, "encyclopedia", read_encyclopedia, src, ReadConfig(),
                 args.part_mb / 4)
        for name, size, kind in (("enwiki-pages-articles-multistream.xml.bz2", 22 << 30, "encyclopedia"),
                                 ("crawl.warc.gz", 1 << 30, "web")):
            sparse = d / "sparse" / name
            sparse.parent.mkdir(exist_ok=True)
            with open(sparse, "wb") as f:
                f.truncate(size)
            print(f"{name}: {size / 2**30:.0f} GiB at the default part_mb 64 -> {len(_plan(sparse, kind, 64))} parts")
            sparse.unlink()


if __name__ == "__main__":
    main()
