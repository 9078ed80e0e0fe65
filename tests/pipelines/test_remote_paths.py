"""Remote URLs take the same code path as local files (fsspec): globbing, opening, decompression.
`memory://` is a real fsspec filesystem living in this process, so readers are called directly."""

from __future__ import annotations

import gzip
import json

import fsspec

from pipelines.config import ReadConfig, SourceConfig, parse_config
from pipelines.sources.base import Doc, Drop
from pipelines.sources.files import expand_paths
from pipelines.sources.tabular import read_jsonl


def test_memory_urls_glob_open_and_decompress():
    fs = fsspec.filesystem("memory")
    rows = [{"id": f"r{i}", "text": f"remote text {i}"} for i in range(5)]
    fs.pipe("/bucket/corpus/a.jsonl.gz", gzip.compress("\n".join(json.dumps(r) for r in rows).encode(), mtime=0))
    fs.pipe("/bucket/corpus/b.jsonl", b'{"text": "second file"}\nnot json\n')
    paths = expand_paths(["memory://bucket/corpus/*.jsonl*"])
    assert [p.split("://")[0] for p in paths] == ["memory", "memory"]
    assert [p.rsplit("/", 2)[-2:] for p in paths] == [["corpus", "a.jsonl.gz"], ["corpus", "b.jsonl"]]
    src = SourceConfig(name="remote", kind="jsonl", paths=["memory://bucket/corpus/*"])
    got = [r for p in paths for r in read_jsonl(p, src, ReadConfig())]
    docs = [r for r in got if isinstance(r, Doc)]
    assert [d.id for d in docs[:5]] == [r["id"] for r in rows] and docs[5].text == "second file"
    assert [r.reason for r in got if isinstance(r, Drop)] == ["invalid_json"]


def test_a_remote_glob_matching_nothing_is_a_config_error():
    import pytest

    from pipelines.errors import ConfigError

    with pytest.raises(ConfigError, match=r"sources.0.paths.0: no file matches 'memory://nowhere/\*.jsonl'"):
        parse_config({"output": "out", "sources": [{"name": "a", "kind": "jsonl", "paths": ["memory://nowhere/*.jsonl"]}]})


def test_an_unlistable_remote_path_is_one_line_naming_it(monkeypatch, tmp_path):
    """s3:// with no credentials to reach it: a config error naming the path, not a traceback."""
    import pytest

    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    from pipelines.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^sources.0.paths.0: cannot list 's3://bucket/\*.warc.gz': "):
        parse_config({"output": "out", "sources": [{"name": "a", "kind": "web", "paths": ["s3://bucket/*.warc.gz"]}]})
