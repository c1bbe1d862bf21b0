"""Parameters in the scenario format: named numbers with their sources and priors, schedules that change
them over time, and variants (named what-ifs) that override them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from refuge.scenario.base import FormatModel, Number
from refuge.scenario.limits import MAX_PARAMETER
from refuge.scenario.sources import Source


class Prior(FormatModel):
    """A prior for calibration: uniform, loguniform or normal (truncated at low/high)."""

    dist: Literal["uniform", "loguniform", "normal"] = "uniform"
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> "Prior":
        if any(x is not None and not abs(x) <= MAX_PARAMETER for x in (self.low, self.high, self.mean, self.sd)):
            raise ValueError(f"prior bounds, mean and sd between -{MAX_PARAMETER:g} and {MAX_PARAMETER:g}")
        if self.dist in ("uniform", "loguniform"):
            if self.low is None or self.high is None:
                raise ValueError(f"a {self.dist} prior needs low and high")
            if not self.low < self.high:
                raise ValueError(f"prior low ({self.low}) must be below high ({self.high})")
            if self.dist == "loguniform" and self.low <= 0:
                raise ValueError("a loguniform prior needs low > 0")
        elif self.mean is None or self.sd is None or self.sd <= 0:
            raise ValueError("a normal prior needs mean and sd > 0")
        return self


class Parameter(FormatModel):
    """A named number of the scenario: its value, unit, where it comes from (`source`/`sources`, or
    `assumption: true`) and, for calibration, a `prior`. Transitions, sites and rules may name it."""

    value: float
    unit: str = ""
    description: str = ""
    prior: Prior | None = None
    source: Source | None = None
    sources: list[Source] = Field(default_factory=list)
    assumption: bool = False

    @field_validator("value")
    @classmethod
    def _sane(cls, v: float) -> float:
        if not abs(v) <= MAX_PARAMETER:
            raise ValueError(f"a value between -{MAX_PARAMETER:g} and {MAX_PARAMETER:g}")
        return v

    @model_validator(mode="after")
    def _traced(self) -> "Parameter":
        if self.source is None and not self.sources and not self.assumption:
            raise ValueError("every parameter needs a source (file and fact) or `assumption: true`")
        return self

    def all_sources(self) -> list[Source]:
        """`source` and `sources` together."""
        return ([self.source] if self.source else []) + list(self.sources)


class SchedulePoint(FormatModel):
    """From `date` on, the parameter takes `value`."""

    date: dt.date
    value: Number = Field(description="a number, or the name of a parameter whose value (not its own schedule) "
                                      "the point takes, so that calibration can move it")


class Schedule(FormatModel):
    """A parameter's value over time: points by date, held (`step`) or interpolated (`linear`) between them."""

    parameter: str
    interpolation: Literal["step", "linear"] = "step"
    points: list[SchedulePoint] = Field(min_length=1)
    source: Source | None = None
    assumption: bool = False


class Variant(FormatModel):
    """A named what-if: parameter overrides, applied on top of the scenario."""

    name: str
    description: str = ""
    set: dict[str, float] = Field(default_factory=dict)
