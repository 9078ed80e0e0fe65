"""Every dropped record can be traced: `dropped/*.parquet` has the input `path` and the record's
`meta` (url and WARC record id for web, line for jsonl), for drops of the read, filter and dedup
stages alike."""

from __future__ import annotations

import json

import pytest

from pipelines.document import DROPPED_SCHEMA
from tests.conftest import make_config, read_dir, run_config, write_jsonl
from tests.sources.fixtures import sentence, write_warc


def article(i: int) -> str:
    """Prose with stop words and sentences, different for each i: the Gopher quality rules keep it."""
    return "\n".join(f"This is what the {w} of {i} is about, and it is one of the {sentence(i * 9 + k).lower()[:-1]} "
                     f"that we have seen in the town. It was there for all of us to see, so we went to look at it."
                     for k, w in enumerate(("story", "note", "letter", "report", "record")))


@pytest.fixture(scope="module")
def run(tmp_path_factory, ray_local):
    root = tmp_path_factory.mktemp("provenance")
    page = "<html><body><article>{}</article></body></html>"
    records = [{"type": "response", "url": f"https://example.com/page/{i}",
                "body": page.format("".join(f"<p>{p}</p>" for p in article(i).split("\n"))).encode()} for i in range(3)]
    records += [
        {"type": "response", "url": "https://example.com/gone", "status": "404 Not Found", "body": b"<html>no</html>"},
        {"type": "response", "url": "https://example.com/logo.png", "content_type": "image/png", "body": b"\x89PNG"},
        {**records[1], "url": "https://example.com/copy-of-1"},  # an exact duplicate, dropped by dedup
        {"type": "response", "url": "https://example.com/tiny", "body": page.format("<p>Too short.</p>").encode()},
    ]
    write_warc(root / "web" / "crawl.warc.gz", records)
    write_jsonl(root / "notes" / "a.jsonl", [{"text": article(10 + i)} for i in range(3)]
                + [{"title": "no text"}, {"text": "   "}, {"text": "Too short."}])
    with open(root / "notes" / "a.jsonl", "a", encoding="utf-8") as f:
        f.write("{broken json\n")
    # Relative source paths: they resolve against the config's folder (root), not the cwd.
    sources = [{"name": "web", "kind": "web", "paths": ["web/*.warc.gz"]},
               {"name": "notes", "kind": "jsonl", "paths": ["notes/*.jsonl"]}]
    # Only the Gopher quality rules (gopher_short_doc for the tiny pages), so the drops are known.
    filters = {"enabled": True, **{k: {"enabled": False} for k in ("quality", "language", "lines", "c4",
                                                                     "gopher_repetition", "fineweb")}}
    cfg = make_config(root, sources, filters=filters, dedup={"enabled": True})
    run_config(cfg, workers=1)
    return read_dir(root / "out" / "dropped")


def test_dropped_rows_carry_path_and_meta(run):
    assert run.schema.names == DROPPED_SCHEMA.names
    rows = run.to_pylist()
    assert {r["stage"] for r in rows} == {"read", "filters", "dedup"}
    for r in rows:
        meta = json.loads(r["meta"])
        assert r["path"] and r["path"] == meta["path"], r
        if r["source"] == "web":
            assert r["path"] == "web/crawl.warc.gz" and meta["url"].startswith("https://example.com/"), r
            assert meta["warc_record_id"].startswith("<urn:uuid:"), r
        else:
            assert r["path"] == "notes/a.jsonl", r
            if r["stage"] == "read":  # a record that never became a document: its line in the file
                assert isinstance(meta["line"], int), r


def test_each_stage_drop_is_traceable(run):
    by_reason = {(r["stage"], r["reason"]): json.loads(r["meta"]) for r in run.to_pylist()}
    assert by_reason[("read", "http_status_404")]["url"] == "https://example.com/gone"
    assert by_reason[("read", "non_html")]["url"] == "https://example.com/logo.png"
    assert by_reason[("read", "invalid_json")]["line"] == 6
    assert by_reason[("read", "missing_text")]["line"] == 3
    assert by_reason[("read", "empty_text")]["line"] == 4
    dup = by_reason[("dedup", "exact_duplicate")]
    assert dup["url"] in ("https://example.com/page/1", "https://example.com/copy-of-1") and dup["warc_record_id"]
    filtered = [r for r in run.to_pylist() if r["stage"] == "filters"]
    assert {(r["source"], r["id"], r["reason"]) for r in filtered} == {
        ("web", "web/00000/0000006", "gopher_short_doc"), ("notes", "notes/00000/0000005", "gopher_short_doc")}
    assert {json.loads(r["meta"]).get("url") for r in filtered} == {"https://example.com/tiny", None}
