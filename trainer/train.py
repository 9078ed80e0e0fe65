"""Train the bundled GPT on grist shards: `grist train --data SHARD_DIR`, `python -m trainer.train`,
or `torchrun --nproc_per_node N -m trainer.train` (DDP).

AdamW with linear warmup and cosine decay, gradient accumulation, bf16 autocast + TF32 + fused AdamW
+ optional `torch.compile` on CUDA, float32 on CPU. Checkpoints (model, optimizer, step, loader
settings) are written atomically; a rerun with the same `--out` resumes from the latest one and
continues bit for bit, because the data of a step and the dropout RNG are pure functions of
(seed, step, rank).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipelines.errors import ConfigError
from trainer.data import TrainLoader, open_split, parse_weights, val_windows
from trainer.model import GPT, PRESETS, GPTConfig, padded_vocab

H100_BF16_PEAK = 989e12  # dense bf16 FLOP/s of an H100 SXM; the H200 has the same compute


@dataclass
class TrainConfig:
    data: str
    out: str | None = None  # default: SHARD_DIR/../train
    model: str = "tiny"
    n_layer: int | None = None
    n_head: int | None = None
    n_embd: int | None = None
    block_size: int | None = None
    dropout: float = 0.0
    batch_size: int = 16  # windows per micro-step per rank
    grad_accum: int = 1
    max_steps: int = 300
    stop_after: int | None = None  # end (with a checkpoint) at this step; rerun to resume
    lr: float = 1e-3
    min_lr: float | None = None  # default lr / 10
    warmup: int = 30
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    seed: int = 0
    source_weights: str | None = None
    expect_tokenizer: str | None = None
    verify: bool = True
    eval_interval: int = 100
    eval_windows: int = 32  # per source, all ranks together
    log_interval: int = 10
    ckpt_interval: int = 100
    keep_ckpts: int = 2
    resume: bool = True
    device: str = "auto"
    compile: bool | None = None  # default: on CUDA
    peak_flops: float | None = None  # default: H100/H200 bf16 on CUDA, none on CPU
    threads: int | None = None
    deterministic: bool = False
    sample_tokens: int = 48
    sample_prompt: str = ""
    trace_samples: bool = False  # write out/samples-rank{R}.jsonl: the window of every micro-step
    quiet: bool = False


# Training settings that make a preset sensible (anything given explicitly wins).
PRESET_TRAINING: dict[str, dict[str, Any]] = {
    "gpt2": dict(batch_size=32, grad_accum=16, max_steps=5000, lr=6e-4, warmup=200, eval_interval=250,
                 ckpt_interval=500, log_interval=1),
}
for _name in ("gpt2-medium", "gpt2-large", "gpt2-xl"):
    PRESET_TRAINING[_name] = dict(PRESET_TRAINING["gpt2"], batch_size=16, grad_accum=32, lr=3e-4)


def lr_at(step: int, cfg: TrainConfig) -> float:
    min_lr = cfg.lr / 10 if cfg.min_lr is None else cfg.min_lr
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    ratio = min(1.0, (step - cfg.warmup) / max(1, cfg.max_steps - cfg.warmup))
    return min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (cfg.lr - min_lr)


def model_config(cfg: TrainConfig, vocab_size: int) -> GPTConfig:
    if cfg.model not in PRESETS:
        raise ConfigError(f"--model: unknown preset {cfg.model!r} (one of {', '.join(PRESETS)})")
    shape = dict(PRESETS[cfg.model])
    shape.update({k: getattr(cfg, k) for k in ("n_layer", "n_head", "n_embd", "block_size") if getattr(cfg, k)})
    try:
        return GPTConfig(vocab_size=padded_vocab(vocab_size), dropout=cfg.dropout, **shape)
    except ValueError as err:
        raise ConfigError(f"model: {err}") from None


class Dist:
    """Rank, world size and device; DDP over NCCL (CUDA) or gloo (CPU) when started by torchrun."""

    def __init__(self, device: str):
        self.ddp = "RANK" in os.environ
        self.rank = int(os.environ.get("RANK", 0))
        self.local_rank = int(os.environ.get("LOCAL_RANK", 0))
        self.world_size = int(os.environ.get("WORLD_SIZE", 1))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("--device cuda: no CUDA device visible (is this the CPU build of torch?)")
        if device == "cuda":
            device = f"cuda:{self.local_rank}"
            torch.cuda.set_device(device)
        self.device = device
        self.type = "cuda" if device.startswith("cuda") else "cpu"
        if self.ddp and not torch.distributed.is_initialized():
            torch.distributed.init_process_group(backend="nccl" if self.type == "cuda" else "gloo")

    @property
    def master(self) -> bool:
        return self.rank == 0

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        if self.ddp:
            torch.distributed.all_reduce(t)
            t /= self.world_size
        return t

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.ddp:
            torch.distributed.all_reduce(t)
        return t

    def close(self, finished: bool) -> None:
        if self.ddp and torch.distributed.is_initialized():
            if finished:  # no rank tears gloo down while another still talks to it
                torch.distributed.barrier()
            torch.distributed.destroy_process_group()


# ---- checkpoints ------------------------------------------------------------------------------

def checkpoints(out: Path) -> list[Path]:
    return sorted(out.glob("ckpt-*.pt"))


def save_checkpoint(out: Path, state: dict, keep: int) -> Path:
    """Write to a temporary name, then rename: a checkpoint file that exists is complete."""
    path = out / f"ckpt-{state['step']:08d}.pt"
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)
    for old in checkpoints(out)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_latest(out: Path) -> dict | None:
    found = checkpoints(out)
    return torch.load(found[-1], map_location="cpu", weights_only=True) if found else None


# ---- evaluation and sampling ------------------------------------------------------------------

@torch.no_grad()
def evaluate(model: GPT, windows: dict[str, list[np.ndarray]], batch_size: int, dist: Dist, autocast) -> dict[str, float]:
    """Mean next-token loss per source over the val windows (all ranks), plus `all` (token-weighted)."""
    model.eval()
    names = sorted(windows)
    sums = torch.zeros(len(names), 2, dtype=torch.float64, device=dist.device)  # (loss sum, tokens)
    for i, name in enumerate(names):
        rows = windows[name]
        for k in range(0, len(rows), batch_size):
            buf = torch.from_numpy(np.stack(rows[k: k + batch_size])).to(dist.device)
            with autocast:
                _, loss = model(buf[:, :-1], buf[:, 1:], reduction="none")
            sums[i, 0] += loss.double().sum()
            sums[i, 1] += loss.numel()
    sums = dist.sum(sums).cpu()
    model.train()
    out = {n: float(sums[i, 0] / sums[i, 1]) for i, n in enumerate(names) if sums[i, 1] > 0}
    if sums[:, 1].sum() > 0:
        out["all"] = float(sums[:, 0].sum() / sums[:, 1].sum())
    return out


def sample_text(model: GPT, data, cfg: TrainConfig, device: str) -> str | None:
    """A few tokens from the trained model, decoded with the shards' own tokenizer."""
    from shards.format import sha256_file

    tok_path = data.folder / data.manifest.tokenizer_path
    if not tok_path.is_file() or sha256_file(tok_path) != data.manifest.tokenizer_sha256:
        print(f"sample: tokenizer {tok_path} missing or not the one of the shards; not sampling", file=sys.stderr)
        return None
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tok_path))
    prompt = tok.encode(cfg.sample_prompt).ids if cfg.sample_prompt else []
    idx = torch.tensor([[data.manifest.eot_id] + prompt], dtype=torch.long, device=device)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    model.eval()
    out = model.generate(idx, cfg.sample_tokens, temperature=0.8, top_k=50, generator=gen,
                         max_token=data.manifest.vocab_size)
    model.train()
    return tok.decode(out[0, 1:].tolist())


# ---- training ---------------------------------------------------------------------------------

def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run (or resume) training; returns {step, losses {step: loss}, val, sample, out}."""
    dist = Dist(cfg.device)
    finished = False
    try:
        result = _train(cfg, dist)
        finished = True
        return result
    finally:
        dist.close(finished)


def _train(cfg: TrainConfig, dist: Dist) -> dict[str, Any]:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True)
    if dist.type == "cuda":  # TF32 for any float32 matmul left outside autocast
        torch.backends.cuda.matmul.fp32_precision = "tf32"
    log = (lambda *a: print(*a, flush=True)) if dist.master and not cfg.quiet else (lambda *a: None)
    data_dir = Path(cfg.data)
    out = Path(cfg.out) if cfg.out else data_dir.parent / "train"
    ckpt = load_latest(out) if cfg.resume else None

    # What the run expects of the shards: the given tokenizer, else the one the checkpoint saw.
    expect = cfg.expect_tokenizer or (ckpt["tokenizer_sha256"] if ckpt else None)
    data = open_split(data_dir, "train", expect, cfg.verify)
    manifest = data.manifest
    if ckpt and ckpt["tokenizer_sha256"] != manifest.tokenizer_sha256:
        raise ConfigError(f"{out}: checkpoint was trained with tokenizer {ckpt['tokenizer_sha256'][:12]}..., "
                          f"the shards use {manifest.tokenizer_sha256[:12]}...")
    mcfg = model_config(cfg, manifest.vocab_size)
    if ckpt:
        for key, now in (("model_config", mcfg.to_dict()), ("seed", cfg.seed)):
            if ckpt[key] != now:
                raise ConfigError(f"{out}: checkpoint has {key} {ckpt[key]}, this run {now} (use another --out)")

    weights = parse_weights(cfg.source_weights, list(data.streams))
    loader = TrainLoader(data, mcfg.block_size, cfg.batch_size, cfg.seed, dist.rank, dist.world_size, weights)
    val_rows: dict[str, list[np.ndarray]] = {}
    if manifest.files("val"):
        val = open_split(data_dir, "val", expect, cfg.verify)
        val_rows = val_windows(val, mcfg.block_size, dist.rank, dist.world_size, cfg.eval_windows)

    torch.manual_seed(cfg.seed)
    raw = GPT(mcfg).to(dist.device)
    opt = raw.optimizer(cfg.lr, cfg.weight_decay, (cfg.beta1, cfg.beta2), dist.type)
    step = 0
    if ckpt:
        raw.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        step = ckpt["step"]
        log(f"resumed from {checkpoints(out)[-1]} at step {step}")
    model = raw
    if cfg.compile if cfg.compile is not None else dist.type == "cuda":
        model = torch.compile(model)
    if dist.ddp:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dist.local_rank] if dist.type == "cuda" else None)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if dist.type == "cuda" else contextlib.nullcontext())

    tokens_per_step = cfg.batch_size * mcfg.block_size * cfg.grad_accum * dist.world_size
    peak = cfg.peak_flops or (H100_BF16_PEAK if dist.type == "cuda" else None)
    flops_per_token = raw.flops_per_token(mcfg.block_size)
    out.mkdir(parents=True, exist_ok=True)
    if dist.master:
        (out / "config.json").write_text(json.dumps({"train": asdict(cfg), "model": mcfg.to_dict()}, indent=2) + "\n")
    log(f"model {cfg.model}: {raw.num_params() / 1e6:.2f}M params | {data.tokens:,} train tokens in "
        f"{len(data.segments)} segment(s), sources {', '.join(loader.sources)} | {tokens_per_step:,} tokens/step | "
        f"{dist.world_size} x {dist.device}")
    metrics = open(out / "metrics.jsonl", "a") if dist.master else None
    trace = open(out / f"samples-rank{dist.rank}.jsonl", "a") if cfg.trace_samples else None

    def record(row: dict) -> None:
        if metrics:
            metrics.write(json.dumps(row) + "\n")
            metrics.flush()

    def run_eval() -> dict[str, float]:
        res = evaluate(raw, val_rows, cfg.batch_size, dist, autocast)
        if res:
            log(f"step {step} | val loss " + " | ".join(f"{k} {v:.4f}" for k, v in res.items()))
            record({"step": step, "val": res})
        return res

    end = min(cfg.max_steps, cfg.stop_after or cfg.max_steps)
    losses: dict[int, float] = {}
    val_loss: dict[str, float] = {}
    t0, t0_step = time.perf_counter(), step
    loss_acc, loss_from = torch.zeros((), device=dist.device), step
    while step < end:
        if val_rows and step % cfg.eval_interval == 0:
            val_loss = run_eval()
            t0, t0_step = time.perf_counter(), step
        lr = lr_at(step, cfg)
        for group in opt.param_groups:
            group["lr"] = lr
        # Dropout RNG keyed by (seed, step, rank) like the data: resuming needs no RNG state.
        torch.manual_seed(int(np.random.SeedSequence([cfg.seed, step, dist.rank]).generate_state(1)[0]))
        for micro in range(cfg.grad_accum):
            x, y = loader.batch(step, micro, dist.device)
            if trace:
                trace.write("".join(json.dumps([step, micro, s, p]) + "\n" for s, p in loader.positions(step, micro)))
            if dist.ddp:  # all-reduce gradients only on the last micro-step
                model.require_backward_grad_sync = micro == cfg.grad_accum - 1
            with autocast:
                _, loss = model(x, y)
            (loss / cfg.grad_accum).backward()
            loss_acc += loss.detach() / cfg.grad_accum
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(raw.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step % cfg.log_interval == 0 or step == end:
            # Mean over the steps since the last log line and over ranks; float() syncs the GPU.
            mean_loss = float(dist.mean(loss_acc / (step - loss_from)))
            loss_acc.zero_()
            loss_from = step
            dt = time.perf_counter() - t0
            tps = tokens_per_step * (step - t0_step) / dt
            mfu = flops_per_token * tps / (peak * dist.world_size) if peak else None
            losses[step] = mean_loss
            log(f"step {step}/{cfg.max_steps} | loss {mean_loss:.4f} | lr {lr:.2e} | {tps:,.0f} tok/s | "
                f"mfu {'n/a' if mfu is None else f'{mfu:.1%}'} | {1000 * dt / (step - t0_step):.1f} ms/step")
            record({"step": step, "loss": mean_loss, "lr": lr, "tokens_per_s": tps, "mfu": mfu})
            t0, t0_step = time.perf_counter(), step
        if dist.master and (step % cfg.ckpt_interval == 0 or step == end):
            save_checkpoint(out, {
                "step": step, "model": raw.state_dict(), "optimizer": opt.state_dict(),
                "model_config": mcfg.to_dict(), "seed": cfg.seed, "loader": loader.state_dict(),
                "tokenizer_sha256": manifest.tokenizer_sha256, "train": asdict(cfg),
            }, cfg.keep_ckpts)
    if val_rows and step == cfg.max_steps:
        val_loss = run_eval()
    text = sample_text(raw, data, cfg, dist.device) if dist.master and step == cfg.max_steps and cfg.sample_tokens else None
    if text is not None:
        log(f"sample: {text!r}")
    for f in (metrics, trace):
        if f:
            f.close()
    return {"step": step, "losses": losses, "val": val_loss, "sample": text, "out": out}


def main(argv: list[str] | None = None) -> int:
    """`python -m trainer.train ...` (also under torchrun): the options of `grist train`."""
    import argparse

    from pipelines.errors import GristError
    from trainer import cli

    parser = argparse.ArgumentParser(prog="python -m trainer.train", description=__doc__.splitlines()[0])
    cli.add_arguments(parser)
    try:
        return cli.main(parser.parse_args(argv))
    except GristError as err:
        print(f"grist: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
