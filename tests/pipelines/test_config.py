"""Every config error is one line naming the key or path, exit code 2, before any work starts."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from pipelines.cli import main
from pipelines.config import load_config
from pipelines.errors import ConfigError
from tests.conftest import write_jsonl


@pytest.fixture()
def data(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"text": "hello"}])
    return tmp_path


def _cfg(tmp_path, **over):
    base = {"output": str(tmp_path / "out"), "sources": [{"name": "a", "kind": "jsonl", "paths": [str(tmp_path / "a.jsonl")]}]}
    base.update(over)
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(base))
    return p


def _error(path) -> str:
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_valid_config_loads(data):
    cfg = load_config(_cfg(data))
    assert cfg.sources[0].name == "a" and cfg.dedup.threshold == 0.8


def test_unknown_top_level_key(data):
    assert _error(_cfg(data, colour="red")) == "colour: unknown key"


def test_unknown_nested_key(data):
    assert _error(_cfg(data, dedup={"treshold": 0.8})) == "dedup.treshold: unknown key"


def test_wrong_type(data):
    msg = _error(_cfg(data, seed="zero"))
    assert msg.startswith("seed:") and "'zero'" in msg


def test_missing_path(data):
    p = _cfg(data, sources=[{"name": "a", "kind": "jsonl", "paths": [str(data / "nope/*.jsonl")]}])
    msg = _error(p)
    assert msg.startswith("sources.0.paths.0: no file matches") and "nope/*.jsonl" in msg


def test_duplicate_source_name(data):
    src = {"name": "a", "kind": "jsonl", "paths": [str(data / "a.jsonl")]}
    assert "duplicate source name 'a'" in _error(_cfg(data, sources=[src, src]))


def test_unknown_kind(data):
    msg = _error(_cfg(data, sources=[{"name": "a", "kind": "videos", "paths": [str(data / "a.jsonl")]}]))
    assert msg.startswith("sources.0.kind:") and "'videos'" in msg


def test_missing_required_key(data):
    assert _error(_cfg(data, sources=[{"name": "a", "paths": [str(data / "a.jsonl")]}])) == "sources.0.kind: required key is missing"


def test_config_file_not_found(tmp_path):
    assert "config file not found" in _error(tmp_path / "missing.yaml")


def test_invalid_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("sources: [\n")
    assert "invalid YAML" in _error(p)


def test_cli_exit_code_2_and_one_line(data, capsys):
    code = main(["run", str(_cfg(data, colour="red"))])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == "grist: colour: unknown key"


def test_cli_bad_argument_exit_2(data, capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", str(_cfg(data)), "--workers", "many"])
    assert e.value.code == 2


# -- paths resolve against the config file's folder ----------------------------------------------

def _nested_config(tmp_path, **over):
    """tmp_path/other/dir/config.yaml reading other/dir/web/a.jsonl by a relative glob."""
    folder = tmp_path / "other" / "dir"
    write_jsonl(folder / "web" / "a.jsonl", [{"text": "hello from a nested folder"}])
    cfg = {"output": "out", "sources": [{"name": "a", "kind": "jsonl", "paths": ["web/*.jsonl"]}],
           **{s: {"enabled": False} for s in ("filters", "dedup", "mixture", "tokenizer", "shards")}, **over}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    from pipelines.run import Pipeline
    from pipelines.sources.files import expand_paths, resolve_path

    path = _nested_config(tmp_path, filters={"enabled": False, "quality": {"model": "models/q.bin", "labelled": "l.jsonl"}},
                          tokenizer={"enabled": False, "path": "tok/tokenizer.json"},
                          dedup={"enabled": False, "decontam": {"eval_sets": [{"name": "e", "paths": ["evals/*.jsonl"]}]}})
    folder = path.parent
    with contextlib.chdir(tmp_path):  # any cwd but the config's folder
        cfg = load_config("other/dir/config.yaml")
    assert cfg.base_dir == folder and Pipeline(cfg).base_dir == folder
    assert cfg.output == str(folder / "out")  # made absolute at load time
    assert expand_paths(cfg.sources[0].paths, cfg.base_dir) == [str(folder / "web" / "a.jsonl")]
    # The other paths stay as written (stage hashes do not depend on where the folder sits) and
    # resolve against base_dir where a stage opens them.
    q, e = cfg.filters.quality, cfg.dedup.decontam.eval_sets[0]
    assert (q.model, q.labelled, cfg.tokenizer.path, e.paths) == ("models/q.bin", "l.jsonl", "tok/tokenizer.json", ["evals/*.jsonl"])
    assert resolve_path(q.model, cfg.base_dir) == str(folder / "models" / "q.bin")
    assert resolve_path("../data/x.jsonl", cfg.base_dir) == str(tmp_path / "other" / "data" / "x.jsonl")


def test_absolute_home_and_url_paths_are_not_joined_to_the_folder(tmp_path):
    import fsspec

    from pipelines.sources.files import resolve_path

    fsspec.filesystem("memory").pipe("/grist-config-test/a.jsonl", b'{"text": "remote"}\n')
    absolute = str(tmp_path / "abs" / "out")
    path = _nested_config(tmp_path, output=absolute,
                          sources=[{"name": "a", "kind": "jsonl", "paths": [str(tmp_path / "other/dir/web/*.jsonl")]},
                                   {"name": "m", "kind": "jsonl", "paths": ["memory://grist-config-test/*.jsonl"]}],
                          tokenizer={"enabled": False, "path": "~/tok/tokenizer.json"})
    cfg = load_config(path)
    assert cfg.output == absolute
    assert cfg.sources[0].paths == [str(tmp_path / "other/dir/web/*.jsonl")]
    assert cfg.sources[1].paths == ["memory://grist-config-test/*.jsonl"]
    assert cfg.tokenizer.path == str(Path.home() / "tok" / "tokenizer.json")  # `~` expanded, not joined
    for url in ("s3://bucket/a/*.warc.gz", "https://example.com/x.jsonl"):
        assert resolve_path(url, cfg.base_dir) == url


def test_a_missing_relative_path_names_the_config_folder(tmp_path):
    path = _nested_config(tmp_path, sources=[{"name": "a", "kind": "jsonl", "paths": ["nope/*.jsonl"]}])
    assert _error(path) == f"sources.0.paths.0: no file matches 'nope/*.jsonl' in {path.parent}"


def test_every_path_key_is_resolved():
    """A new path-valued key in any config model must be listed in PATH_FIELDS."""
    from pydantic import BaseModel

    from pipelines.config import PATH_FIELDS, Config

    found = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            ann = str(field.annotation)
            key = f"{prefix}{name}"
            inner = getattr(field.annotation, "__args__", None) or ()
            sub = next((a for a in (field.annotation, *inner) if isinstance(a, type) and issubclass(a, BaseModel)), None)
            if sub is not None:
                walk(sub, f"{key}.*." if "list" in ann else f"{key}.")
            elif "str" in ann and any(w in name for w in ("path", "output", "model", "labelled", "file", "dir")):
                found.append(key)

    walk(Config, "")
    assert sorted(found) == sorted(PATH_FIELDS)


def test_cli_run_from_another_cwd(tmp_path):
    """`grist run other/dir/config.yaml` from tmp_path reads other/dir/web/ and writes other/dir/out;
    `--output` on the command line is relative to the cwd."""
    _nested_config(tmp_path)
    grist = Path(sys.executable).parent / "grist"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    for extra, out in (([], tmp_path / "other" / "dir" / "out"), (["--output", "cli-out"], tmp_path / "cli-out")):
        done = subprocess.run([str(grist), "run", "other/dir/config.yaml", "--workers", "1", *extra], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads((out / "report.json").read_text())
        assert report["accounting"]["documents"] == 1
        docs = pq.read_table(next((out / "documents").glob("*.parquet")))
        assert json.loads(docs.column("meta")[0].as_py())["path"] == "web/a.jsonl"  # as the config writes it
