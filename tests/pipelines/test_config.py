"""Every config error is one line naming the key or path, exit code 2, before any work starts."""

from __future__ import annotations

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
