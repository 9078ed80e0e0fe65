"""Ids restarting at 0 in every file (exported shards): documents never merge by id, dedup does not
crash, duplicate texts are dropped as duplicates, and (source, id) is unique in documents/."""

from __future__ import annotations

import json

from tests.conftest import make_config, read_dir, run_config, write_jsonl


def test_ids_repeated_across_files_stay_distinct_documents(tmp_path, ray_local):
    texts = [f"an ordinary paragraph number {i} about rivers, bridges and the towns along them. " * 6
             for i in range(8)]
    # Both files use ids 0..7; file b repeats two of file a's texts (under other ids) and has its own.
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": i, "text": texts[i]} for i in range(8)])
    b_texts = [texts[3], texts[5]] + [t.replace("rivers", f"hills {i}") for i, t in enumerate(texts[2:])]
    write_jsonl(tmp_path / "in" / "b.jsonl", [{"id": i, "text": t} for i, t in enumerate(b_texts)])
    cfg = make_config(tmp_path, [{"name": "shards", "kind": "jsonl", "paths": [str(tmp_path / "in" / "*.jsonl")]}],
                      dedup={"enabled": True})
    report = run_config(cfg)
    docs = read_dir(tmp_path / "out" / "documents")
    dropped = read_dir(tmp_path / "out" / "dropped")
    ids = docs.column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert report["accounting"]["balanced"] and report["accounting"]["records_in"] == 16
    # Exactly the two repeated texts are duplicates; every other record is a document.
    reasons = dropped.column("reason").to_pylist()
    assert len(reasons) == 2 and all("duplicate" in r for r in reasons), reasons
    assert docs.num_rows == 14 and len(set(docs.column("text").to_pylist())) == 14
    # The user's ids are kept, and both files' "id": 0 are there.
    user = [(json.loads(m)["path"].rsplit("/", 1)[-1], json.loads(m)["id"]) for m in docs.column("meta").to_pylist()]
    assert ("a.jsonl", "0") in user and ("b.jsonl", "0") not in user and ("b.jsonl", "2") in user
