"""Evidence in the scenario format: the facts a scenario must reproduce, what each measures, and dated
series (read from CSV files by `refuge.scenario.series`)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from refuge.scenario.base import FormatModel
from refuge.scenario.limits import MAX_LEVEL
from refuge.scenario.sources import Source
from refuge.scenario.structure import Period

MEASURE_KINDS = ("stock", "flow", "into", "arrivals", "longest_stay", "mean_stay", "share", "closed", "active")


class Measure(FormatModel):
    """What an evidence entry measures in a run."""

    stock: list[str] | None = Field(None, description="people in these states or sites on the date")
    flow: list[str] | None = Field(None, description="people moved along these transitions over the period")
    into: list[str] | None = Field(None, description="people entering these states or sites over the period "
                                   "(moves from outside the set, and arrivals)")
    arrivals: list[str] | None = Field(None, description="people arriving through these arrival streams")
    longest_stay: list[str] | None = Field(None, description="longest ongoing stay (days) in these states on the date")
    mean_stay: list[str] | None = Field(None, description="mean completed stay (days) of people leaving these states")
    share: list[str] | None = Field(None, description="numerator flows, as a share of `of`")
    of: list[str] | None = None
    closed: list[str] | None = Field(None, description="sites or states closed to entry: 1 or 0 on the date, "
                                     "or the share of days closed over the period")
    active: list[str] | None = Field(None, description="rules in force: 1 or 0 on the date, "
                                     "or the share of days any of them is on over the period")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Measure":
        self._one_of("a measure", MEASURE_KINDS)
        if (self.share is None) != (self.of is None):
            raise ValueError("`share` and `of` go together")
        return self

    @property
    def kind(self) -> str:
        """Which measure this is (`stock`, `flow`, ...): the one field that is set."""
        return self._one_of("a measure", MEASURE_KINDS)


class SeriesPoint(FormatModel):
    """One observation of a dated series: the value on (or for the period ending on) `date`."""

    date: dt.date
    value: float = Field(ge=0)


class Series(FormatModel):
    """A dated series cited as evidence: a CSV file (date,value) beside the scenario file, or inline points.

    For a stock the value is the count on each date; for a flow (or `into`, `arrivals`) the count over the
    period that ends on each date and starts the day after the previous date (the first from `from`, or the
    scenario's start).
    """

    file: str | None = Field(None, description="CSV with columns date,value (one header line allowed), "
                                               "relative to the scenario file")
    points: list[SeriesPoint] | None = Field(None, description="inline points (filled from `file` on reading)")
    first_from: dt.date | None = Field(None, alias="from", description="start of the first point's period "
                                                                        "(flows)")

    @model_validator(mode="after")
    def _given(self) -> "Series":
        if self.file is None and not self.points:
            raise ValueError("a series needs a `file` (CSV: date,value) or `points` ([{date, value}, ...])")
        return self


SERIES_MEASURES = ("stock", "flow", "into", "arrivals")


class OtherError(FormatModel):
    """Another tool's own error on a series evidence's group (or on the series alone, without a group): Flee's
    daily ARD of its runs of the same case, say. `check` and `backtest` name it in their verdicts beside
    refuge's, on the same measure: the mean over days of sum |forecast - data| / max(1, sum data) over the
    group's series (data interpolated between dated counts)."""

    by: str = Field(min_length=1, max_length=200, description="whose error: the tool, its settings, how many runs")
    ard: float | None = Field(None, ge=0, le=MAX_LEVEL, description="its daily ARD over the whole period (mean "
                              "over its runs)")
    daily: Series | None = Field(None, description="its daily error on each day (date,value; the mean over its "
                                 "runs): a backtest takes the mean over the days after its cut")
    source: Source | None = Field(None, description="where the figures come from (its output files)")

    @model_validator(mode="after")
    def _some(self) -> "OtherError":
        if self.ard is None and self.daily is None:
            raise ValueError("another tool's error needs `ard` (over the whole period) or `daily` (a dated series)")
        return self


class Evidence(FormatModel):
    """A fact the scenario must reproduce: what is measured (`measure`), on a `date` or over a `period`, the
    `bound` the source states, and the source itself. `required` facts fail `refuge check` when they do not
    hold in the median run."""

    id: str
    source: Source | None = Field(None, description="the document and its fact (or `assumption: true`)")
    assumption: bool = Field(False, description="the author's own expectation, not a document's fact: needs no "
                                                "`source`; say what it is in `note`")
    date: dt.date | None = None
    period: Period | None = None
    measure: Measure
    series: Series | None = Field(None, description="a dated series (scored with ARD and interval coverage) "
                                                    "instead of one bounded value")
    group: str | None = Field(None, description="series of one group are also scored together (overall ARD)")
    other_error: OtherError | None = Field(None, description="another tool's own error on this series' group (or "
                                           "on the series alone), named in the verdicts of check and backtest")
    bound: Literal["exact", "about", "at_least", "more_than", "at_most", "less_than", "range"] | None = None
    value: float | None = None
    tolerance: float | None = Field(None, description="for `about`: relative half-width (0.2 = ±20%)")
    low: float | None = None
    high: float | None = None
    required: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "Evidence":
        if self.source is None:
            if not self.assumption:
                raise ValueError("evidence needs a `source` (a document and its fact) or `assumption: true`")
            # tables and reports show `assumption` where they show a source, and the note as the fact
            self.source = Source.model_construct(ref=None, file="assumption", fact=self.note or self.id)
        if any(x is not None and not abs(x) <= MAX_LEVEL for x in (self.value, self.low, self.high, self.tolerance)):
            raise ValueError(f"value, low, high and tolerance between -{MAX_LEVEL:g} and {MAX_LEVEL:g}")
        if self.tolerance is not None and self.tolerance < 0:
            raise ValueError("a tolerance >= 0 (relative: 0.2 = ±20%)")
        kind = self.measure.kind
        if self.series is not None:
            if kind not in SERIES_MEASURES:
                raise ValueError(f"a series measures one of {', '.join(SERIES_MEASURES)}; found {kind}")
            if self.date is not None or self.bound is not None:
                raise ValueError("a series has no `date` or `bound` (its points are dated; it is scored by ARD); "
                                 "`period` may restrict the days scored")
            return self
        if self.group is not None or self.other_error is not None:
            raise ValueError("`group` and `other_error` are for series evidence")
        if self.bound is None:
            raise ValueError("evidence needs a `bound` (exact, about, at_least, more_than, at_most, less_than, "
                             "range) or a `series`")
        if kind in ("closed", "active"):
            if (self.date is None) == (self.period is None):
                raise ValueError(f"a {kind} measure needs either a `date` or a `period` (from, to)")
        elif kind in ("stock", "longest_stay"):
            if self.date is None:
                raise ValueError(f"a {kind} measure needs a `date`")
        elif self.period is None:
            raise ValueError(f"a {kind} measure needs a `period` (from, to)")
        if self.bound == "range":
            if self.low is None or self.high is None or self.low > self.high:
                raise ValueError("a range bound needs low <= high")
        elif self.value is None:
            raise ValueError(f"a `{self.bound}` bound needs a `value`")
        if self.bound == "about" and self.tolerance is None:
            raise ValueError("an `about` bound needs a `tolerance` (relative, e.g. 0.25)")
        return self
