"""Config of the BPE tokenizer stage."""

from pydantic import Field, field_validator

from pipelines.strict import StageToggle

EOT = "<|endoftext|>"


class TokenizerConfig(StageToggle):
    vocab_size: int = Field(8192, ge=256 + 1, le=1 << 20, description="including the special tokens")
    path: str | None = Field(None, description="an existing tokenizer.json to use instead of training one")
    sample_chars: int = Field(50_000_000, gt=0, description="characters of the mixture the trainer sees (memory bound)")
    min_frequency: int = Field(2, ge=0, description="pairs seen fewer times are not merged")
    special_tokens: list[str] = Field(default_factory=lambda: [EOT], description=f"must include {EOT}")
    split_digits: bool = Field(False, description="pre-tokenize every digit on its own (as LLaMA does)")
    use_regex: bool = Field(True, description="GPT-2's pre-tokenization regex (words, numbers, punctuation)")

    @field_validator("special_tokens")
    @classmethod
    def _has_eot(cls, v: list[str]) -> list[str]:
        if EOT not in v:
            raise ValueError(f"must include {EOT!r}")
        if len(set(v)) != len(v):
            raise ValueError("duplicate special tokens")
        return v
