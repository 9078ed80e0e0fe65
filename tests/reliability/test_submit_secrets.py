"""`grist submit` never uploads credentials: the upload listing of a real working dir holding them."""

from __future__ import annotations

from pathlib import Path

from jobs.client import runtime_env
from jobs.upload import listing, summary


def test_secrets_gitignore_and_outputs_are_excluded(tmp_path: Path):
    files = {"config.yaml": "sources: []\n", "data/a.jsonl": '{"text": "x"}\n', ".env": "TOKEN=1\n",
             ".env.local": "TOKEN=2\n", ".aws/credentials": "[default]\n", ".ssh/id_rsa": "KEY\n", "id_ed25519": "KEY\n",
             "tls/server.pem": "PEM\n", "tls/server.key": "KEY\n", ".netrc": "machine x\n", "secrets/db.txt": "pw\n",
             ".git/config": "[core]\n", "out/documents/x.parquet": "PAR1", "scratch/big.bin": "0" * 100,
             ".gitignore": "# local\nscratch/\n"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    env = runtime_env(None, tmp_path, install=False)
    kept, excluded = listing(tmp_path, env["excludes"])
    assert [p for p, _ in kept] == [".gitignore", "config.yaml", "data/a.jsonl"]
    assert set(excluded) == {".env", ".env.local", ".aws/", ".ssh/", "id_ed25519", "tls/server.pem", "tls/server.key",
                             ".netrc", "secrets/", ".git/", "out/", "scratch/"}
    assert summary(kept, excluded).startswith("uploading 3 files")
