"""Config of the BPE tokenizer stage."""

from pydantic import Field

from pipelines.strict import StageToggle


class TokenizerConfig(StageToggle):
    vocab_size: int = Field(8192, ge=256 + 1, le=1 << 20)
