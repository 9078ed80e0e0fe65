"""Config of the dedup stage (exact, MinHash LSH, decontamination)."""

from pydantic import Field

from pipelines.strict import StageToggle


class DedupConfig(StageToggle):
    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity above which two documents are near-duplicates")
