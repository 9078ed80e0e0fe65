"""End to end: the read stage over web, books, encyclopedia and code sources at once, on Ray."""

from __future__ import annotations

import gzip
import json

from tests.conftest import dir_bytes, make_config, read_dir, run_config
from tests.sources.fixtures import (article_wikitext, book_body, git_init_commit, gutenberg_text, paragraph,
                                    python_module, web_records, wiki_page, write_epub, write_tree, write_warc,
                                    write_wiki)


def _inputs(d):
    write_warc(d / "web/a.warc.gz", web_records(4) + [{"url": "https://x/404", "status": "404 Not Found", "body": b"no"}])
    cut = write_warc(d / "web/tmp.warc.gz", web_records(3, start=10)).read_bytes()
    (d / "web/b.warc.gz").write_bytes(cut[:-300])
    (d / "web/tmp.warc.gz").unlink()
    (d / "books/one.txt.gz").parent.mkdir(parents=True)
    (d / "books/one.txt.gz").write_bytes(gzip.compress(gutenberg_text("One", book_body(1)).encode()))
    write_epub(d / "books/two.epub", {"b.xhtml": paragraph(2), "a.xhtml": paragraph(3)}, ["b.xhtml", "a.xhtml"])
    (d / "books/bad.epub").write_bytes(b"not a zip")
    write_wiki(d / "wiki/dump.xml.bz2", [wiki_page("A", article_wikitext(1), 1), wiki_page("Talk:A", "x", 2, ns=1),
                                         wiki_page("B", "#REDIRECT [[A]]", 3), wiki_page("C", article_wikitext(4), 4)], "bz2")
    write_tree(d / "code/repo", {"m.py": python_module(1), "x.py": b"x = 1\x00\x01", "node_modules/a.js": "a;\n"})
    git_init_commit(d / "code/repo")
    return [
        {"name": "web", "kind": "web", "paths": [str(d / "web/*.warc.gz")]},
        {"name": "books", "kind": "books", "paths": [str(d / "books/*")]},
        {"name": "wiki", "kind": "encyclopedia", "paths": [str(d / "wiki/*.xml.bz2")]},
        {"name": "code", "kind": "code", "paths": [str(d / "code/repo")]},
    ]


def test_read_stage_all_kinds_balanced_and_deterministic(tmp_path, ray_local):
    sources = _inputs(tmp_path / "in")
    report = run_config(make_config(tmp_path / "r1", sources), workers=2)
    assert report["accounting"]["balanced"]
    for stage in report["stages"]:
        assert stage["docs_in"] == stage["docs_out"] + sum(stage["dropped"].values()), stage["name"]
    read = next(s for s in report["stages"] if s["name"] == "read")
    assert read["dropped"] == {"binary_file": 1, "code_vendored": 1, "corrupt_epub": 1, "http_status_404": 1,
                               "non_article_namespace": 1, "redirect": 1, "truncated_warc": 1}
    assert {k: v["docs_out"] for k, v in read["sources"].items()} == {"books": 2, "code": 1, "web": 6, "wiki": 2}

    docs = read_dir(tmp_path / "r1/out/documents")
    assert docs.num_rows == 11 and len(set(docs.column("id").to_pylist())) == 11
    code = [json.loads(m) for m, s in zip(docs.column("meta").to_pylist(), docs.column("source").to_pylist()) if s == "code"]
    assert code[0]["language"] == "Python" and len(code[0]["commit"]) == 40
    assert "code/repo/m.py" in docs.column("id").to_pylist()

    again = run_config(make_config(tmp_path / "r2", sources), workers=1)
    assert again["accounting"] == report["accounting"]
    assert dir_bytes(tmp_path / "r1/out/documents") == dir_bytes(tmp_path / "r2/out/documents")
