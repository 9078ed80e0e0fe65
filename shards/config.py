"""Config of the shard-writing stage."""

from typing import Literal

from pydantic import Field

from pipelines.strict import StageToggle


class ShardsConfig(StageToggle):
    tokens_per_shard: int = Field(1_000_000, gt=0, description="a shard is closed once it holds this many tokens")
    val_fraction: float = Field(0.01, ge=0, lt=1, description="share of documents (by hash of id) held out as val")
    batch_rows: int = Field(512, gt=0, description="documents per encode_batch call")
    exports: list[Literal["nanogpt", "megatron"]] = Field(default_factory=list, description="extra formats under shards/export/")
