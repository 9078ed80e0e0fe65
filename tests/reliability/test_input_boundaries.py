"""Hostile inputs at the door of the read stage: lone surrogates, symlinks out of the tree or into a
loop, FIFOs, a reader that raises. Each is a named drop with the path; nothing ends the run and
nothing outside the input tree is read."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import make_config, read_dir, run_config, write_jsonl

SENTINEL = "SENTINEL-OUTSIDE-THE-TREE-7f3a"


def test_surrogate_line_is_replaced_and_counted(tmp_path: Path, ray_local):
    data = tmp_path / "data"
    data.mkdir()
    # a lone surrogate escape is valid JSON; json.dumps keeps it escaped, as a real exporter would
    (data / "a.jsonl").write_text(json.dumps({"text": "bad \ud800 here"}) + "\n" + json.dumps({"text": "fine"}) + "\n")
    cfg = make_config(tmp_path, [{"name": "notes", "kind": "jsonl", "paths": ["data/*.jsonl"]}])
    run_config(cfg, workers=1)
    docs = read_dir(tmp_path / "out" / "documents").to_pylist()
    assert sorted(d["text"] for d in docs) == ["bad \ufffd here", "fine"]
    assert read_dir(tmp_path / "out" / "dropped") is None or read_dir(tmp_path / "out" / "dropped").num_rows == 0


def _tree(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SENTINEL + "\n")
    books = tmp_path / "books"
    books.mkdir()
    (books / "good.txt").write_text("A good book.\n\nIt has two paragraphs.\n")
    os.symlink(outside / "secret.txt", books / "leak.txt")
    os.symlink(books / "loop.txt", books / "loop.txt")  # a link to itself: ELOOP
    os.mkfifo(books / "pipe.txt")  # opening it would block forever
    return books


def test_symlinks_loops_and_fifos_are_named_drops(tmp_path: Path, ray_local):
    _tree(tmp_path)
    cfg = make_config(tmp_path, [{"name": "books", "kind": "books", "paths": ["books/*.txt"]}])
    run_config(cfg, workers=1)
    kept = read_dir(tmp_path / "out" / "documents").to_pylist()
    dropped = read_dir(tmp_path / "out" / "dropped").to_pylist()
    reasons = {Path(json.loads(d["meta"])["path"] if isinstance(d["meta"], str) else d["meta"]["path"]).name: d["reason"]
               for d in dropped}
    assert reasons == {"leak.txt": "symlink_outside_tree", "loop.txt": "symlink_loop", "pipe.txt": "not_regular_file"}
    assert kept and all(Path(str(d["meta"])).name != "leak.txt" for d in kept)
    assert not any(SENTINEL in d["text"] for d in kept)


def test_code_tree_symlinks_and_fifo_are_named_drops(tmp_path: Path):
    from pipelines.config import ReadConfig, SourceConfig
    from pipelines.sources.code import read_code

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(f"X = '{SENTINEL}'\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text("def main():\n    return 1\n")
    os.symlink(outside / "secret.py", repo / "leak.py")
    os.symlink(outside, repo / "linked_dir")
    os.mkfifo(repo / "pipe.py")
    recs = list(read_code(str(repo), SourceConfig(name="code", kind="code", paths=[str(repo)]), ReadConfig()))
    got = {r.meta["path"]: getattr(r, "reason", "doc") for r in recs}
    assert got == {"main.py": "doc", "leak.py": "symlink_outside_tree", "pipe.py": "not_regular_file"}
    assert not any(SENTINEL in (getattr(r, "text", "") or "") for r in recs)
