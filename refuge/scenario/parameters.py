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
    rest_of: str | None = Field(None, description="this parameter is 1 minus the named parameter (the rest of a "
                                "share): when calibration or a what-if moves that one, this one follows; no "
                                "`value` or `prior` of its own")

    @model_validator(mode="before")
    @classmethod
    def _rest_value(cls, data: object) -> object:
        """A `rest_of` parameter's value is computed (`Scenario` sets it): none need be written."""
        if isinstance(data, dict) and data.get("rest_of") is not None and "value" not in data:
            data = {**data, "value": 0.0}
        return data

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
        if self.rest_of is not None and self.prior is not None:
            raise ValueError(f"`rest_of: {self.rest_of}` follows that parameter: give the prior to it, not here")
        return self

    def all_sources(self) -> list[Source]:
        """`source` and `sources` together."""
        return ([self.source] if self.source else []) + list(self.sources)


class SchedulePoint(FormatModel):
    """From `date` on, the parameter takes `value`. A `name` lets a variant move the point to another date."""

    date: dt.date
    value: Number = Field(description="a number, or the name of a parameter whose value (not its own schedule) "
                                      "the point takes, so that calibration can move it")
    name: str | None = Field(None, description="a name for the point's date: a variant may move it "
                                               "(`set: {NAME: 2016-06-01}`)")


class Schedule(FormatModel):
    """A parameter's value over time: points by date, held (`step`) or interpolated (`linear`) between them."""

    parameter: str
    interpolation: Literal["step", "linear"] = "step"
    points: list[SchedulePoint] | None = Field(None, min_length=1)
    monthly: list[float] | None = Field(None, min_length=12, max_length=12,
                                        description="a seasonal profile instead of points: twelve factors "
                                                    "(January to December) that multiply the parameter's value "
                                                    "each day of that month, every year")
    source: Source | None = None
    assumption: bool = False

    def describe(self) -> list[str]:
        """The schedule as a reader reads it: `90 from 2003-01-01`, ... or `× 0.4 0.4 ... (Jan-Dec)`."""
        def g(x: object) -> str:
            return f"{x:g}" if isinstance(x, (int, float)) else str(x)

        if self.points is None:
            return ["× " + " ".join(g(x) for x in self.monthly or []) + " (January to December)"]
        return [f"{g(pt.value)} from {pt.date}" for pt in self.points]

    @model_validator(mode="after")
    def _points_or_profile(self) -> "Schedule":
        self._one_of("a schedule", ("points", "monthly"))
        if self.monthly is not None and not all(0 <= x <= MAX_PARAMETER for x in self.monthly):
            raise ValueError(f"monthly factors between 0 and {MAX_PARAMETER:g}")
        return self


class Variant(FormatModel):
    """A named what-if: parameter overrides, applied on top of the scenario."""

    name: str
    description: str = ""
    set: dict[str, float | dt.date | str] = Field(
        default_factory=dict, description="parameter: number; parameter: another parameter's name; "
        "parameter: {from: DATE, value: number} (from that date on); point name: DATE (moves a named schedule point)")

    @model_validator(mode="before")
    @classmethod
    def _dated(cls, data: object) -> object:
        """`parameter: {from: DATE, value: X}` is kept as `parameter@DATE: X` (the command line's form)."""
        if isinstance(data, dict) and isinstance(data.get("set"), dict):
            out = {}
            for k, v in data["set"].items():
                if isinstance(v, dict) and set(v) == {"from", "value"}:
                    out[f"{k}@{v['from']}"] = v["value"]
                else:
                    out[k] = v
            data = {**data, "set": out}
        return data


class Drift(FormatModel):
    """A driver that drifts at random over time (`refuge.sim.mechanisms.drift`): each run multiplies the
    parameter's value by exp(W), W a random walk in log space that changes by a normal step of standard deviation
    `size` (a parameter: give it a prior to calibrate it) at the start of each `step`, from `from` on; with
    `noise`, each step's value also strays from that level by a change that does not last (independent each step,
    the first one included)."""

    parameter: str = Field(description="the parameter that drifts (a rate, a chance, a capacity)")
    size: str = Field(description="the parameter whose value is the standard deviation of the change of "
                                  "log(value) per step")
    step: Literal["day", "week", "month", "quarter", "year"] | int = Field(
        "month", description="how often it changes: a calendar unit, or a whole number of days")
    from_: dt.date | None = Field(None, alias="from", description="first day it drifts (default: the start)")
    noise: str | None = Field(None, description="the parameter whose value is the standard deviation of a change "
                                                "of log(value) that lasts one step only, drawn anew each step from "
                                                "the first (default: none)")
    max: float | None = Field(None, description="the highest value it may reach (it never leaves the range its "
                                                "uses allow either: at most 1 for a chance)")

    @field_validator("step")
    @classmethod
    def _whole_days(cls, v: object) -> object:
        if isinstance(v, int) and not 1 <= v <= 3660:
            raise ValueError("a number of days from 1 to 3660, or day, week, month, quarter or year")
        return v

    @field_validator("max")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and not 0 < v <= MAX_PARAMETER:
            raise ValueError(f"a positive number up to {MAX_PARAMETER:g}")
        return v
