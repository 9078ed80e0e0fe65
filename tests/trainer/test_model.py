"""The GPT: published GPT-2 size, FLOPs estimate, causality, generation."""

from __future__ import annotations

import pytest
import torch

from trainer.model import GPT, PRESETS, GPTConfig, padded_vocab


def test_gpt2_preset_has_124m_parameters():
    with torch.device("meta"):  # shapes only, no memory
        original = GPT(GPTConfig(vocab_size=50257, bias=True, **PRESETS["gpt2"]))
        model = GPT(GPTConfig(vocab_size=50257, **PRESETS["gpt2"]))
    assert original.num_params(non_embedding=False) == 124_439_808  # GPT-2 small, tied embeddings
    assert model.num_params(non_embedding=False) == 124_439_808 - 102_144  # our default: no biases
    assert padded_vocab(50257) == 50304
    # 6N + 12 L C T (nanoGPT's estimate_mfu): about 0.85 GFLOP per token for GPT-2 at T=1024.
    assert original.flops_per_token() == 6 * (124_439_808 - 1024 * 768) + 12 * 12 * 768 * 1024


def test_causal_and_loss_matches_manual():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=32)).eval()
    idx = torch.randint(0, 64, (2, 16))
    changed = idx.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % 64
    a, _ = model(idx)
    b, _ = model(changed)
    assert torch.allclose(a[:, :10], b[:, :10], atol=1e-6) and not torch.allclose(a[:, 10:], b[:, 10:])
    logits, loss = model(idx[:, :-1], idx[:, 1:])
    manual = torch.nn.functional.log_softmax(logits, -1).gather(-1, idx[:, 1:, None]).mean().neg()
    assert torch.allclose(loss, manual, atol=1e-6)
    per_token = model(idx[:, :-1], idx[:, 1:], reduction="none")[1]
    assert per_token.shape == (30,) and torch.allclose(per_token.mean(), loss)


def test_generate_respects_real_vocab_and_block():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=8, n_layer=1, n_head=1, n_embd=16)).eval()
    gen = torch.Generator().manual_seed(0)
    out = model.generate(torch.zeros(1, 1, dtype=torch.long), 20, generator=gen, max_token=50, top_k=10)
    assert out.shape == (1, 21) and int(out.max()) < 50
    with pytest.raises(ValueError, match="exceeds block_size"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="multiple of n_head"):
        GPTConfig(vocab_size=64, n_embd=30, n_head=4)


def test_document_mask_hides_the_previous_document():
    torch.manual_seed(0)
    eot = 3
    model = GPT(GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=32, eot_id=eot)).eval()
    idx = torch.randint(4, 64, (2, 16))
    idx[:, 6] = eot  # document 1 = tokens 0..6 (its end-of-text included), document 2 = 7..15
    changed = idx.clone()
    changed[:, :6] = (changed[:, :6] + 5) % 60 + 4  # other words in document 1, same boundary
    a, _ = model(idx)
    b, _ = model(changed)
    assert torch.allclose(a[:, 7:], b[:, 7:], atol=1e-5) and not torch.allclose(a[:, :7], b[:, :7], atol=1e-3)
    # The same weights without the document mask: document 2 sees document 1.
    plain = GPT(GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=32)).eval()
    plain.load_state_dict(model.state_dict())
    assert not torch.allclose(plain(idx)[0][:, 7:], plain(changed)[0][:, 7:], atol=1e-3)
    # A window without an end-of-text token is plain causal attention.
    assert torch.allclose(model(idx[:, 7:])[0], plain(idx[:, 7:])[0], atol=1e-6)


def test_document_mask_layout():
    from trainer.model import document_ids, document_mask

    idx = torch.tensor([[5, 0, 5, 5, 0, 0, 5]])
    assert document_ids(idx, 0).tolist() == [[0, 0, 1, 1, 1, 2, 3]]
    m = document_mask(idx, 0)[0, 0]
    assert m.shape == (7, 7) and m[1, 0] and not m[2, 1] and m[4, 2] and not m[5, 4] and not m[6, 5] and m[6, 6]
    assert not m.triu(1).any()


def test_chunked_cross_entropy_equals_plain():
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=64, block_size=16, n_layer=1, n_head=2, n_embd=32)
    a, b = GPT(cfg), GPT(cfg)
    b.load_state_dict(a.state_dict())
    idx = torch.randint(0, 64, (3, 17))
    _, plain = a(idx[:, :-1], idx[:, 1:])
    logits, chunked = b(idx[:, :-1], idx[:, 1:], ce_chunks=4)
    assert logits is None and torch.allclose(plain, chunked, atol=1e-6)
    plain.backward()
    chunked.backward()
    assert all(torch.allclose(p.grad, q.grad, atol=1e-6) for p, q in zip(a.parameters(), b.parameters()))
    per_token = b(idx[:, :-1], idx[:, 1:], reduction="none", ce_chunks=5)[1]  # chunks need not divide 48
    assert per_token.shape == (48,) and torch.allclose(per_token.mean(), plain, atol=1e-6)


def test_flex_block_mask_matches_the_sdpa_mask():
    # The CUDA path (FlexAttention, compiled) run on CPU, where inductor compiles it too: same attention.
    from trainer.model import _flex, document_mask, flex_document_mask

    torch.manual_seed(0)
    idx = torch.randint(1, 50, (2, 128))
    idx[:, 40] = 0
    idx[1, 90] = 0
    q, k, v = (torch.randn(2, 2, 128, 16) for _ in range(3))
    flex = _flex()[0](q, k, v, block_mask=flex_document_mask(idx, 0))
    sdpa = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=document_mask(idx, 0))
    assert torch.allclose(flex, sdpa, atol=1e-5)
    causal = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert not torch.allclose(flex[:, :, 41:], causal[:, :, 41:], atol=1e-3)
