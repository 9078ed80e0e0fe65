"""Base class for every config model: unknown keys are errors, values are validated strictly."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class StageToggle(StrictModel):
    """Every stage can be switched off with `enabled: false`."""

    enabled: bool = True
