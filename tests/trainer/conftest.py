"""Fixtures for the trainer tests: one real shard set (tokenizer + train/val shards) per session."""

from __future__ import annotations

import pytest

from tests.trainer.shardkit import write_dataset


@pytest.fixture(scope="session")
def shards(tmp_path_factory):
    """Shard folder of three interleaved sources (web, books, code), train and val splits."""
    return write_dataset(tmp_path_factory.mktemp("dataset"))


def tiny(data, out, **overrides):
    """A TrainConfig for a ~100K-parameter model that trains in seconds on one CPU thread."""
    from trainer.train import TrainConfig

    values = dict(data=str(data), out=str(out), n_layer=2, n_head=2, n_embd=64, block_size=32, batch_size=8,
                  max_steps=20, warmup=5, lr=3e-3, log_interval=1, eval_interval=1000, eval_windows=8,
                  ckpt_interval=1000, threads=1, deterministic=True, sample_tokens=0, quiet=True)
    values.update(overrides)
    return TrainConfig(**values)
