"""Time-series evidence: dated series (camp counts, annual arrivals) measured in runs and scored.

A compiled series (`model.series[k]`, built by the compiler) scores a *grid* of days:

- a **stock** (people in states or a site) is scored on every day of the run within the evidence's period,
  against the data linearly interpolated between its dated counts and held flat before the first and after
  the last (as Flee does with camp registrations);
- a **flow** (`flow`, `into` or `arrivals`) is scored once per data point, on the count over the period that
  ends on the point's date.

Metrics, over the locations (series) that have data on a day t (Flee's averaged relative difference):

    E(t) = sum_c |sim_c(t) - data_c(t)| / max(1, sum_c data_c(t)),      ARD = mean of E(t) over the days

The *rescaled* ARD first multiplies every sim_c(t) by sum_c data_c(t) / sum_c sim_c(t) (left as is on a day
when the simulation has nobody), so it scores how people are spread over the locations, not how many there
are. The ARD of one location is the same formula over that location alone (its rescaled variant uses the
factor of its group). The tables (`series_table`) leave the rescaled ARD blank (NaN) for a series that is not
in a group of two or more, and for a group of one: scaled to its own data, one series scores only the days
on which the simulation has nobody. **Coverage** is the share of the dated data points that fall inside the ensemble's
central interval (90% by default) on their date.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from refuge.results.run import Run


def simulate_series(run: Run, s: dict) -> np.ndarray:
    """The simulated value of one compiled series on each day of its grid (NaN past the end of the run)."""
    grid = s["grid"]
    out = np.full(grid.size, math.nan)
    ok = grid < run.days
    if s["kind"] == "stock":
        out[ok] = run.stocks[grid[ok]][:, s["states"]].sum(axis=1)
        return out
    daily = run.flows[:, s["edges"]].sum(axis=1) + run.arrived[:, s["arrivals"]].sum(axis=1)
    if run.entered is not None and s.get("entered"):
        daily = daily + run.entered[:, s["entered"]].sum(axis=1)
    cum = np.concatenate([[0.0], np.cumsum(daily)])
    out[ok] = cum[grid[ok] + 1] - cum[s["starts"][ok]]
    return out


def simulate_all(run: Run) -> list[np.ndarray]:
    """The simulated values of every time-series evidence entry of the run's model, one array per series."""
    return [simulate_series(run, s) for s in run.model.series]


def daily_errors(sim: np.ndarray, data: np.ndarray, rescaled: bool = False) -> np.ndarray:
    """E(t) for (days, locations) arrays; NaN marks a location without data (or sim) that day.

    A day on which no location has data gives NaN.
    """
    sim = np.atleast_2d(np.asarray(sim, float))
    data = np.atleast_2d(np.asarray(data, float))
    have = ~np.isnan(sim) & ~np.isnan(data)
    s = np.where(have, sim, 0.0)
    d = np.where(have, data, 0.0)
    if rescaled:
        s = s * _factor(s, d)[:, None]
    err = np.abs(s - d).sum(axis=1) / np.maximum(1.0, d.sum(axis=1))
    return np.where(have.any(axis=1), err, math.nan)


def _factor(s: np.ndarray, d: np.ndarray) -> np.ndarray:
    tot_s, tot_d = s.sum(axis=1), d.sum(axis=1)
    return np.where(tot_s > 0, tot_d / np.where(tot_s > 0, tot_s, 1.0), 1.0)


def ard(sim: np.ndarray, data: np.ndarray, rescaled: bool = False) -> float:
    """Averaged relative difference: the mean of E(t) over the days with data (NaN when there are none)."""
    e = daily_errors(sim, data, rescaled)
    e = e[~np.isnan(e)]
    return float(e.mean()) if e.size else math.nan


def location_ards(sim: np.ndarray, data: np.ndarray, rescaled: bool = False) -> np.ndarray:
    """ARD of each location (column) alone; the rescaled variant uses the factor of all locations together."""
    sim = np.atleast_2d(np.asarray(sim, float))
    data = np.atleast_2d(np.asarray(data, float))
    if rescaled:
        have = ~np.isnan(sim) & ~np.isnan(data)
        f = _factor(np.where(have, sim, 0.0), np.where(have, data, 0.0))
        sim = sim * f[:, None]
    return np.array([ard(sim[:, [c]], data[:, [c]]) for c in range(sim.shape[1])])


def interpolate(point_days: Sequence[int], values: Sequence[float], days: np.ndarray) -> np.ndarray:
    """Counts on `days`, linear between dated points and held flat outside them."""
    return np.interp(np.asarray(days, float), np.asarray(point_days, float), np.asarray(values, float))


def coverage(sims: np.ndarray, data: np.ndarray, level: float = 0.90) -> float:
    """Share of data points inside the central `level` interval of the runs. sims: (runs, points)."""
    sims = np.atleast_2d(sims)
    ok = ~np.isnan(data) & ~np.isnan(sims).all(axis=0)
    if not ok.any():
        return math.nan
    lo, hi = np.nanquantile(sims[:, ok], [(1 - level) / 2, 1 - (1 - level) / 2], axis=0)
    d = data[ok]
    return float(np.mean((d >= lo - 1e-9) & (d <= hi + 1e-9)))


# --- groups of series in an ensemble -----------------------------------------------------------------------


def group_members(series: list[dict]) -> dict[str, list[int]]:
    """Series indices per group name, in first-seen order (ungrouped series are left out)."""
    out: dict[str, list[int]] = {}
    for k, s in enumerate(series):
        if s.get("group"):
            out.setdefault(s["group"], []).append(k)
    return out


def aligned(series: list[dict], members: list[int], values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(sim, data) as (days, members) on the union of the members' grids, NaN where a member has no point."""
    days = np.unique(np.concatenate([series[k]["grid"] for k in members]))
    sim = np.full((days.size, len(members)), math.nan)
    data = np.full_like(sim, math.nan)
    for j, k in enumerate(members):
        pos = np.searchsorted(days, series[k]["grid"])
        sim[pos, j] = values[k]
        data[pos, j] = series[k]["data"]
    return sim, data


def run_scores(series: list[dict], values: list[np.ndarray]) -> dict[str, tuple[float, float]]:
    """{series id or `group NAME`: (ARD, rescaled ARD)} for one run's simulated series."""
    out: dict[str, tuple[float, float]] = {}
    groups = group_members(series)
    rescale_in: dict[int, list[int]] = {}
    for members in groups.values():
        for k in members:
            rescale_in[k] = members
    for k, s in enumerate(series):
        members = rescale_in.get(k, [k])
        sim, data = aligned(series, members, values)
        j = members.index(k)
        out[s["id"]] = (float(location_ards(sim, data)[j]), float(location_ards(sim, data, rescaled=True)[j]))
    for name, members in groups.items():
        sim, data = aligned(series, members, values)
        out[f"group {name}"] = (ard(sim, data), ard(sim, data, rescaled=True))
    return out


def series_table(series: list[dict], values: list[np.ndarray], level: float = 0.90) -> Any:
    """One row per series and per group: ARD and rescaled ARD (median and interval over runs), coverage.

    `values[k]` is (runs, grid) for series k.
    """
    import pandas as pd

    runs = values[0].shape[0] if values else 0
    per_run = [run_scores(series, [v[r] for v in values]) for r in range(runs)]
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    keys = [s["id"] for s in series] + [f"group {g}" for g in group_members(series)]
    for key in keys:
        a = np.array([p[key][0] for p in per_run])
        b = np.array([p[key][1] for p in per_run])
        if key.startswith("group "):
            members = group_members(series)[key[6:]]
            cov_in = [coverage(values[k][:, series[k]["obs"]], series[k]["data"][series[k]["obs"]], level)
                      for k in members]
            n_obs = sum(len(series[k]["obs"]) for k in members)
            cov = (float(np.nansum([c * len(series[k]["obs"]) for c, k in zip(cov_in, members)]) / n_obs)
                   if n_obs else math.nan)
            meta = {"id": key, "group": key[6:], "measure": "group", "source": "", "points": n_obs}
        else:
            k = [s["id"] for s in series].index(key)
            s = series[k]
            cov = coverage(values[k][:, s["obs"]], s["data"][s["obs"]], level)
            meta = {"id": key, "group": s.get("group") or "", "measure": s["kind"], "source": s["source"],
                    "points": len(s["obs"])}
        rescaled = _band(b, "ard_rescaled", lo_q, hi_q)
        if _rescale_size(series, key) < 2:  # scaled to its own data, one series only scores days with nobody
            rescaled = {k: math.nan for k in rescaled}
        rows.append({**meta, **_band(a, "ard", lo_q, hi_q), **rescaled, "coverage": cov})
    return pd.DataFrame(rows)


def _rescale_size(series: list[dict], key: str) -> int:
    """How many series a row's rescaled ARD scales together (its group, or the series alone)."""
    groups = group_members(series)
    if key.startswith("group "):
        return len(groups[key[6:]])
    g = next((s.get("group") for s in series if s["id"] == key), None)
    return len(groups[g]) if g else 1


def _band(x: np.ndarray, name: str, lo_q: float, hi_q: float) -> dict[str, float]:
    x = x[~np.isnan(x)]
    if not x.size:
        return {name: math.nan, f"{name}_low": math.nan, f"{name}_high": math.nan}
    return {name: float(np.median(x)), f"{name}_low": float(np.quantile(x, lo_q)),
            f"{name}_high": float(np.quantile(x, hi_q))}
