"""Read parts of bounded size named by content: large jsonl/parquet split, small files grouped, and
a changed input listing picked up on a rerun (new work done, unchanged parts reused)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.partition import plan_read_parts
from tests.conftest import make_config, read_dir, run_config, write_jsonl


def user_ids(table) -> list[str]:
    """The records' own ids (documents carry them in meta["id"]; `id` is qualified by file)."""
    return [json.loads(m)["id"] for m in table.column("meta").to_pylist()]


def _rows(n: int, tag: str) -> list[dict]:
    return [{"id": f"{tag}{i}", "text": f"document {tag} {i} " + "words " * (i % 7 + 3)} for i in range(n)]


def test_a_large_jsonl_is_read_in_byte_ranges_that_cover_every_line_once(tmp_path, ray_local):
    rows = _rows(400, "a")
    big = write_jsonl(tmp_path / "in" / "big.jsonl", rows)
    with open(big, "a") as f:  # a bad line and a record without id in the middle of the ranges
        f.write("not json\n" + json.dumps({"text": "no id here"}) + "\n")
    src = [{"name": "t", "kind": "jsonl", "paths": [str(big)]}]
    whole = make_config(tmp_path / "whole", src)
    split = make_config(tmp_path / "split", src, runtime={"part_mb": 4000 / 1024 / 1024})
    assert len(plan_read_parts(whole, None)) == 1
    specs = plan_read_parts(split, None)
    assert len(specs) > 5 and all(len(s["files"]) == 1 and "range" in s["files"][0] for s in specs)
    run_config(whole)
    run_config(split)
    a, b = read_dir(tmp_path / "whole" / "out" / "documents"), read_dir(tmp_path / "split" / "out" / "documents")
    assert sorted(a.column("text").to_pylist()) == sorted(b.column("text").to_pylist())
    assert b.num_rows == 401 and len(set(b.column("id").to_pylist())) == 401
    dropped = read_dir(tmp_path / "split" / "out" / "dropped")
    assert dropped.column("reason").to_pylist() == ["invalid_json"]


def test_a_large_parquet_is_split_by_row_groups(tmp_path, ray_local):
    rows = _rows(300, "p")
    path = tmp_path / "in" / "big.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=25)
    cfg = make_config(tmp_path, [{"name": "t", "kind": "parquet", "paths": [str(path)]}],
                      runtime={"part_mb": 2000 / 1024 / 1024})
    specs = plan_read_parts(cfg, None)
    groups = [s["files"][0]["row_groups"] for s in specs]
    assert len(specs) > 2 and groups[0][0] == 0 and groups[-1][1] == 12
    assert all(a[1] == b[0] for a, b in zip(groups, groups[1:]))  # contiguous, no gap, no overlap
    run_config(cfg)
    got = read_dir(tmp_path / "out" / "documents")
    assert sorted(user_ids(got)) == sorted(r["id"] for r in rows)


def test_small_files_are_grouped_and_a_changed_listing_is_picked_up(tmp_path, ray_local):
    folder = tmp_path / "in"
    for k in range(6):
        write_jsonl(folder / f"f{k}.jsonl", _rows(5, f"f{k}-"))
    cfg = make_config(tmp_path, [{"name": "t", "kind": "jsonl", "paths": [str(folder / "*.jsonl")]}],
                      runtime={"part_mb": 1500 / 1024 / 1024})
    specs = plan_read_parts(cfg, None)
    assert 1 < len(specs) < 6 and sum(len(s["files"]) for s in specs) == 6
    run_config(cfg)
    stats = tmp_path / "out" / "_work" / "00-read" / "stats"
    before = {p.name: p.stat().st_mtime_ns for p in stats.glob("*.json")}
    # A new file sorted last: only the last group changes; the others are not read again.
    write_jsonl(folder / "g.jsonl", _rows(3, "new-"))
    report = run_config(cfg)
    after = {p.name: p.stat().st_mtime_ns for p in stats.glob("*.json")}
    reused = [n for n in before if after.get(n) == before[n]]
    assert reused and len(reused) >= len(before) - 1
    ids = set(user_ids(read_dir(tmp_path / "out" / "documents")))
    assert {"new-0", "new-2", "f0-0", "f5-4"} <= ids and len(ids) == 33
    assert report["accounting"]["documents"] == 33
    # A removed file: its documents leave the output (its old part stays in _work, unread).
    (folder / "f0.jsonl").unlink()
    run_config(cfg)
    ids = set(user_ids(read_dir(tmp_path / "out" / "documents")))
    assert "f0-0" not in ids and len(ids) == 28


def test_a_file_rewritten_in_place_is_read_again(tmp_path, ray_local):
    """Same path, same size, new content and mtime: the part's name stays, its key changes."""
    import os

    path = write_jsonl(tmp_path / "in" / "a.jsonl", _rows(5, "a"))
    cfg = make_config(tmp_path, [{"name": "t", "kind": "jsonl", "paths": [str(path)]}])
    run_config(cfg)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"document a", b"document b"))  # same length
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    run_config(cfg)
    texts = read_dir(tmp_path / "out" / "documents").column("text").to_pylist()
    assert len(texts) == 5 and all(t.startswith("document b") for t in texts)


def _records(out) -> tuple[list, list]:
    """(documents, drops) of a run as sorted (text or reason, meta) pairs: ids left out (a piece's
    ids carry its range's start)."""
    docs, dropped = read_dir(out / "documents"), read_dir(out / "dropped")
    return (sorted(zip(docs.column("text").to_pylist(), docs.column("meta").to_pylist())),
            sorted(zip(dropped.column("reason").to_pylist(), dropped.column("meta").to_pylist())))


def test_real_warcs_and_dumps_split_into_parts_read_as_whole(tmp_path, ray_local):
    """The real iana capture (787 kB .warc.gz, a gzip member a record), gensim's real enwiki dump as
    shipped (1.7 MB, one bz2 stream) and re-compressed as a multistream dump (10 pages a stream), and
    Debian's real Chinese fortunes as bgzip-style gzip members (a member per 64 kB, lines cut):
    with part_mb 1 they become parts of ranges (the single stream, found so by the planner's probe,
    one part over the whole file, read whole and counted), and the documents and drops are those of
    the one-part-per-file run."""
    import bz2
    import gzip
    import os
    import shutil

    from data.real.realset import ensure_built, warcs, wiki_dumps
    from tests.sources.fixtures import multistream

    ensure_built()
    real = {r["file"]: r["path"] for r in warcs() + wiki_dumps()}
    enwiki = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    (tmp_path / "in").mkdir()
    shutil.copy(real["pywb-iana.warc.gz"], tmp_path / "in" / "iana.warc.gz")
    shutil.copy(real[enwiki], tmp_path / "in" / "shipped.xml.bz2")
    (tmp_path / "in" / "multi.xml.bz2").write_bytes(multistream(bz2.decompress(open(real[enwiki], "rb").read()), 10))
    zh = open(ensure_built() / "web" / "zh" / "fortunes-zh.jsonl", "rb").read()  # bgzip-style: 64 kB members
    (tmp_path / "in" / "zh.jsonl.gz").write_bytes(b"".join(gzip.compress(zh[i:i + 65280]) for i in range(0, len(zh), 65280)))
    sources = [{"name": "web", "kind": "web", "paths": [str(tmp_path / "in" / "*.warc.gz")]},
               {"name": "wiki", "kind": "encyclopedia", "paths": [str(tmp_path / "in" / "*.xml.bz2")]},
               {"name": "zh", "kind": "jsonl", "paths": [str(tmp_path / "in" / "*.jsonl.gz")]}]
    whole = make_config(tmp_path / "whole", sources)
    split = make_config(tmp_path / "split", sources, runtime={"part_mb": 1})
    assert len(plan_read_parts(whole, None)) == 3  # (the two dumps grouped in one part)
    specs = plan_read_parts(split, None)
    by_file = {}
    for s in specs:
        assert len(s["files"]) == 1 and "range" in s["files"][0]
        by_file.setdefault(s["files"][0]["shown_path"].rsplit("/", 1)[1], []).append(s["files"][0]["range"])
    # compressed: 1 MB of text ~ 256 kB stored
    assert {k: len(v) for k, v in by_file.items()} == {"iana.warc.gz": 4, "multi.xml.bz2": 7, "shipped.xml.bz2": 1,
                                                       "zh.jsonl.gz": 3}
    assert by_file["shipped.xml.bz2"] == [[0, os.path.getsize(tmp_path / "in" / "shipped.xml.bz2")]]
    run_config(whole)
    report = run_config(split)
    a, b = _records(tmp_path / "whole" / "out"), _records(tmp_path / "split" / "out")
    assert a == b and len(a[0]) == 16 + 2 * 106 + 5671 and len(a[1]) == 32 + 2 * 100  # web: 16 pages, 32 drops
    read = next(s for s in report["stages"] if s["name"] == "read")
    assert read["counters"]["unsplit_single_bz2_stream"] == 1
    ids = read_dir(tmp_path / "split" / "out" / "documents").column("id").to_pylist()
    assert len(set(ids)) == len(ids) and all("@" in i for i in ids)  # SOURCE/FILE@START/N


def test_a_code_tree_edited_deep_inside_gets_a_new_key(tmp_path):
    """A tree's part is keyed by every file's stamp: an edit two folders down (the tree's own mtime
    unchanged) changes the key, so the tree is read again; an untouched tree keeps its key."""
    import os

    deep = tmp_path / "repos" / "r1" / "pkg" / "sub"
    deep.mkdir(parents=True)
    (deep / "m.py").write_text("x = 1\n")
    (tmp_path / "repos" / "r2").mkdir()
    (tmp_path / "repos" / "r2" / "a.py").write_text("y = 2\n")
    cfg = make_config(tmp_path, [{"name": "c", "kind": "code", "paths": [str(tmp_path / "repos" / "*")]}])
    before = {s["files"][0]["shown_path"]: s["key"] for s in plan_read_parts(cfg, None)}
    top = tmp_path / "repos" / "r1"
    st = top.stat()
    (deep / "m.py").write_text("x = 3\n")  # same size, new content
    os.utime(deep / "m.py", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    os.utime(top, ns=(st.st_atime_ns, st.st_mtime_ns))  # the tree's own mtime as it was
    after = {s["files"][0]["shown_path"]: s["key"] for s in plan_read_parts(cfg, None)}
    r1, r2 = (k for k in sorted(before))
    assert before[r1] != after[r1] and before[r2] == after[r2]
