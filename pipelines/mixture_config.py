"""Config of the mixture stage (weighted sampling by tokens)."""

from pydantic import Field

from pipelines.strict import StageToggle


class MixtureConfig(StageToggle):
    target_tokens: int | None = Field(None, gt=0, description="token budget of the mix; null = every kept token once")
    max_epochs: float = Field(4.0, gt=0, description="the most times a source's documents may repeat")
    temperature: float = Field(1.0, gt=0, description="shares ∝ weight^(1/T): 1 keeps the weights, larger flattens them")
    # Planning estimate before a tokenizer exists; the shards stage corrects it with exact counts.
    bytes_per_token: float = Field(4.0, gt=0, description="UTF-8 bytes per token assumed before tokenizing")
