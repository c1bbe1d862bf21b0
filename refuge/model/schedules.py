"""Compile a scenario's schedules: each parameter slot's value on every day of the period, before rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from refuge.errors import suggest


def point_value(c: Any, value: Any, named: list[str], path: str) -> float:
    """A schedule point: a number, or a parameter's value (so calibration can move it)."""
    if not isinstance(value, str):
        return float(value)
    if value not in named:
        c.err(path, "a number or a parameter name", f"`{value}`{suggest(value, named)}")
        return math.nan
    return float(c.pdefault[named.index(value)])


def compile_schedules(c: Any) -> np.ndarray:
    """(days, slots) the value of every parameter slot on every day, schedules applied (rules act in the run)."""
    P = len(c.pnames)
    pbase = np.tile(np.array(c.pdefault, np.float64), (c.T, 1))
    named = list(c.sc.parameters)
    for i, sch in enumerate(c.sc.schedules):
        path = f"schedules[{i}]"
        p = c.name("parameter", sch.parameter, named, f"{path}.parameter")
        days = [c.dayof(pt.date, f"{path}.points[{k}].date") for k, pt in enumerate(sch.points)]
        if days != sorted(days):
            c.err(f"{path}.points", "dates in increasing order", [str(pt.date) for pt in sch.points])
        vals = np.array([point_value(c, pt.value, named, f"{path}.points[{k}].value")
                         for k, pt in enumerate(sch.points)])
        if p < 0 or c.problems:
            continue
        grid = np.arange(c.T)
        if sch.interpolation == "step":
            idx = np.searchsorted(days, grid, side="right") - 1
            col = np.where(idx >= 0, vals[np.clip(idx, 0, None)], pbase[:, p])
        else:
            col = np.interp(grid, days, vals)
            col = np.where(grid < days[0], pbase[:, p], col)
        pbase[:, p] = col
    assert pbase.shape == (c.T, P)
    return pbase
