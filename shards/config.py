"""Config of the shard-writing stage."""

from typing import Literal

from pydantic import Field

# Shard token lists have int32 offsets (Arrow `list`, read by pyarrow, HF datasets and DuckDB as is).
MAX_SHARD_TOKENS = 2**31 - 1

from pipelines.strict import StageToggle


class ShardsConfig(StageToggle):
    tokens_per_shard: int = Field(1_000_000, gt=0, le=MAX_SHARD_TOKENS,
                                  description="a shard is closed once it holds this many tokens (< 2^31: int32 offsets)")
    val_fraction: float = Field(0.01, ge=0, lt=1, description="share of each source's documents (by hash of id) held "
                                "out as val; 0 = no validation split")
    val_min_documents: int = Field(2, ge=0, description="at least this many val documents per source")
    val_min_tokens: int = Field(0, ge=0, description="at least this many val tokens per source")
    batch_rows: int = Field(512, gt=0, description="documents per encode_batch call")
    carry_tokens: Literal["auto", "always", "never"] = Field(
        "auto", description="the sort carries each document's tokens, so shard writers read no token part "
        "(auto: when the output is on an object store; always: e.g. a slow network file system)")
    exports: list[Literal["nanogpt", "llmc", "megatron"]] = Field(
        default_factory=list, description="extra formats under shards/export/: nanogpt (train.bin, val.bin, meta.pkl; "
        "uint16 vocabularies only), llmc (llm.c / modded-nanogpt .bin per shard), megatron (.bin/.idx)")
