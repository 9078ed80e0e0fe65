"""A GPT (decoder-only transformer), nanoGPT-style: pre-LayerNorm blocks, tied embeddings,
`scaled_dot_product_attention` (flash attention on CUDA with bf16).

Document-causal attention (`GPTConfig.eot_id`): a token attends only to earlier tokens of its own
document; a document ends with (and includes) its `<|endoftext|>`. On CUDA the mask is a FlexAttention
block mask (fully masked blocks are skipped); elsewhere a boolean SDPA mask (the tested path)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from trainer.presets import PRESETS  # noqa: F401  (re-exported; torch-free for the CLI's parser)


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False
    eot_id: int | None = None  # set: document-causal attention, stops at this token

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")

    def to_dict(self) -> dict:
        return asdict(self)


def padded_vocab(vocab_size: int, multiple: int = 64) -> int:
    """Round the vocabulary up: GPT-2's 50257 -> 50304 made nanoGPT ~25% faster on A100."""
    return (vocab_size + multiple - 1) // multiple * multiple


def document_ids(idx: torch.Tensor, eot_id: int) -> torch.Tensor:
    """(B, T) index of each token's document within its window: the count of `eot_id` strictly before
    it (the end-of-text token closes, and belongs to, its document)."""
    eot = (idx == eot_id).to(torch.int32)
    return torch.cumsum(eot, dim=1) - eot


def document_mask(idx: torch.Tensor, eot_id: int) -> torch.Tensor:
    """Boolean (B, 1, T, T) SDPA mask: causal and same document (True = may attend)."""
    T = idx.shape[1]
    doc = document_ids(idx, eot_id)
    causal = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril()
    return (causal & (doc[:, :, None] == doc[:, None, :]))[:, None]


_FLEX: tuple | None = None


def _flex() -> tuple:
    """(compiled flex_attention, create_block_mask); compiled once: eager FlexAttention is a slow reference."""
    global _FLEX
    if _FLEX is None:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention

        _FLEX = (torch.compile(flex_attention, dynamic=False), create_block_mask)
    return _FLEX


def flex_document_mask(idx: torch.Tensor, eot_id: int):
    """FlexAttention BlockMask (CUDA): causal and same document; blocks wholly across documents are skipped."""
    B, T = idx.shape
    doc = document_ids(idx, eot_id)

    def mask_mod(b, h, q, kv):
        return (q >= kv) & (doc[b, q] == doc[b, kv])

    return _flex()[1](mask_mod, B, None, T, T, device=idx.device)


def chunked_cross_entropy(h: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunks: int,
                          reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of `h @ weight.T` without holding the whole (N, V) logits: the rows are split in
    `chunks`, and each chunk's logits are recomputed in the backward pass (activation checkpointing),
    so peak logits memory is 1/chunks of the plain path for one extra lm_head matmul."""
    from torch.utils.checkpoint import checkpoint

    h, targets = h.reshape(-1, h.size(-1)), targets.reshape(-1)

    def part(hc: torch.Tensor, tc: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy((hc @ weight.t()).float(), tc, reduction="none")

    losses = torch.cat([checkpoint(part, hc, tc, use_reentrant=False)
                        for hc, tc in zip(h.chunk(chunks), targets.chunk(chunks))])
    return losses if reduction == "none" else losses.mean()


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.dropout = cfg.dropout
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask=None) -> torch.Tensor:
        """`mask`: None (causal), a boolean (B, 1, T, T) SDPA mask, or a FlexAttention BlockMask."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if mask is not None and not isinstance(mask, torch.Tensor):
            y = _flex()[0](q, k, v, block_mask=mask)  # FlexAttention has no dropout
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None,
                                               dropout_p=self.dropout if self.training else 0.0)
        return self.resid_drop(self.proj(y.transpose(1, 2).contiguous().view(B, T, C)))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, mask=None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.config = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying (GPT-2)
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/sqrt(2 * n_layer).
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameters (tied weights counted once); position embeddings excluded by default."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.wpe.weight.numel() if non_embedding else n

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token: 6N for the matmuls + 12*L*C*T for attention (PaLM appendix B)."""
        c = self.config
        return 6 * self.num_params() + 12 * c.n_layer * c.n_embd * (seq_len or c.block_size)

    def attention_mask(self, idx: torch.Tensor):
        """None (plain causal), a FlexAttention BlockMask when training on CUDA, else a boolean SDPA mask.
        FlexAttention has no dropout, and evaluation and generation (other lengths: one compilation
        each) take the SDPA mask, which gives the same attention."""
        eot = self.config.eot_id
        if eot is None:
            return None
        if idx.is_cuda and self.training and not self.config.dropout:
            return flex_document_mask(idx, eot)
        if not idx.is_cuda and not bool((idx == eot).any()):  # no boundary: the causal kernel, same result
            return None
        return document_mask(idx, eot)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, reduction: str = "mean",
                ce_chunks: int = 1):
        """Logits (B, T, V); with targets also the cross-entropy (mean, or per token with 'none').
        `ce_chunks` > 1: chunked cross-entropy, no logits returned (None)."""
        T = idx.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"sequence of {T} tokens exceeds block_size {self.config.block_size}")
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        mask = self.attention_mask(idx)
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln_f(x)
        if targets is not None and ce_chunks > 1:
            return None, chunked_cross_entropy(x, self.lm_head.weight, targets, ce_chunks, reduction)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), reduction=reduction)
        return logits, loss

    def optimizer(self, lr: float, weight_decay: float, betas: tuple[float, float], device_type: str) -> torch.optim.AdamW:
        """AdamW; matrices decay, biases and norms do not; fused kernel on CUDA."""
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=device_type == "cuda")

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 generator: torch.Generator | None = None, max_token: int | None = None) -> torch.Tensor:
        """Sample `new_tokens` continuations; `max_token` masks the padded vocabulary rows."""
        for _ in range(new_tokens):
            logits, _ = self(idx[:, -self.config.block_size:])
            logits = logits[:, -1, :].float() / max(temperature, 1e-6)
            if max_token is not None:
                logits[:, max_token:] = -float("inf")
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
                logits[logits < kth] = -float("inf")
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            idx = torch.cat([idx, nxt], dim=1)
        return idx
