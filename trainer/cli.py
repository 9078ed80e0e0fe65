"""Train the bundled GPT on grist shards: grist train --data SHARD_DIR [...]."""

from __future__ import annotations

import argparse
from dataclasses import fields

from trainer.presets import PRESETS


def _bool(p: argparse.ArgumentParser, name: str, help: str) -> None:
    p.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=help)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = ("Defaults: the tiny model, 300 steps of 16 x 128 tokens, lr 1e-3 (about a minute on a laptop CPU). "
                "--model gpt2 sets 32 x 1024 tokens x 16 accumulation steps, lr 6e-4, 5000 steps. See trainer/README.md.")
    p.add_argument("--data", required=True, help="shard folder (with manifest.json), e.g. out/demo/shards")
    p.add_argument("--out", help="checkpoints and metrics.jsonl (default: SHARD_DIR/../train); rerun to resume")
    p.add_argument("--model", choices=list(PRESETS), default="tiny",
                   help="model preset: tiny (CPU, a minute) ... gpt2 (124M, GPU) ... gpt2-xl")
    for name in ("n-layer", "n-head", "n-embd", "block-size"):
        p.add_argument(f"--{name}", type=int, help="override the preset's shape")
    p.add_argument("--dropout", type=float)
    p.add_argument("--batch-size", type=int, help="windows per micro-step per rank")
    p.add_argument("--grad-accum", type=int, help="micro-steps per optimizer step")
    p.add_argument("--max-steps", type=int, help="length of the LR schedule")
    p.add_argument("--stop-after", type=int, metavar="STEP", help="stop (checkpointed) at this step; rerun to resume")
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--min-lr", type=float, help="final learning rate (default lr / 10)")
    p.add_argument("--warmup", type=int, help="linear warmup steps")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--grad-clip", type=float, help="max gradient norm (0: off)")
    p.add_argument("--seed", type=int, help="model init and data order")
    p.add_argument("--sampler", choices=["epoch", "random"],
                   help="epoch (default): a seeded permutation of all windows, each source by its planned epochs, so one "
                        "planned epoch sees every token; random: windows drawn with replacement (nanoGPT)")
    p.add_argument("--prefetch", type=int, metavar="N", help="batches gathered ahead by a background thread (default 4; 0: off)")
    _bool(p, "dry-run", "print the plan (steps, tokens/step, planned epochs per source, resume) and the coverage of one "
                        "planned epoch, then exit without training")
    p.add_argument("--source-weights", metavar="NAME=W,...", help="sample sources by these weights (default: token share)")
    p.add_argument("--mix-schedule", metavar="STEP:NAME=W,...;...",
                   help="source weights by step, e.g. '0:web=0.7,books=0.3;1000:web=0.5,books=0.5', or a JSON file "
                        "({\"0\": {\"web\": 0.7, ...}, ...}); recorded in the checkpoint and reused on resume")
    _bool(p, "allow-reshape", "resume even if the world size, batch shape or data mix changed (default: refused)")
    _bool(p, "doc-mask", "document-causal attention: no attention across <|endoftext|> (default: on)")
    p.add_argument("--ce-chunks", type=int, help="chunked cross-entropy in N pieces: less logits memory (default 1: off)")
    p.add_argument("--expect-tokenizer", metavar="PATH_OR_SHA256",
                   help="refuse shards not tokenized with this tokenizer.json (or sha256)")
    _bool(p, "verify", "check every shard's sha256 against the manifest (default: on)")
    p.add_argument("--eval-interval", type=int, help="steps between validation passes")
    p.add_argument("--eval-windows", type=int, help="validation windows per source")
    p.add_argument("--log-interval", type=int)
    p.add_argument("--ckpt-interval", type=int)
    p.add_argument("--keep-ckpts", type=int, help="checkpoints kept (default 2)")
    _bool(p, "resume", "resume from the latest checkpoint in --out (default: on)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default: cuda when available")
    _bool(p, "compile", "torch.compile the model (default: on CUDA)")
    p.add_argument("--peak-flops", type=float, help="peak FLOP/s per device for MFU (default: looked up from the GPU's name; none on CPU)")
    p.add_argument("--threads", type=int, help="CPU threads (torch.set_num_threads)")
    _bool(p, "deterministic", "torch.use_deterministic_algorithms")
    p.add_argument("--sample-tokens", type=int, help="tokens sampled at the end (0: none)")
    p.add_argument("--sample-prompt", help="text the sample continues")
    _bool(p, "trace-samples", "write OUT/samples-rankR.jsonl: (step, micro, source, position) of every window")
    _bool(p, "quiet", "no progress lines")


def config_from_args(args: argparse.Namespace):
    """TrainConfig from parsed options: given values, else the preset's training settings, else defaults."""
    from trainer.train import PRESET_TRAINING, TrainConfig

    values = dict(PRESET_TRAINING.get(args.model, {}))
    for f in fields(TrainConfig):
        v = getattr(args, f.name, None)
        if v is not None:
            values[f.name] = v
    return TrainConfig(**values)


def main(args: argparse.Namespace) -> int:
    from pipelines.errors import ConfigError
    from trainer.train import dry_run, train

    cfg = config_from_args(args)
    for name in ("batch_size", "grad_accum", "max_steps", "log_interval", "eval_interval", "ckpt_interval", "keep_ckpts",
                 "ce_chunks"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')}: must be >= 1")
    if cfg.peak_flops is not None and not cfg.peak_flops > 0:
        raise ConfigError("--peak-flops: must be > 0")
    if cfg.prefetch < 0:
        raise ConfigError("--prefetch: must be >= 0")
    if cfg.dry_run:
        dry_run(cfg)
        return 0
    train(cfg)
    return 0
