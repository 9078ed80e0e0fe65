"""Training: loss falls, resume is bit for bit (mix schedule too), reshape refused, run records, DDP, bad input."""

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
    refused = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    # Each rank exits 2 with one line (torchrun then reports the failed child with its own traceback).
    # The two ranks write to one pipe at once: their lines may come out joined, so they are cut at
    # "grist: " rather than at newlines (one CI run had both on one line).
    said = ["grist: " + m for m in refused.stderr.split("grist: ")[1:]]
    assert refused.returncode != 0 and len(said) == 2, refused.stderr[-3000:]
    assert all("world_size 1 -> 2" in m and "--allow-reshape" in m for m in said)
    assert "exitcode  : 2" in refused.stderr
    run = subprocess.run(cmd + ["--allow-reshape"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "2 x cpu" in run.stdout and "at step 1" in run.stdout and "reshaped at step 1" in run.stdout
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


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_resume_after_a_lost_checkpoint_leaves_no_duplicate_metrics(shards, tmp_path):
    kw = dict(max_steps=8, ckpt_interval=4, keep_ckpts=10, eval_interval=3)
    full = train(tiny(shards, tmp_path / "full", **kw))
    train(tiny(shards, tmp_path / "split", stop_after=6, **kw))
    checkpoints(tmp_path / "split")[-1].unlink()  # as if killed after logging steps 5-6, before their checkpoint
    rest = train(tiny(shards, tmp_path / "split", **kw))
    assert rest["step"] == 8
    rows = _rows(tmp_path / "split" / "metrics.jsonl")
    keys = [(r["step"], "val" in r) for r in rows]
    assert len(keys) == len(set(keys)) and keys == [(r["step"], "val" in r) for r in _rows(tmp_path / "full" / "metrics.jsonl")]
    assert {r["step"]: r["loss"] for r in rows if "loss" in r} == full["losses"]
    assert all(r["mfu"] is None for r in rows if "loss" in r)  # CPU without --peak-flops


def test_batch_shape_change_refused_then_allowed_and_config_history_kept(shards, tmp_path, capsys):
    args = ["train", "--data", str(shards), "--out", str(tmp_path), "--max-steps", "4", "--threads", "1", "--warmup", "2",
            "--n-layer", "1", "--n-head", "2", "--n-embd", "32", "--block-size", "32", "--quiet", "--sample-tokens", "0"]
    assert cli.main(args + ["--batch-size", "4", "--stop-after", "2"]) == 0
    capsys.readouterr()
    assert cli.main(args + ["--batch-size", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "batch_size 4 -> 8" in err and "--allow-reshape" in err
    assert cli.main(args + ["--batch-size", "8", "--allow-reshape"]) == 0
    history = _rows(tmp_path / "config-history.jsonl")
    assert [h["start_step"] for h in history] == [0, 2] and history[1]["changed"] == "batch_size 4 -> 8"
    assert "changed" not in history[0] and history[0]["config"]["train"]["batch_size"] == 4
    config = json.loads((tmp_path / "config.json").read_text())
    assert config == history[1]["config"] and config["run"]["batch_size"] == 8
    assert torch.load(checkpoints(tmp_path)[-1], weights_only=True)["run"]["batch_size"] == 8


def test_mix_schedule_is_followed_recorded_and_resumed_exactly(shards, tmp_path, capsys):
    kw = dict(max_steps=6, ckpt_interval=2, keep_ckpts=10, trace_samples=True, batch_size=4)
    full = train(tiny(shards, tmp_path / "full", mix_schedule="0:web=1;3:books=1,code=1", **kw))
    sources = {}
    for step, _, src, _ in (json.loads(line) for line in (tmp_path / "full" / "samples-rank0.jsonl").read_text().splitlines()):
        sources.setdefault(step, set()).add(src)
    assert all(sources[s] == {"web"} for s in (0, 1, 2)) and set().union(*(sources[s] for s in (3, 4, 5))) == {"books", "code"}
    # The resumed run is given no schedule: the checkpoint's is used.
    train(tiny(shards, tmp_path / "split", mix_schedule="0:web=1;3:books=1,code=1", stop_after=2, **kw))
    rest = train(tiny(shards, tmp_path / "split", **kw))
    assert {**rest["losses"]} == {k: v for k, v in full["losses"].items() if k > 2}
    saved = torch.load(checkpoints(tmp_path / "split")[-1], weights_only=True)["run"]["mix"]
    assert saved == [[0, {"web": 1.0, "books": 0.0, "code": 0.0}], [3, {"web": 0.0, "books": 0.5, "code": 0.5}]]
    # A JSON schedule file is the same schedule; another schedule is refused without --allow-reshape.
    spec = tmp_path / "mix.json"
    spec.write_text(json.dumps({"3": {"books": 1, "code": 1}, "0": {"web": 1}}))
    assert train(tiny(shards, tmp_path / "split", mix_schedule=str(spec), **dict(kw, max_steps=7)))["step"] == 7
    args = ["train", "--data", str(shards), "--out", str(tmp_path / "split"), "--max-steps", "8", "--quiet",
            "--n-layer", "2", "--n-head", "2", "--n-embd", "64", "--block-size", "32", "--batch-size", "4",
            "--threads", "1", "--sample-tokens", "0", "--mix-schedule", "0:web=1;4:books=1,code=1"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mix " in err and "--allow-reshape" in err


@pytest.mark.parametrize("extra, message", [
    (["--mix-schedule", "5:web=1"], "start at 0"),
    (["--mix-schedule", "0:web"], "--mix-schedule"),
    (["--mix-schedule", "0:nosuch=1"], "unknown source"),
    (["--ce-chunks", "0"], "--ce-chunks"),
    (["--peak-flops", "-1"], "--peak-flops"),
])
def test_bad_arguments_are_one_line_exit_2(shards, tmp_path, capsys, extra, message):
    args = ["train", "--data", str(shards), "--out", str(tmp_path), "--max-steps", "1", "--quiet", "--threads", "1",
            "--n-layer", "1", "--n-embd", "32", "--block-size", "32", "--sample-tokens", "0"]
    assert cli.main(args + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_crafted_checkpoint_and_truncated_shard_are_one_line_exit_2(shards, tmp_path, capsys):
    import shutil

    args = ["train", "--out", str(tmp_path / "run"), "--max-steps", "1", "--quiet", "--threads", "1",
            "--n-layer", "1", "--n-embd", "32", "--block-size", "32", "--sample-tokens", "0"]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "ckpt-00000005.pt").write_bytes(b"not a checkpoint")
    assert cli.main(args + ["--data", str(shards)]) == 2
    torch.save({"step": 5, "model": {}}, tmp_path / "run" / "ckpt-00000006.pt")  # a real torch file, not ours
    assert cli.main(args + ["--data", str(shards)]) == 2
    # A grist checkpoint with a mix schedule naming a source the shards lack.
    assert cli.main(args + ["--data", str(shards), "--out", str(tmp_path / "ok"), "--max-steps", "2", "--stop-after", "1"]) == 0
    good = torch.load(checkpoints(tmp_path / "ok")[-1], weights_only=True)
    good["run"]["mix"] = [[0, {"nosuch": 1.0}]]
    torch.save(good, checkpoints(tmp_path / "ok")[-1])
    assert cli.main(args + ["--data", str(shards), "--out", str(tmp_path / "ok"), "--max-steps", "2"]) == 2
    errs = capsys.readouterr().err.splitlines()
    assert len(errs) == 3 and "not a readable checkpoint" in errs[0] and "missing or bad: optimizer" in errs[1]
    assert "recorded mix schedule is not usable" in errs[2]
    copy = tmp_path / "dataset"
    shutil.copytree(shards.parent, copy)
    shard = sorted((copy / shards.name).glob("shard-train-*"))[0]
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    shutil.rmtree(tmp_path / "run")
    assert cli.main(args + ["--data", str(copy / shards.name), "--no-verify"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "grist: " in err


def test_peak_flops_by_device_name():
    from trainer.gpu import peak_flops

    assert peak_flops("NVIDIA H100 80GB HBM3") == peak_flops("NVIDIA H200") == 989e12
    assert peak_flops("NVIDIA H100 PCIe") == 756e12
    assert peak_flops("NVIDIA A100-SXM4-40GB") == peak_flops("NVIDIA A100 80GB PCIe") == 312e12
    assert peak_flops("NVIDIA L4") == 121e12 and peak_flops("NVIDIA L40S") == 362e12
    assert peak_flops("NVIDIA A10G") == 70e12 and peak_flops("NVIDIA GeForce RTX 4090") == 165e12
    assert peak_flops("Tesla T4") is None


def test_source_weights_errors_name_the_option(shards, tmp_path, capsys):
    args = ["train", "--data", str(shards), "--out", str(tmp_path), "--max-steps", "1", "--quiet", "--threads", "1",
            "--n-layer", "1", "--n-embd", "32", "--block-size", "32", "--sample-tokens", "0"]
    assert cli.main(args + ["--source-weights", "web=1", "--mix-schedule", "0:web=1"]) == 2
    assert cli.main(args + ["--source-weights", "nosuch=1"]) == 2
    errs = capsys.readouterr().err.splitlines()
    assert len(errs) == 2 and "give one of them" in errs[0] and errs[1].startswith("grist: --source-weights: unknown")


# --- epoch sampler by default, prefetch, mix-weighted validation, --dry-run, sample tokenizer ----------------

def test_default_epoch_sampler_covers_every_token_in_one_planned_epoch_with_prefetch(shards, tmp_path):
    from trainer.data import TrainLoader, open_split

    data = open_split(shards, "train")
    ld = TrainLoader(data, 32, 16, seed=0, sampler="epoch", micro_steps=2)
    steps = -(-ld.plan.slots // 32)
    kw = dict(block_size=32, batch_size=16, grad_accum=2, max_steps=steps, trace_samples=True)
    res = train(tiny(shards, tmp_path / "pf", **kw))  # TrainConfig defaults: sampler epoch, prefetch 4
    seen = {}
    for _, _, src, pos in (json.loads(x) for x in (tmp_path / "pf" / "samples-rank0.jsonl").read_text().splitlines()):
        seen.setdefault(src, set()).update(range(pos, pos + 33))
    assert {s: len(v) for s, v in seen.items()} == {s: st.tokens for s, st in data.streams.items()}  # every token
    inline = train(tiny(shards, tmp_path / "inline", prefetch=0, **kw))
    assert inline["losses"] == res["losses"]  # the background thread gives exactly the inline batches
    ckpt = torch.load(checkpoints(tmp_path / "pf")[-1], weights_only=True)
    assert ckpt["run"]["sampler"] == "epoch" and ckpt["loader"]["sampler"] == "epoch"


def test_sampler_change_at_resume_is_refused_unless_allow_reshape(shards, tmp_path, capsys):
    kw = dict(max_steps=6, stop_after=3)
    assert train(tiny(shards, tmp_path, sampler="random", **kw))["step"] == 3
    args = ["train", "--data", str(shards), "--out", str(tmp_path), "--max-steps", "6", "--quiet", "--threads", "1",
            "--n-layer", "2", "--n-head", "2", "--n-embd", "64", "--block-size", "32", "--batch-size", "8",
            "--sample-tokens", "0"]
    assert cli.main(args) == 2  # the default sampler is epoch
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sampler random -> epoch" in err and "--allow-reshape" in err
    assert cli.main(args + ["--sampler", "random", "--stop-after", "4"]) == 0
    assert cli.main(args + ["--allow-reshape"]) == 0
    assert torch.load(checkpoints(tmp_path)[-1], weights_only=True)["run"]["sampler"] == "epoch"
    # A checkpoint written before the sampler was recorded counts as random.
    old = torch.load(checkpoints(tmp_path)[-1], weights_only=True)
    del old["run"]["sampler"]
    torch.save(old, checkpoints(tmp_path)[-1])
    assert cli.main(args[:6] + ["7"] + args[7:]) == 2
    assert "sampler random -> epoch" in capsys.readouterr().err


def test_validation_all_is_weighted_by_the_training_mix(shards, tmp_path):
    res = train(tiny(shards, tmp_path / "mix", max_steps=4, eval_interval=2, source_weights="web=3,books=1"))
    rows = [json.loads(x) for x in (tmp_path / "mix" / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "val" in r]
    assert [r["step"] for r in evals] == [0, 2, 4]
    for r in evals:
        w, v = r["val_weights"], r["val"]
        assert w == pytest.approx({"web": 0.75, "books": 0.25, "code": 0.0})
        assert set(v) == {"web", "books", "code", "all"}  # every source is still reported
        assert v["all"] == pytest.approx(0.75 * v["web"] + 0.25 * v["books"])
    assert res["val"] == evals[-1]["val"]
    only = train(tiny(shards, tmp_path / "web", max_steps=2, eval_interval=1000, source_weights="web=1"))
    assert only["val"]["all"] == pytest.approx(only["val"]["web"])


def test_dry_run_prints_plan_and_coverage_and_trains_nothing(shards, tmp_path, capsys):
    args = ["train", "--data", str(shards), "--out", str(tmp_path / "run"), "--block-size", "32", "--batch-size", "8",
            "--grad-accum", "2", "--max-steps", "500", "--dry-run"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("plan: 500 steps x 512 tokens/step (8 x 32 x 2 accumulation x 1 rank(s))")
    assert "sampler epoch" in out[0] and out[1].startswith("resume: none")
    assert "planned epochs per source books 1.00, code 1.00, web 1.00" in out[2] and "one planned epoch = " in out[2]
    epoch, rnd = out[3], out[4]
    assert "epoch sampler (this run): tokens seen 100.0%" in epoch and "never 0.0%" in epoch
    assert "random sampler: tokens seen" in rnd and "never 0.0%" not in rnd
    seen = float(rnd.split("tokens seen ")[1].split("%")[0])
    assert 55 < seen < 72  # with replacement over the same budget (both micro-steps): about 1 - 1/e
    assert not (tmp_path / "run").exists()  # nothing trained, nothing written
    # The module entry point does the same; a mix schedule gets one plan line and coverage per segment.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "trainer.train"] + args[1:] + ["--sampler", "random", "--mix-schedule",
                          "0:web=1;100:web=1,books=1,code=1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "sampler random" in lines[0] and sum(line.startswith("steps ") for line in lines) == 2
    assert sum("random sampler (this run)" in line for line in lines) == 2
    assert "planned epochs per source web 2." in lines[2]  # web alone: weight / token share


def test_dry_run_reports_resume_and_refuses_a_reshape(shards, tmp_path, capsys):
    from trainer.train import dry_run

    train(tiny(shards, tmp_path, max_steps=4, stop_after=2))
    got = dry_run(tiny(shards, tmp_path, max_steps=4, quiet=False))
    assert got["start_step"] == 2 and got["segments"][0]["coverage_epoch"]["seen"] == 1.0
    assert "resume: from step 2" in capsys.readouterr().out
    args = ["train", "--data", str(shards), "--out", str(tmp_path), "--n-layer", "2", "--n-head", "2", "--n-embd", "64",
            "--block-size", "32", "--batch-size", "4", "--max-steps", "4", "--dry-run"]
    assert cli.main(args) == 2 and "batch_size 8 -> 4" in capsys.readouterr().err


def test_sample_uses_the_pipeline_tokenizer_loader(shards, tmp_path, monkeypatch):
    import tokenizer.train as tt

    loaded = []
    real = tt.load_tokenizer
    monkeypatch.setattr(tt, "load_tokenizer", lambda path: loaded.append(real(path)) or loaded[-1])
    res = train(tiny(shards, tmp_path, max_steps=2, sample_tokens=4, sample_prompt="the cat <|endoftext|> runs"))
    assert isinstance(res["sample"], str) and len(loaded) == 1
    eot = loaded[0].token_to_id("<|endoftext|>")
    assert eot not in loaded[0].encode("the cat <|endoftext|> runs").ids  # the prompt's special string is text
