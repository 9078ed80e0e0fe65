"""Config of the shard-writing stage."""

from pydantic import Field

from pipelines.strict import StageToggle


class ShardsConfig(StageToggle):
    tokens_per_shard: int = Field(1_000_000, gt=0)
