"""Distributions in the scenario format: times in state and group sizes (fixed, exponential, gamma,
lognormal, empirical)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from refuge.scenario.base import FormatModel, Number
from refuge.scenario.limits import MAX_LEVEL


class Fixed(FormatModel):
    """A fixed time in state: `value` days."""

    dist: Literal["fixed"]
    value: Number


class Exponential(FormatModel):
    """Exponentially distributed with this `mean` (memoryless: the same as a constant daily rate)."""

    dist: Literal["exponential"]
    mean: Number


class Gamma(FormatModel):
    """Gamma distributed with this `mean` and standard deviation `sd`."""

    dist: Literal["gamma"]
    mean: Number
    sd: Number


class Lognormal(FormatModel):
    """Lognormal: `median`, and `sigma`, the standard deviation of the log."""

    dist: Literal["lognormal"]
    median: Number
    sigma: Number = Field(description="standard deviation of the log")


class Empirical(FormatModel):
    """A table: whole-number `values` drawn with relative `weights` (e.g. group sizes)."""

    dist: Literal["empirical"]
    values: list[int] = Field(min_length=1)
    weights: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _table(self) -> "Empirical":
        if len(self.values) != len(self.weights):
            raise ValueError(f"values has {len(self.values)} entries but weights has {len(self.weights)}")
        if any(not 0 <= w <= MAX_LEVEL for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError(f"weights must be between 0 and {MAX_LEVEL:g}, and not all zero")
        if any(v < 0 for v in self.values):
            raise ValueError("values must be non-negative whole numbers")
        return self


Distribution = Annotated[Union[Fixed, Exponential, Gamma, Lognormal, Empirical], Field(discriminator="dist")]
DIST_TAGS = ("fixed", "exponential", "gamma", "lognormal", "empirical")
