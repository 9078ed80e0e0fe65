"""Config of the filter stage (language id, heuristics, PII, quality classifier)."""

from pipelines.strict import StageToggle


class FiltersConfig(StageToggle):
    """Filled in by the filters issue; `enabled: false` skips the stage."""
