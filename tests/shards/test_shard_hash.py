"""A shard is hashed once, by the storage layer while it is written: what `write_shard` returns is
the sha256 and size of the bytes that landed, on local disk and on an fsspec store alike."""

from __future__ import annotations

import hashlib

import numpy as np

from pipelines import storage
from shards.format import shard_schema, tokens_array, write_shard


def test_write_shard_returns_the_hash_and_size_of_the_committed_file(tmp_path):
    offsets = np.array([0, 3, 7, 12])
    flat = np.arange(12) % 500
    for vocab in (500, 70000):  # uint16 and uint32 tokens
        schema = shard_schema(vocab, {"vocab_size": vocab})
        for where in (tmp_path / f"s{vocab}.arrow", f"memory://shardhash/s{vocab}.arrow"):
            sha, nbytes = write_shard(where, ["a", "b", "c"], ["web", "web", "code"],
                                      tokens_array(flat, offsets, vocab), schema)
            data = storage.location(where).read_bytes()
            assert (sha, nbytes) == (hashlib.sha256(data).hexdigest(), len(data)) and nbytes > 0
    assert storage.location(tmp_path / "s500.arrow").read_bytes() == storage.location("memory://shardhash/s500.arrow").read_bytes()
    assert not list(tmp_path.glob(".*tmp-*"))  # the attempt's temporary was renamed into place
