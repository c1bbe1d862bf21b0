"""Drivers that drift: each run's own path of a parameter that changes at random over time.

A scenario may declare that a driver (an arrival or flight rate, a move chance, a capacity) drifts:

    drift:
      - parameter: arrival_rate   # the driver
        size: arrival_drift       # a parameter: the standard deviation of the change of log(value) per step
        step: year                # day, week, month, quarter, year (calendar), or a whole number of days
        from: 2005-01-01          # optional: the first day it drifts (default: the scenario's start)
        max: 1                    # optional: the highest value it may reach
        noise: claims_noise       # optional: a parameter, the standard deviation of a one-step stray

Each run multiplies the driver's value on every day (its schedule as declared, before rules) by exp(W_k), W a
random walk in log space: W_0 = 0 in the first step from `from`, W_k = W_{k-1} + N(0, size^2) at the start of
each later step. So the driver's median stays at its declared value and its spread grows with the square root
of the time since `from`: a forecast's band widens with the horizon as the record's own changes say it
should, once `size` is calibrated (give it a prior: the backtests fit it by the score of its forecasts,
`refuge.inference.drift_fit`).

With `noise`, W_k gains a term E_k ~ N(0, noise^2) of its own in each step, the first included, that does not
carry over to the next: a quarter's claims stray from their level and come back (a series whose one-step
changes are larger than its longer changes allow for has such strays). The last value before `from` is then
one such stray reading of the level, so the walk starts from the level as the record up to `from` tells it
(`filtered_level`: a local-level Kalman filter in log space over each step's mean value, with the drift's own
size and noise), not from the last value. Assumptions: changes of successive steps are independent and of one
size throughout; two drifts are independent; rules act on the drifted value. A drifted value never exceeds
`max` nor the highest value its uses allow (`Model.pceil`: 1 for a chance), and never falls below 0.

The path is drawn before the run from the run's own stream for that driver, keyed by the run seed and the
parameter's name like every decision (`refuge.sim.streams.keyed_normals`, the decision `drift:NAME`): declaring
a drift changes no other draw of the run, and both engines (the fast one, `refuge.sim.run`, and the reference,
`refuge.sim.reference`) read the same drifted table for a seed. The engine's steps are those of the parameters
mechanism: they read the run's table (`pbase`) instead of the declared one. Without a drift nothing changes: the
same arrays, the same digests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from refuge.sim.streams import keyed_normals

STEP_DAYS = {"day": 1, "week": 7}
CALENDAR_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def step_index(start: dt.date, days: int, first: int, step: str | int) -> np.ndarray:
    """For each day from `first` to `days - 1`: the number of whole steps begun since day `first` (a calendar
    step begins on the first of a month, quarter or year; a step of n days every n days from `first`)."""
    n = days - first
    if n <= 0:
        return np.zeros(0, np.int64)
    if isinstance(step, str) and step in CALENDAR_MONTHS:
        d0 = np.datetime64((start + dt.timedelta(days=first)).isoformat(), "D")
        months = (d0 + np.arange(n)).astype("datetime64[M]").astype(np.int64)  # months since January 1970
        per = CALENDAR_MONTHS[step]
        return months // per - months[0] // per
    width = STEP_DAYS[step] if isinstance(step, str) else int(step)
    return np.arange(n, dtype=np.int64) // width


def walk(seed: int, name: str, size: float, steps: int) -> np.ndarray:
    """W_0..W_{steps-1}: the run's random walk in log space for the driver `name`."""
    w = np.zeros(max(steps, 1))
    if steps > 1 and size > 0:
        w[1:] = np.cumsum(size * keyed_normals(seed, f"drift:{name}", steps - 1))
    return w


def strays(seed: int, name: str, size: float, steps: int) -> np.ndarray:
    """E_0..E_{steps-1}: the run's one-step strays for the driver `name` (its own stream, `drift-noise:NAME`)."""
    if steps < 1 or size <= 0:
        return np.zeros(max(steps, 1))
    return size * keyed_normals(seed, f"drift-noise:{name}", steps)


def filtered_level(values: np.ndarray, start: dt.date, first: int, step: str | int, size: float,
                   noise: float) -> float:
    """The driver's level on day `first - 1` as its record up to then tells it, over the value that day: a
    local-level filter (Kalman's, in log space: a level walking by `size` a step, each step's mean value straying
    from it by `noise`) over the mean value of each step before `first`. 1 when there is nothing to filter."""
    if first < 2 or noise <= 0 or not values[first - 1] > 0:
        return 1.0
    idx = step_index(start, first, 0, step)
    means = np.bincount(idx, weights=values[:first]) / np.maximum(np.bincount(idx), 1)
    x = np.log(means[means > 0])
    if x.size < 2:
        return 1.0
    level, var = x[0], noise * noise
    for v in x[1:]:
        ahead = var + size * size
        gain = ahead / (ahead + noise * noise)
        level, var = level + gain * (v - level), (1 - gain) * ahead
    return float(np.exp(level) / values[first - 1])


def drifted_table(m: Any, seed: int) -> np.ndarray | None:
    """The run's per-day parameter table with its declared drifts applied, or None when nothing drifts."""
    decl = getattr(m.scenario, "drift", None)
    if not decl:
        return None
    names = m.param_names
    table = np.array(m.pbase, dtype=np.float64, copy=True)
    if not table.shape[0]:
        return table
    for d in decl:
        p, s = names.index(d.parameter), names.index(d.size)
        first = 0 if d.from_ is None else max((d.from_ - m.start).days, 0)
        idx = step_index(m.start, table.shape[0], first, d.step)
        if not idx.size:
            continue
        size = float(table[first, s])
        w = walk(seed, d.parameter, size, int(idx[-1]) + 1)
        if getattr(d, "noise", None) is not None:
            noise = float(table[first, names.index(d.noise)])
            w = w + strays(seed, d.parameter, noise, int(idx[-1]) + 1)
            w = w + np.log(filtered_level(table[:, p], m.start, first, d.step, size, noise))
        ceiling = float(m.pceil[p]) if len(m.pceil) else np.inf
        if d.max is not None:
            ceiling = min(ceiling, d.max)
        with np.errstate(over="ignore"):
            table[first:, p] = np.minimum(table[first:, p] * np.exp(w[idx]), ceiling)
    return table


def drifted(spec: Any, m: Any, seed: int) -> Any:
    """The engine's view of the model for this run: its own parameter table when a driver drifts."""
    table = drifted_table(m, seed)
    return spec if table is None else spec._replace(pbase=table)


def describe_drifts(scenario: Any, values: dict | None = None, sizes: bool = True) -> list[str]:
    """Each declared drift in words, for captions: `arrival_rate (a random walk in log space, a step each
    year, size arrival_drift = 0.12)`; `values` (fitted ones) take precedence over the scenario's; without
    `sizes`, the size's name alone."""
    values = values or {}
    out = []
    for d in getattr(scenario, "drift", None) or []:
        step = f"a step each {d.step}" if isinstance(d.step, str) else f"a step every {d.step} days"
        size = f" = {values.get(d.size, scenario.parameters[d.size].value):.3g}" if sizes else ""
        noise = ""
        if getattr(d, "noise", None) is not None:
            v = f" = {values.get(d.noise, scenario.parameters[d.noise].value):.3g}" if sizes else ""
            noise = f", a one-step stray of size {d.noise}{v}"
        out.append(f"{d.parameter} (a random walk in log space, {step}, size {d.size}{size}{noise})")
    return out
