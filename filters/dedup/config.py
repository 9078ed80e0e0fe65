"""Config of the dedup stage (exact, MinHash LSH, decontamination)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipelines.strict import StageToggle, StrictModel


class ExactConfig(StrictModel):
    enabled: bool = Field(True, description="drop exact duplicates of the normalised text (NFKC, case and whitespace folded)")


class MinHashConfig(StrictModel):
    enabled: bool = True
    num_perm: int = Field(128, ge=2, le=1024, description="permutations of the MinHash signature")
    seed: int = Field(1, ge=0, description="permutation seed (1 = datasketch's default)")
    scheme: Literal["affine32", "legacy"] = Field("affine32", description="datasketch permutation scheme")
    shingle_hash: Literal["poly64", "sha1"] = Field(
        "poly64", description="gram hash: poly64 = vectorised polynomial hash (fast); sha1 = datasketch's sha1_hash32 "
                              "(signatures then equal datasketch's MinHash fed the same grams, ~3x slower scan)")
    word_ngram: int = Field(5, ge=1, description="shingle size in words (space-separated scripts)")
    char_ngram: int = Field(5, ge=1, description="shingle size in characters (Chinese/Japanese, char_sources)")
    char_sources: list[str] = Field(default_factory=list, description="sources always shingled by characters (e.g. code)")
    cjk_min_fraction: float = Field(0.3, ge=0, le=1, description="documents with this share of Han/kana characters use character shingles")
    bands: int | None = Field(None, ge=1, description="LSH bands; null = derived from the threshold")
    rows: int | None = Field(None, ge=1, description="rows per band; null = derived from the threshold")
    verify: bool = Field(True, description="keep only candidate pairs whose true Jaccard of shingles >= threshold")
    max_pair_group: int = Field(8, ge=2, description="band groups up to this size are verified pair by pair, larger ones as a star")

    @model_validator(mode="after")
    def _bands_rows(self) -> "MinHashConfig":
        if (self.bands is None) != (self.rows is None):
            raise ValueError("bands and rows go together (or both null)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} > num_perm = {self.num_perm}")
        return self


class EvalSetConfig(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="used in the drop reason contamination:NAME")
    paths: list[str] = Field(min_length=1, description="JSONL files (globs, .gz ok)")
    fields: list[str] = Field(default_factory=lambda: ["text"], description="string fields of a record whose n-grams count")


class DecontamConfig(StrictModel):
    enabled: bool = True
    eval_sets: list[EvalSetConfig] = Field(default_factory=list)
    ngram: int = Field(13, ge=1, description="n-gram length in words (characters for Chinese/Japanese)")


class DedupConfig(StageToggle):
    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity above which two documents are near-duplicates")
    exact: ExactConfig = Field(default_factory=ExactConfig)
    minhash: MinHashConfig = Field(default_factory=MinHashConfig)
    decontam: DecontamConfig = Field(default_factory=DecontamConfig)
    source_priority: list[str] = Field(default_factory=list, description="keep rule after quality_score and original-over-vendored: earlier sources win; unlisted ones come last")
    buckets: int | None = Field(None, ge=1, le=65536, description="shuffle buckets (tasks per round); null = buckets_per_worker x workers")
    buckets_per_worker: int = Field(2, ge=1, le=64, description="shuffle buckets per worker when buckets is null")
    cc_single_max_edges: int = Field(
        20_000_000, ge=0,
        description="connected components in one task (scipy) up to this many verified edges (x2 directions); beyond, large/small-star rounds")
