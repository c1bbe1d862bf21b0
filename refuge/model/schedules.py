"""Compile a scenario's schedules: each parameter slot's value on every day of the period, before rules.

Dated points first (in the order the schedules are written), then seasonal profiles (`monthly:`), which
multiply whatever the points left. The declared variants' dated values and moved points are checked here too
(`refuge.scenario.whatif`), so that a bad what-if fails when the scenario is compiled, not when compared.
"""

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
    from refuge.scenario.whatif import variant_problems

    for path, expected, found in variant_problems(c.sc) + rest_problems(c.sc):
        c.err(path, expected, found)
    P = len(c.pnames)
    pbase = np.tile(np.array(c.pdefault, np.float64), (c.T, 1))
    named = list(c.sc.parameters)
    for i, sch in enumerate(c.sc.schedules):
        if sch.monthly:
            continue  # a seasonal profile: applied below, on top of every dated schedule
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
    apply_seasons(c, pbase, named)
    assert pbase.shape == (c.T, P)
    return pbase


def apply_seasons(c: Any, pbase: np.ndarray, named: list[str]) -> None:
    """Monthly profiles: each day's value times the factor of its month (every year of the scenario)."""
    start = np.datetime64(c.sc.start, "D")
    month = np.arange(start, start + c.T).astype("datetime64[M]").astype(np.int64) % 12
    for i, sch in enumerate(c.sc.schedules):
        if sch.monthly:
            p = c.name("parameter", sch.parameter, named, f"schedules[{i}].parameter")
            if p >= 0 and not c.problems:
                pbase[:, p] *= np.asarray(sch.monthly, np.float64)[month]


def rest_problems(sc: Any) -> list[tuple[str, str, str]]:
    """A `rest_of` parameter names a share (a value in [0, 1]) with no schedule and no `rest_of` of its own: its
    value is then 1 minus that share's, whatever calibration or a what-if gives the share."""
    scheduled = {s.parameter for s in sc.schedules}
    out = []
    for name, p in sc.parameters.items():
        of = sc.parameters.get(p.rest_of) if p.rest_of is not None else None
        if p.rest_of is not None and (of is None or of.rest_of is not None or p.rest_of in scheduled
                                      or not 0 <= of.value <= 1):
            hint = "" if of else suggest(p.rest_of, sc.parameters)
            out.append((f"parameters.{name}.rest_of", "a parameter with a value between 0 and 1, no schedule and "
                        "no `rest_of` of its own", f"`{p.rest_of}`{hint}"))
    return out
