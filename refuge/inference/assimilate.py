"""Forecasts that start from what was observed up to the cut, not only from parameters fitted to it.

A run of a backtest starts at the beginning of the scenario: by the cut, its stocks have drifted away from the
counts observed then by chance and by the model's error, and a forecast read off the run carries that gap into
every later day (on mali2012's last third, it loses to carrying each camp's count forward). Here each run's
forecast is *anchored* at the last data point of each series dated on or before the cut (its anchor):

- a **stock** (people in places): the observed count at the anchor plus the run's own change since the anchor,
  never below zero: f_r(t) = max(0, y(a) + x_r(t) - x_r(a)) — the run's dynamics on top of persistence;
- a **flow** (a count over a period: arrivals a year): the run's count scaled by how the observed count of the
  anchor's period compares with the run's: f_r(t) = x_r(t) (y(a) + 1) / (x_r(a) + 1) — the run's growth
  applied to the latest observed level.

The spread between runs (parameters drawn from the fit, their own random streams and drifting drivers) is kept:
the band widens from the anchor as the runs' changes part. At a horizon of one step, a run with no change is
the naive forecast; what the model adds is the change. Points up to the anchor are left as they are, so the
fit on the training side is scored as before.

The camps of a route network (a Flee case) may instead share the runs' new arrivals as the record before the
cut shared them (`refuge.inference.shares`): the runs say how many more come, the last weeks' registrations
where they go.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np

from refuge.inference.shares import anchor_point
from refuge.inference.shares import apply as share_runs

__all__ = ["anchor_point", "anchored", "assimilate"]


def anchored(s: dict, values: np.ndarray, a: int, ahead: np.ndarray | None = None) -> tuple[np.ndarray,
                                                                                           np.ndarray | None]:
    """A series' runs (runs, grid) anchored at grid position `a` from it on, and its values beyond the data
    (runs, periods) alike."""
    y = float(s["data"][a])
    x_a = values[:, a][:, None]
    out = values.copy()
    later = s["grid"] > s["grid"][a]
    if s["kind"] == "flow":
        factor = (y + 1.0) / (np.nan_to_num(x_a, nan=0.0) + 1.0)
        out[:, later] = values[:, later] * factor
        beyond = None if ahead is None else ahead * factor
    else:
        out[:, later] = np.maximum(y + values[:, later] - x_a, 0.0)
        beyond = None if ahead is None else np.maximum(y + ahead - x_a, 0.0)
    return out, beyond


def assimilate(model: Any, fw: Any, until: dt.date, concentration: float | None = None, seed: int = 0,
               signed: bool = False) -> Any:
    """The forward runs `fw` (`refuge.inference.backtest_core.Forward`) with every series anchored at its last
    data point on or before `until` (a series without one is left as it is); with `concentration`, the camps of
    a route network share the runs' new arrivals as the record before the cut did (`refuge.inference.shares`),
    on the data's grid and beyond the data (`--horizon`); `signed`: camps that emptied lately go on losing
    (`refuge.inference.shares.split`)."""
    u = (until - model.start).days
    groups = share_runs(model, fw, u, concentration, seed, signed).series
    series, ahead, raw, col = [], [], [], 0
    for s, v, (ends, _) in zip(model.series, fw.series, fw.periods):
        n = len(ends)
        beyond = fw.ahead[:, col:col + n]
        col += n
        raw.append(beyond)
        a = anchor_point(s, u)
        if a is None:
            series.append(v)
            ahead.append(beyond)
            continue
        new, new_beyond = anchored(s, v, a, beyond)
        series.append(groups[len(series)] if groups[len(series)] is not v else new)
        ahead.append(new_beyond)
    if concentration is not None:  # the camps' forecasts past the data (--horizon) shared as on the grid
        from refuge.inference.shares import shared_ahead

        past = shared_ahead(model, fw.series, raw, fw.periods, u, concentration, seed, signed)
        ahead = [past.get(k, b) for k, b in enumerate(ahead)]
    stacked = np.concatenate(ahead, axis=1) if ahead else fw.ahead
    return dataclasses.replace(fw, series=series, ahead=stacked)
