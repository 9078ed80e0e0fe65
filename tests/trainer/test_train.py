"""Training: loss falls, resume is bit for bit, DDP ranks see disjoint data, wrong shards refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pipelines import cli
from tests.trainer.conftest import tiny
from tests.trainer.shardkit import write_dataset
from trainer.train import checkpoints, train

ROOT = Path(__file__).resolve().parents[2]


def test_loss_falls_and_samples_text(shards, tmp_path):
    # Test shards of generated text stand in for the demo shards until the pipeline writes them.
    res = train(tiny(shards, tmp_path, max_steps=150, warmup=15, eval_interval=150, sample_tokens=16, peak_flops=1e12))
    first, last = res["losses"][1], res["losses"][150]
    assert first > 5.5 and last < 0.5 * first  # ln(384) = 5.95 at init
    assert set(res["val"]) == {"books", "code", "web", "all"} and res["val"]["all"] < 0.5 * first
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["step"] == 0 and all(res["val"][k] < rows[0]["val"][k] - 2 for k in res["val"])
    logged = [r for r in rows if "loss" in r]
    assert len(logged) == 150 and all(r["tokens_per_s"] > 0 and 0 < r["mfu"] < 1 for r in logged)
    assert isinstance(res["sample"], str) and len(res["sample"]) > 0
    assert [p.name for p in checkpoints(tmp_path)] == ["ckpt-00000150.pt"]


def test_resume_is_bit_for_bit(shards, tmp_path):
    kw = dict(max_steps=12, grad_accum=2, dropout=0.1, ckpt_interval=4, keep_ckpts=10)
    full = train(tiny(shards, tmp_path / "full", **kw))
    half = train(tiny(shards, tmp_path / "split", stop_after=6, **kw))
    assert half["step"] == 6
    rest = train(tiny(shards, tmp_path / "split", **kw))
    assert rest["step"] == 12
    assert {**half["losses"], **rest["losses"]} == full["losses"]  # exact float equality
    a = torch.load(checkpoints(tmp_path / "full")[-1], weights_only=True)
    b = torch.load(checkpoints(tmp_path / "split")[-1], weights_only=True)
    assert a["step"] == b["step"] == 12
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    opt_a, opt_b = a["optimizer"]["state"], b["optimizer"]["state"]
    assert all(torch.equal(opt_a[i][k], opt_b[i][k]) for i in opt_a for k in opt_a[i])
    assert [p.name for p in checkpoints(tmp_path / "split")] == [f"ckpt-{s:08d}.pt" for s in (4, 6, 8, 12)]


def test_ddp_two_gloo_ranks_see_disjoint_data_and_resume_a_one_process_run(shards, tmp_path):
    # One process trains a step; two gloo ranks resume it (a change of world size) and finish.
    assert train(tiny(shards, tmp_path, max_steps=3, stop_after=1))["step"] == 1
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    cmd = [str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node", "2",
           "-m", "trainer.train", "--data", str(shards), "--out", str(tmp_path), "--n-layer", "2",
           "--n-embd", "64", "--n-head", "2", "--block-size", "32", "--batch-size", "4", "--grad-accum", "2",
           "--max-steps", "3", "--warmup", "5", "--threads", "1", "--sample-tokens", "0", "--trace-samples"]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "2 x cpu" in run.stdout and "at step 1" in run.stdout
    tokens = []
    for rank in range(2):
        rows = [json.loads(line) for line in (tmp_path / f"samples-rank{rank}.jsonl").read_text().splitlines()]
        assert [(r[0], r[1]) for r in rows[::4]] == [(1, 0), (1, 1), (2, 0), (2, 1)]  # steps 1-2, 2 micro, 4 windows
        tokens.append({(src, pos + i) for _, _, src, pos in rows for i in range(33)})
    assert tokens[0] and tokens[1] and not tokens[0] & tokens[1]
    assert torch.load(checkpoints(tmp_path)[-1], weights_only=True)["step"] == 3


def test_cli_refuses_mismatched_tokenizer(shards, tmp_path, capsys):
    args = ["train", "--data", str(shards), "--out", str(tmp_path / "run"), "--max-steps", "2", "--threads", "1",
            "--n-layer", "1", "--n-embd", "32", "--block-size", "32", "--quiet", "--sample-tokens", "0"]
    assert cli.main(args + ["--expect-tokenizer", "ab" * 32]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tokenizer sha256" in err
    # The tokenizer a checkpoint was trained with is expected on resume: other shards are refused.
    assert cli.main(args + ["--expect-tokenizer", str(shards.parent / "tokenizer" / "tokenizer.json")]) == 0
    other = write_dataset(tmp_path / "other", docs_per_source=60, vocab_size=320)
    assert cli.main(["train", "--data", str(other)] + args[3:] + ["--max-steps", "4"]) == 2
    assert "different tokenizer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--data", str(shards), "--model", "gpt5"])
    assert cli.main(["train", "--data", str(tmp_path / "nowhere")]) == 2
    assert "no shard manifest" in capsys.readouterr().err
