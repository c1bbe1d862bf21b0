"""Forecasts past the scenario's end (`--horizon DATE`): the model made longer, its runs read back on the
scenario's own grids.

A schedule keeps its last value after its last point and a drift keeps walking (`refuge.sim.mechanisms.drift`);
arrivals, rules and the route network run on as declared. The scores stay those of the scenario's period (the
data end there); the forecast beyond the data (`forecast.csv`) keeps every period up to the horizon.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from refuge.errors import RefugeError

if TYPE_CHECKING:
    from refuge.inference.backtest_core import Backtest, Forward


def beyond(model: Any, horizon: dt.date | None) -> Any:
    """The model run forward to `horizon` past the scenario's end (schedules and drifts carried on as declared:
    a schedule keeps its last value, a drift keeps walking), or the model itself without a horizon."""
    if horizon is None:
        return model
    from refuge.model.compiler import compile_scenario

    if horizon <= model.scenario.end:
        raise RefugeError(f"--horizon: expected a date after the scenario's end {model.scenario.end}; found "
                          f"{horizon}")
    if (horizon - model.start).days > 366 * 100:
        raise RefugeError(f"--horizon: expected a date within 100 years of the start {model.start}; found {horizon}")
    longer = compile_scenario(model.scenario.model_copy(update={"end": horizon}), model.origin)
    # a series file may hold counts past the scenario's end (mali2012's Fassala-Mbera runs to 2016): they are no
    # data of this forecast, and the forecast past the data starts after the scenario's own last counts
    series = [dict(s, obs=np.asarray(s["obs"])[s["grid"][np.asarray(s["obs"], int)] < model.days])
              for s in longer.series]
    return dataclasses.replace(longer, series=series)


def trimmed(model: Any, fw: "Forward") -> "Forward":
    """Forward runs of a longer model (`beyond`) read on `model`'s grids: the scores stay those of the
    scenario's period; the forecast beyond the data keeps every period up to the horizon."""
    return dataclasses.replace(fw, series=[v[:, :s["grid"].size] for v, s in zip(fw.series, model.series)])


def no_forecast_reason(bt: "Backtest") -> str:
    """Why the forecast beyond the data (forecast.csv) is empty."""
    if not len(bt.points):
        return "the scenario has no time-series evidence to forecast"
    return (f"the data run to the scenario's end ({bt.scenario.end}), so no whole period is left after them "
            "inside the scenario's period; --horizon DATE forecasts past the end")


def period_months(end: dt.date, length: int, flow: bool) -> int:
    """Months from one forecast period's end to the next (0: `length` days instead). A year or more: whole
    calendar years; data dated at month ends (quarterly statistics, say): whole months; a stock otherwise: a year
    (a count on irregular dates); a flow otherwise: its own length in days."""
    if length >= 335:
        return 12 * max(round(length / 365.25), 1)
    if (end + dt.timedelta(days=1)).day == 1 and length >= 28:
        return max(round(length / 30.44), 1)
    return 0 if flow else 12


def later(d: dt.date, months: int) -> dt.date:
    """`d` moved on by whole months: a month end stays a month end; another day keeps its day (the 29th of February
    becomes the 28th, or the month's last day)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, last if (d + dt.timedelta(days=1)).day == 1 else min(d.day, last))


def empty_reason(model: Any, until: dt.date) -> str:
    """Why a backtest has no held-out point to score."""
    if not model.series:
        return "nothing to judge the forecast by: the scenario has no time-series evidence"
    last = max((model.start + dt.timedelta(days=int(s["grid"][s["obs"][-1]])) for s in model.series
                if len(s["obs"])), default=None)
    return (f"nothing to judge the forecast by: no series has a data point after {until} (the last is dated "
            f"{last}); train on an earlier cut to score a forecast")
