"""Train the bundled GPT on grist shards: `grist train --data SHARD_DIR`, `python -m trainer.train`,
or `torchrun --nproc_per_node N -m trainer.train` (DDP).

AdamW with linear warmup and cosine decay, gradient accumulation, bf16 autocast + TF32 + fused AdamW
+ optional `torch.compile` on CUDA, float32 on CPU. Checkpoints (model, optimizer, step, loader
settings, run shape) are written atomically; a rerun with the same `--out` resumes from the latest
one and continues bit for bit, because the data of a step and the dropout RNG are pure functions of
(seed, step, rank). A change of world size, batch shape, sampler or data mix at resume is refused
unless `--allow-reshape`.

Defaults: the epoch-exact sampler (`--sampler epoch`: one planned epoch sees every token; `random`
draws windows with replacement), batches gathered by a background thread (`--prefetch N`), the
validation `all` loss weighted by the training mix. `--dry-run` prints the plan and the coverage
figure of one planned epoch and exits without training.
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
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from pipelines.errors import ConfigError
from trainer.data import Prefetcher, TrainLoader, coverage, open_split, parse_weights, val_weights, val_windows
from trainer.gpu import peak_flops
from trainer.model import GPT, PRESETS, GPTConfig, padded_vocab
from trainer.records import parse_mix_schedule, record_config, segment_at, shape_changes, truncate_metrics


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
    sampler: str = "epoch"  # "epoch": a seeded permutation of every window, per planned epoch; "random": with replacement
    prefetch: int = 4  # batches gathered ahead by a background thread (0: inline)
    dry_run: bool = False  # print the plan and coverage, do not train
    mix_schedule: str | None = None  # "STEP:NAME=W,...;STEP:..." or a JSON file; default: the checkpoint's
    allow_reshape: bool = False  # resume with another world size, batch shape or data mix
    doc_mask: bool = True  # document-causal attention (stops at <|endoftext|>)
    ce_chunks: int = 1  # > 1: chunked cross-entropy (logits memory / ce_chunks)
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
    peak_flops: float | None = None  # default: looked up from the CUDA device name, none on CPU
    threads: int | None = None
    deterministic: bool = False
    sample_tokens: int = 48
    sample_prompt: str = ""
    trace_samples: bool = False  # write out/samples-rank{R}.jsonl: the window of every micro-step
    quiet: bool = False


# Training settings that make a preset sensible (anything given explicitly wins).
PRESET_TRAINING: dict[str, dict[str, Any]] = {
    "gpt2": dict(batch_size=32, grad_accum=16, max_steps=5000, lr=6e-4, warmup=200, eval_interval=250,
                 ckpt_interval=500, log_interval=10),
}
for _name in ("gpt2-medium", "gpt2-large", "gpt2-xl"):
    PRESET_TRAINING[_name] = dict(PRESET_TRAINING["gpt2"], batch_size=16, grad_accum=32, lr=3e-4)


def lr_at(step: int, cfg: TrainConfig) -> float:
    min_lr = cfg.lr / 10 if cfg.min_lr is None else cfg.min_lr
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    ratio = min(1.0, (step - cfg.warmup) / max(1, cfg.max_steps - cfg.warmup))
    return min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (cfg.lr - min_lr)


def model_config(cfg: TrainConfig, vocab_size: int, eot_id: int | None = None) -> GPTConfig:
    if cfg.model not in PRESETS:
        raise ConfigError(f"--model: unknown preset {cfg.model!r} (one of {', '.join(PRESETS)})")
    shape = dict(PRESETS[cfg.model])
    shape.update({k: getattr(cfg, k) for k in ("n_layer", "n_head", "n_embd", "block_size") if getattr(cfg, k)})
    try:
        return GPTConfig(vocab_size=padded_vocab(vocab_size), dropout=cfg.dropout,
                         eot_id=eot_id if cfg.doc_mask else None, **shape)
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


CKPT_KEYS = {"step": int, "model": dict, "optimizer": dict, "model_config": dict, "seed": int,
             "tokenizer_sha256": str}


def load_latest(out: Path) -> dict | None:
    """The latest checkpoint (weights_only); one that cannot be read or lacks a key is a ConfigError."""
    found = checkpoints(out)
    if not found:
        return None
    try:
        ckpt = torch.load(found[-1], map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a corrupt or crafted file
        raise ConfigError(f"{found[-1]}: not a readable checkpoint ({type(err).__name__}: "
                          f"{str(err).splitlines()[0] if str(err) else ''})") from None
    bad = [k for k, kind in CKPT_KEYS.items() if not isinstance(ckpt, dict) or not isinstance(ckpt.get(k), kind)]
    if not bad and (ckpt["step"] < 0 or not isinstance(ckpt.get("run", {}), dict)):
        bad = ["step" if ckpt["step"] < 0 else "run"]
    if bad:
        raise ConfigError(f"{found[-1]}: not a grist checkpoint (missing or bad: {', '.join(bad)})")
    return ckpt


def open_shards(folder: Path, split: str, expect: str | None, verify: bool):
    """open_split, with unreadable shards (truncated, not Arrow; e.g. under --no-verify) as a ConfigError."""
    import pyarrow as pa

    try:
        return open_split(folder, split, expect, verify)
    except (OSError, ValueError, pa.ArrowException) as err:
        raise ConfigError(f"{folder}: cannot read the {split} shards ({type(err).__name__}: "
                          f"{str(err).splitlines()[0] if str(err) else ''})") from None


# ---- evaluation and sampling ------------------------------------------------------------------

@torch.no_grad()
def evaluate(model: GPT, windows: dict[str, list[np.ndarray]], batch_size: int, dist: Dist, autocast,
             weights: dict[str, float] | None = None) -> dict[str, float]:
    """Mean next-token loss per source over the val windows (all ranks), plus `all`: weighted by
    `weights` (the training mix, `val_weights`) over the sources that have val windows, else by tokens."""
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
    if weights is not None:
        w = {n: weights.get(n, 0.0) for n in out}
        if sum(w.values()) > 0:  # a source with no val windows drops out; the others are renormalized
            out["all"] = sum(w[n] * out[n] for n in w) / sum(w.values())
    elif sums[:, 1].sum() > 0:
        out["all"] = float(sums[:, 0].sum() / sums[:, 1].sum())
    return out


def sample_text(model: GPT, data, cfg: TrainConfig, device: str) -> str | None:
    """A few tokens from the trained model, decoded with the shards' own tokenizer (`load_tokenizer`)."""
    from shards.format import sha256_file

    tok_path = data.folder / data.manifest.tokenizer_path
    if not tok_path.is_file() or sha256_file(tok_path) != data.manifest.tokenizer_sha256:
        print(f"sample: tokenizer {tok_path} missing or not the one of the shards; not sampling", file=sys.stderr)
        return None
    from tokenizer.train import load_tokenizer

    tok = load_tokenizer(tok_path)  # as in the pipeline: special-token strings in the prompt are text
    prompt = tok.encode(cfg.sample_prompt).ids if cfg.sample_prompt else []
    idx = torch.tensor([[data.manifest.eot_id] + prompt], dtype=torch.long, device=device)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    model.eval()
    out = model.generate(idx, cfg.sample_tokens, temperature=0.8, top_k=50, generator=gen,
                         max_token=data.manifest.vocab_size)
    model.train()
    return tok.decode(out[0, 1:].tolist())


# ---- training ---------------------------------------------------------------------------------

def optimizer_step(model, raw: torch.nn.Module, opt: torch.optim.Optimizer, batches, grad_accum: int, autocast,
                   grad_clip: float, ce_chunks: int = 1, ddp: bool = False) -> torch.Tensor:
    """Forward/backward over `grad_accum` (x, y) micro-batches, clip, AdamW step. Returns the mean loss
    as a device tensor: reading it syncs the host, so the caller does that only at log steps."""
    total = torch.zeros((), device=next(raw.parameters()).device)
    for micro, (x, y) in enumerate(batches):
        if ddp:  # all-reduce gradients only on the last micro-step
            model.require_backward_grad_sync = micro == grad_accum - 1
        with autocast:
            _, loss = model(x, y, ce_chunks=ce_chunks)
        (loss / grad_accum).backward()
        total += loss.detach() / grad_accum
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(raw.parameters(), grad_clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return total


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


def _plan(cfg: TrainConfig, rank: int, world_size: int) -> SimpleNamespace:
    """What a launch will do, before any model exists: the shards, the checkpoint to resume, the
    model shape, one loader per mix-schedule segment, the run shape and how it differs from the
    checkpoint's (refused here unless --allow-reshape)."""
    data_dir = Path(cfg.data)
    out = Path(cfg.out) if cfg.out else data_dir.parent / "train"
    ckpt = load_latest(out) if cfg.resume else None

    # What the run expects of the shards: the given tokenizer, else the one the checkpoint saw.
    expect = cfg.expect_tokenizer or (ckpt["tokenizer_sha256"] if ckpt else None)
    data = open_shards(data_dir, "train", expect, cfg.verify)
    manifest = data.manifest
    if ckpt and ckpt["tokenizer_sha256"] != manifest.tokenizer_sha256:
        raise ConfigError(f"{out}: checkpoint was trained with tokenizer {ckpt['tokenizer_sha256'][:12]}..., "
                          f"the shards use {manifest.tokenizer_sha256[:12]}...")
    mcfg = model_config(cfg, manifest.vocab_size, manifest.eot_id)
    if ckpt:
        for key, now in (("model_config", mcfg.to_dict()), ("seed", cfg.seed)):
            if ckpt[key] != now:
                raise ConfigError(f"{out}: checkpoint has {key} {ckpt[key]}, this run {now} (use another --out)")

    sources = list(data.streams)
    if cfg.mix_schedule and cfg.source_weights:
        raise ConfigError("--mix-schedule and --source-weights: give one of them")
    saved = (ckpt.get("run") or {}) if ckpt else {}
    if saved and "sampler" not in saved:  # checkpoints from before the sampler was recorded drew at random
        saved = {**saved, "sampler": "random"}
    if cfg.source_weights:
        plan = [(0, parse_weights(cfg.source_weights, sources))]
    elif cfg.mix_schedule or "mix" not in saved:
        plan = parse_mix_schedule(cfg.mix_schedule, sources)
    else:  # resume with the schedule the checkpoint recorded
        try:
            plan = [(int(s), parse_weights(dict(w), sources)) for s, w in saved["mix"]]
        except (TypeError, ValueError, ConfigError) as err:
            raise ConfigError(f"{checkpoints(out)[-1]}: the recorded mix schedule is not usable ({err})") from None
    # One loader per schedule segment; each is a pure function of (seed, step, rank) for its weights.
    # The epoch sampler walks a segment's plan from the segment's first step.
    loaders = [TrainLoader(data, mcfg.block_size, cfg.batch_size, cfg.seed, rank, world_size, w, sampler=cfg.sampler,
                           micro_steps=cfg.grad_accum, first_step=s)
               for s, w in plan]
    schedule = [[s, {k: float(v) for k, v in (getattr(ld, "weights", None) or w or {}).items()}]
                for (s, w), ld in zip(plan, loaders)]
    run_shape = {"world_size": world_size, "batch_size": cfg.batch_size, "block_size": mcfg.block_size,
                 "grad_accum": cfg.grad_accum, "sampler": cfg.sampler, "mix": schedule}
    changes = shape_changes(saved, run_shape) if saved else []
    if changes and not cfg.allow_reshape:
        raise ConfigError(f"{out}: the checkpoint's run differs ({'; '.join(changes)}); "
                          f"--allow-reshape to continue with the new shape, or use another --out")
    tokens_per_step = cfg.batch_size * mcfg.block_size * cfg.grad_accum * world_size
    return SimpleNamespace(data_dir=data_dir, out=out, ckpt=ckpt, expect=expect, data=data, manifest=manifest,
                           mcfg=mcfg, plan=plan, loaders=loaders, run_shape=run_shape, changes=changes,
                           tokens_per_step=tokens_per_step)


# Above this many tokens in a rank's slice the dry run skips the coverage count (4 bytes per token,
# two samplers): python -m trainer.data SHARDS counts it anyway.
COVERAGE_MAX_TOKENS = 1 << 28


def dry_run(cfg: TrainConfig) -> dict[str, Any]:
    """`--dry-run`: print the plan (steps, tokens/step, planned epochs per source, resume) and the
    coverage of one planned epoch (fraction of rank 0's tokens seen once; epoch vs random sampler)
    for each mix-schedule segment; no model, no process group, nothing written. Returns the figures."""
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    show = int(os.environ.get("RANK", 0)) == 0
    say = (lambda *a: print(*a, flush=True)) if show else (lambda *a: None)
    p = _plan(cfg, 0, world_size)
    mcfg, data = p.mcfg, p.data
    start = p.ckpt["step"] if p.ckpt else 0
    say(f"plan: {cfg.max_steps:,} steps x {p.tokens_per_step:,} tokens/step ({cfg.batch_size} x {mcfg.block_size} "
        f"x {cfg.grad_accum} accumulation x {world_size} rank(s)) = {cfg.max_steps * p.tokens_per_step:,} tokens; "
        f"{data.tokens:,} train tokens ({', '.join(f'{s} {st.tokens:,}' for s, st in data.streams.items())}); "
        f"sampler {cfg.sampler}")
    say(f"resume: from step {start} ({checkpoints(p.out)[-1]})" + (f", reshaped: {'; '.join(p.changes)}" if p.changes else "")
        if p.ckpt else f"resume: none, a fresh run in {p.out}")
    result: dict[str, Any] = {"steps": cfg.max_steps, "tokens_per_step": p.tokens_per_step, "start_step": start,
                              "sampler": cfg.sampler, "segments": []}
    bounds = [s for s, _ in p.plan] + [cfg.max_steps]
    for i, ((first, _), ld) in enumerate(zip(p.plan, p.loaders)):
        if first >= cfg.max_steps:
            break
        # Both samplers for the figure, whichever this run uses.
        epoch = ld if ld.plan is not None else TrainLoader(
            data, mcfg.block_size, cfg.batch_size, cfg.seed, 0, world_size, ld.weights, "epoch", cfg.grad_accum, first)
        rnd = ld if ld.plan is None else TrainLoader(
            data, mcfg.block_size, cfg.batch_size, cfg.seed, 0, world_size, ld.weights, "random", cfg.grad_accum, first)
        per_epoch = -(-epoch.plan.slots // (cfg.batch_size * cfg.grad_accum))
        length = min(bounds[i + 1], cfg.max_steps) - first
        seg = {"first_step": first, "steps": length, "weights": dict(ld.weights),
               "planned_epochs": {s: epoch.plan.epochs[s] for s in ld.sources}, "steps_per_planned_epoch": per_epoch,
               "planned_epochs_run": length / per_epoch}
        label = f"steps {first}-{first + length}" if len(p.plan) > 1 else "run"
        say(f"{label}: weights {', '.join(f'{s} {w:.3f}' for s, w in ld.weights.items())}; planned epochs per source "
            f"{', '.join(f'{s} {e:.2f}' for s, e in seg['planned_epochs'].items())}"
            f"{' (manifest planned_epochs)' if data.manifest.extra.get('planned_epochs') else ''}; one planned epoch = "
            f"{per_epoch:,} steps; this {'segment' if len(p.plan) > 1 else 'run'} = {seg['planned_epochs_run']:.2f} "
            f"planned epochs")
        slice_tokens = sum(st + mcfg.block_size for st in epoch.starts)
        if slice_tokens > COVERAGE_MAX_TOKENS:
            say(f"coverage: skipped ({slice_tokens:,} tokens on rank 0; `python -m trainer.data {cfg.data} "
                f"--block {mcfg.block_size} --batch {cfg.batch_size}` counts it)")
        else:
            for name, loader in (("epoch", epoch), ("random", rnd)):
                c = coverage(loader, per_epoch)
                seg[f"coverage_{name}"] = c
                say(f"coverage, one planned epoch ({per_epoch:,} steps, rank 0 of {world_size}), {name} sampler"
                    f"{' (this run)' if name == cfg.sampler else ''}: tokens seen {c['seen']:.1%}, exactly once "
                    f"{c['once']:.1%}, as planned {c['as_planned']:.1%}, never {c['never']:.1%}, "
                    f"3+ times {c['3plus']:.1%}")
        result["segments"].append(seg)
    return result


class _Batches:
    """batch_numpy(step, micro) from the loader of the schedule segment that holds `step`."""

    def __init__(self, plan, loaders):
        self.plan, self.loaders = plan, loaders

    def batch_numpy(self, step: int, micro: int) -> np.ndarray:
        return self.loaders[segment_at(self.plan, step)].batch_numpy(step, micro)


def _train(cfg: TrainConfig, dist: Dist) -> dict[str, Any]:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True)
    if dist.type == "cuda":  # TF32 for any float32 matmul left outside autocast
        torch.backends.cuda.matmul.fp32_precision = "tf32"
    log = (lambda *a: print(*a, flush=True)) if dist.master and not cfg.quiet else (lambda *a: None)
    p = _plan(cfg, dist.rank, dist.world_size)
    data_dir, out, ckpt, expect, data, manifest = p.data_dir, p.out, p.ckpt, p.expect, p.data, p.manifest
    mcfg, plan, loaders, run_shape, changes = p.mcfg, p.plan, p.loaders, p.run_shape, p.changes
    val_rows: dict[str, list[np.ndarray]] = {}
    if manifest.files("val"):
        val = open_shards(data_dir, "val", expect, cfg.verify)
        val_rows = val_windows(val, mcfg.block_size, dist.rank, dist.world_size, cfg.eval_windows)

    torch.manual_seed(cfg.seed)
    raw = GPT(mcfg).to(dist.device)
    opt = raw.optimizer(cfg.lr, cfg.weight_decay, (cfg.beta1, cfg.beta2), dist.type)
    step = 0
    if ckpt:
        try:
            raw.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"{checkpoints(out)[-1]}: does not fit this model "
                              f"({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
        step = ckpt["step"]
        log(f"resumed from {checkpoints(out)[-1]} at step {step}")
        if changes:
            log(f"reshaped at step {step}: {'; '.join(changes)}")
    model = raw
    if cfg.compile if cfg.compile is not None else dist.type == "cuda":
        model = torch.compile(model)
    if dist.ddp:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dist.local_rank] if dist.type == "cuda" else None)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if dist.type == "cuda" else contextlib.nullcontext())

    tokens_per_step = p.tokens_per_step
    peak = cfg.peak_flops
    if peak is None and dist.type == "cuda":
        name = torch.cuda.get_device_name(dist.device)
        peak = peak_flops(name)
        if peak is None:
            log(f"mfu: no peak FLOP/s known for {name!r}; give --peak-flops")
    flops_per_token = raw.flops_per_token(mcfg.block_size)
    out.mkdir(parents=True, exist_ok=True)
    if dist.master:
        dropped = truncate_metrics(out / "metrics.jsonl", step)
        if dropped:
            log(f"metrics.jsonl: dropped {dropped} row(s) after the checkpoint's step {step}")
        record_config(out, {"train": asdict(cfg), "model": mcfg.to_dict(), "run": run_shape}, step,
                      "; ".join(changes) or None)
    log(f"model {cfg.model}: {raw.num_params() / 1e6:.2f}M params | {data.tokens:,} train tokens in "
        f"{len(data.segments)} segment(s), sources {', '.join(loaders[0].sources)} | {tokens_per_step:,} tokens/step | "
        f"{dist.world_size} x {dist.device} | attention {'document-causal' if mcfg.eot_id is not None else 'causal'} | "
        f"sampler {cfg.sampler} | prefetch {cfg.prefetch or 'off'}")
    metrics = open(out / "metrics.jsonl", "a") if dist.master else None
    trace = open(out / f"samples-rank{dist.rank}.jsonl", "a") if cfg.trace_samples else None

    def record(row: dict) -> None:
        if metrics:
            metrics.write(json.dumps(row) + "\n")
            metrics.flush()

    def sync() -> None:  # pending GPU work belongs to the training time, not to what follows
        if dist.type == "cuda":
            torch.cuda.synchronize(dist.device)

    def run_eval() -> dict[str, float]:
        weights = val_weights(loaders[segment_at(plan, step)])  # `all` is weighted by the mix being trained
        res = evaluate(raw, val_rows, cfg.batch_size, dist, autocast, weights)
        if res:
            log(f"step {step} | val loss " + " | ".join(f"{k} {v:.4f}" for k, v in res.items()))
            record({"step": step, "val": res, "val_weights": {k: weights.get(k, 0.0) for k in res if k != "all"}})
        return res

    # Batches of the steps to come, gathered ahead by a thread in exactly the inline order; on CUDA
    # they arrive in pinned memory so the host-to-device copy overlaps compute.
    end = min(cfg.max_steps, cfg.stop_after or cfg.max_steps)
    keys = ((s, m) for s in range(step, end) for m in range(cfg.grad_accum))
    pin = (lambda b: torch.from_numpy(b).pin_memory()) if dist.type == "cuda" else torch.from_numpy
    source = _Batches(plan, loaders)
    prefetch = Prefetcher(source, keys, cfg.prefetch, pin) if cfg.prefetch > 0 else None
    ahead = iter(prefetch) if prefetch else ((k, pin(source.batch_numpy(*k))) for k in keys)

    def next_batch(step: int, micro: int):
        key, buf = next(ahead)
        assert key == (step, micro), (key, step, micro)
        buf = buf.to(dist.device, non_blocking=True)
        return buf[:, :-1], buf[:, 1:]

    losses: dict[int, float] = {}
    val_loss: dict[str, float] = {}
    t0, t0_step = time.perf_counter(), step
    loss_acc, loss_from = torch.zeros((), device=dist.device), step
    try:
        while step < end:
            if val_rows and step % cfg.eval_interval == 0:
                sync()
                paused = time.perf_counter()
                val_loss = run_eval()
                t0 += time.perf_counter() - paused  # tokens/s and MFU exclude evaluation
            lr = lr_at(step, cfg)
            for group in opt.param_groups:
                group["lr"] = lr
            loader = loaders[segment_at(plan, step)]
            # Dropout RNG keyed by (seed, step, rank) like the data: resuming needs no RNG state.
            torch.manual_seed(int(np.random.SeedSequence([cfg.seed, step, dist.rank]).generate_state(1)[0]))

            def batches(step=step, loader=loader):
                for micro in range(cfg.grad_accum):
                    if trace:
                        trace.write("".join(json.dumps([step, micro, s, p]) + "\n" for s, p in loader.positions(step, micro)))
                    yield next_batch(step, micro)

            loss_acc += optimizer_step(model, raw, opt, batches(), cfg.grad_accum, autocast, cfg.grad_clip,
                                       cfg.ce_chunks, dist.ddp)
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
                sync()
                paused = time.perf_counter()
                save_checkpoint(out, {
                    "step": step, "model": raw.state_dict(), "optimizer": opt.state_dict(),
                    "model_config": mcfg.to_dict(), "seed": cfg.seed, "loader": loader.state_dict(),
                    "tokenizer_sha256": manifest.tokenizer_sha256, "train": asdict(cfg), "run": run_shape,
                }, cfg.keep_ckpts)
                t0 += time.perf_counter() - paused  # tokens/s and MFU exclude checkpoint saves
    finally:
        if prefetch:
            prefetch.close()
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
