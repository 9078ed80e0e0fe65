"""Training throughput of GPT-2 124M: tokens/s and MFU of grist's model and training step on this
device, and on CPU the same model in HF `transformers` (GPT2LMHeadModel) through the same step.

Tokens are random (vocabulary 50304, an `<|endoftext|>` every ~600 tokens so document-causal
attention has documents to mask); the step is trainer.train.optimizer_step (grad accumulation,
clipping, AdamW; bf16 autocast + torch.compile + fused AdamW on CUDA). Timed steps follow untimed
warmup steps (compilation); the device is synchronized around the timed span.

    .venv/bin/python benchmarks/bench_train.py                # GPU: 32 x 1024 x 16; CPU: 2 x 256 x 1
    .venv/bin/python benchmarks/bench_train.py --batch 4 --block 512 --steps 5 --peak-flops 1e12

`transformers` is an optional benchmark dependency (`pip install -e .[bench]`); without it only the
grist figures are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.gpu import peak_flops  # noqa: E402
from trainer.model import GPT, PRESETS, GPTConfig  # noqa: E402
from trainer.train import optimizer_step  # noqa: E402

VOCAB, EOT = 50304, 50256


class HFGPT2(torch.nn.Module):
    """HF GPT2LMHeadModel (SDPA attention, no dropout) behind grist's forward(x, y) -> (logits, loss)."""

    def __init__(self, block: int):
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel

        cfg = GPT2Config(vocab_size=VOCAB, n_positions=block, n_embd=768, n_layer=12, n_head=12,
                         resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
        self.hf = GPT2LMHeadModel._from_config(cfg, attn_implementation="sdpa")

    def forward(self, x, y, ce_chunks: int = 1):
        logits = self.hf(input_ids=x).logits
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1))


def batches(n: int, batch: int, block: int, device: str, gen: torch.Generator):
    for _ in range(n):
        buf = torch.randint(0, EOT, (batch, block + 1), generator=gen)
        buf[torch.rand(buf.shape, generator=gen) < 1 / 600] = EOT
        buf = buf.to(device)
        yield buf[:, :-1], buf[:, 1:]


def measure(model: torch.nn.Module, args, device: str) -> float:
    """Tokens/s of optimizer steps (after warmup steps)."""
    cuda = device.startswith("cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=6e-4, betas=(0.9, 0.95), weight_decay=0.1, fused=cuda)
    run = torch.compile(model) if args.compile else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else contextlib.nullcontext()
    gen = torch.Generator().manual_seed(0)

    def steps(n: int) -> torch.Tensor:
        loss = torch.zeros((), device=device)
        for _ in range(n):
            loss += optimizer_step(run, model, opt, batches(args.grad_accum, args.batch, args.block, device, gen),
                                   args.grad_accum, autocast, 1.0, args.ce_chunks)
        return loss

    float(steps(args.warmup))
    if cuda:
        torch.cuda.synchronize()
    t = time.perf_counter()
    loss = float(steps(args.steps))  # one host sync for all timed steps
    dt = time.perf_counter() - t
    print(f"  mean loss {loss / args.steps:.3f} over {args.steps} steps in {dt:.1f} s", flush=True)
    return args.steps * args.grad_accum * args.batch * args.block / dt


def main() -> None:
    cuda = torch.cuda.is_available()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=32 if cuda else 2)
    p.add_argument("--block", type=int, default=1024 if cuda else 256)
    p.add_argument("--grad-accum", type=int, default=16 if cuda else 1)
    p.add_argument("--steps", type=int, default=10 if cuda else 3, help="timed optimizer steps")
    p.add_argument("--warmup", type=int, default=3 if cuda else 1, help="untimed steps first (compilation)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=cuda)
    p.add_argument("--doc-mask", action=argparse.BooleanOptionalAction, default=True,
                   help="grist with document-causal attention (default: on, as grist train)")
    p.add_argument("--ce-chunks", type=int, default=1)
    p.add_argument("--peak-flops", type=float, help="per-device peak for MFU (default: by GPU name; none on CPU)")
    p.add_argument("--hf", action=argparse.BooleanOptionalAction, default=not cuda,
                   help="also HF transformers GPT2LMHeadModel (default: on CPU)")
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if cuda else "cpu"
    if cuda:
        torch.backends.cuda.matmul.fp32_precision = "tf32"
    name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    peak = args.peak_flops or (peak_flops(name) if cuda else None)
    shape = dict(PRESETS["gpt2"], block_size=args.block)
    print(f"device: {name} | peak {'n/a' if peak is None else f'{peak:.3g}'} FLOP/s | torch {torch.__version__} | "
          f"batch {args.batch} x {args.block} x accum {args.grad_accum} | compile {args.compile}", flush=True)

    torch.manual_seed(0)
    grist = GPT(GPTConfig(vocab_size=VOCAB, eot_id=EOT if args.doc_mask else None, **shape)).to(device)
    flops = grist.flops_per_token(args.block)  # 6N + 12 L C T, N without position embeddings

    def report(label: str, tps: float) -> None:
        mfu = f"{flops * tps / peak:.1%}" if peak else "n/a"
        print(f"{label:<44} {tps:>12,.0f} tokens/s | MFU {mfu}", flush=True)

    label = f"grist GPT-2 124M ({'document-causal' if args.doc_mask else 'causal'})"
    report(label, measure(grist, args, device))
    del grist
    if args.hf:
        try:
            hf = HFGPT2(args.block).to(device)
        except ImportError:
            print("transformers is not installed (pip install -e .[bench]); no HF figure", flush=True)
            return
        import transformers

        report(f"HF transformers {transformers.__version__} GPT2LMHeadModel", measure(hf, args, device))


if __name__ == "__main__":
    main()
