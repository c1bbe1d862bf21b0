"""The held-out side of a backtest: the data points after the cut, the baselines made from the data before it,
and the forecast's scores against both (`refuge.inference.skill` says what each score means).

Two views of the same forecast, each with its own name:

- **points** (`point_scores`): every dated data point after the cut, of every series: the ARD of the median
  of the runs, CRPS, 50% and 90% coverage, skill against the naive, drift and seasonal naive forecasts, by
  horizon (the h-th point after the cut of its series);
- **daily, per group** (`group_scores`): Flee's measure, the mean over the days after the cut of
  E(t) = sum |f - data| / max(1, sum data) over the group's series (data interpolated between dated counts),
  for the daily median of the runs and for each baseline; *rescaled* only for a group of two or more series
  (it scores the spread over places: for one series it is zero by construction).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from refuge.inference.skill import BASELINES, baselines, score


def _lengths(s: dict, idx: np.ndarray) -> np.ndarray | None:
    """Days each value of a series counts over at grid positions `idx` (None for a stock)."""
    if s["kind"] != "flow":
        return None
    return (s["grid"][idx] - s["starts"][idx] + 1).astype(float)


def series_baselines(s: dict, u: int, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Baseline forecasts of a compiled series at grid positions `idx`, from its data points dated up to day u."""
    obs = np.asarray(s["obs"], int)
    train = obs[s["grid"][obs] <= u]
    lt = _lengths(s, train)
    li = _lengths(s, idx)
    return baselines(s["grid"][train], s["data"][train], s["grid"][idx], lt, li)


def heldout(model: Any, until: dt.date) -> list[dict]:
    """Per series: its held-out data points (positions in `series_points` order, grid positions, horizon)."""
    u = (until - model.start).days
    out, first = [], 0
    for s in model.series:
        obs = np.asarray(s["obs"], int)
        test = obs[s["grid"][obs] > u]
        cols = first + np.flatnonzero(s["grid"][obs] > u)
        out.append({"id": s["id"], "cols": cols, "idx": test, "horizon": np.arange(1, test.size + 1),
                    "data": s["data"][test].astype(float), "base": series_baselines(s, u, test)})
        first += obs.size
    return out


def point_scores(model: Any, points: np.ndarray, until: dt.date) -> dict:
    """Scores of the runs' values at the data points (`points`: (runs, data points), `series_points` order)
    after the cut, overall and per series, with the baselines."""
    parts = heldout(model, until)
    if not parts:
        return score(np.zeros(0), np.zeros((0, 0)), np.zeros(0, int), {})
    cols = np.concatenate([p["cols"] for p in parts]).astype(int)
    data = np.concatenate([p["data"] for p in parts])
    hz = np.concatenate([p["horizon"] for p in parts])
    base = {name: np.concatenate([p["base"][name] for p in parts]) for name in BASELINES}
    base = {name: v for name, v in base.items() if not np.isnan(v).all()}
    out = score(data, points[:, cols], hz, base)
    out["series"] = {}
    for p in parts:
        if p["idx"].size:
            b = {name: v for name, v in p["base"].items() if not np.isnan(v).all()}
            one = score(p["data"], points[:, p["cols"]], p["horizon"], b)
            one.pop("by_horizon")
            out["series"][p["id"]] = one
    return out


def group_scores(model: Any, series: list[np.ndarray], until: dt.date) -> dict[str, dict]:
    """Flee's daily ARD after the cut, per group of series: the daily median of the runs and each baseline
    (`series`: per series (runs, grid), as `Forward.series`)."""
    from refuge.evidence.series import daily_errors, group_members

    u = (until - model.start).days
    out: dict[str, dict] = {}
    for name, members in group_members(model.series).items():
        days = np.unique(np.concatenate([model.series[k]["grid"] for k in members]))
        keep = days > u
        if not keep.any():
            continue
        forecasts = {"median": np.full((days.size, len(members)), np.nan)}
        forecasts |= {b: np.full_like(forecasts["median"], np.nan) for b in BASELINES}
        data = np.full_like(forecasts["median"], np.nan)
        for j, k in enumerate(members):
            s = model.series[k]
            pos = np.searchsorted(days, s["grid"])
            data[pos, j] = s["data"]
            with np.errstate(all="ignore"):
                forecasts["median"][pos, j] = np.nanmedian(series[k], axis=0)
            after = np.flatnonzero(s["grid"] > u)
            for b, v in series_baselines(s, u, after).items():
                forecasts[b][pos[after], j] = v
        row: dict[str, Any] = {"days": int(keep.sum()), "series": len(members)}
        for f, sim in forecasts.items():
            if np.isnan(sim[keep]).all():
                continue
            e = daily_errors(sim[keep], data[keep])
            row[f] = {"ard": float(np.nanmean(e))}
            if len(members) > 1:
                row[f]["ard_rescaled"] = float(np.nanmean(daily_errors(sim[keep], data[keep], True)))
        for b in BASELINES:
            if b in row and row[b]["ard"] > 0:
                row[b]["skill"] = row["median"]["ard"] / row[b]["ard"]
        out[name] = row
    return out


def _f(x: Any, fmt: str = ".3f") -> str:
    return "–" if x is None else format(x, fmt)


def print_skill(skill: dict, console: Any) -> None:
    """The held-out scores for a terminal: by horizon against the baselines, Flee's daily ARD per group, and the
    verdict."""
    from rich.table import Table

    pts = skill["points"]
    if pts["points"]:
        names = [b for b in BASELINES if b in pts["baselines"]]
        t = Table(title="forecast after the cut against the baselines, by horizon (h-th data point after the cut): "
                        "ARD of the median; skill = model / baseline, below 1 is better")
        for c in ("horizon", "points", "ARD of the median", "CRPS", "50% held", "90% held",
                  *[f"skill vs {b}" for b in names]):
            t.add_column(c, justify="left" if c == "horizon" else "right")
        for row in [*pts["by_horizon"], {**pts, "horizon": "all"}]:
            t.add_row(row["horizon"], str(row["points"]), _f(row["ard_median"]), _f(row["crps"]),
                      _f(row["coverage50"], ".0%"), _f(row["coverage90"], ".0%"),
                      *[_f(row["baselines"].get(b, {}).get("skill"), ".2f") for b in names])
        console.print(t)
        console.print("baselines' ARD on the same points: " + ", ".join(
            f"{b} {pts['baselines'][b]['ard']:.3f}" for b in names))
    for name, g in skill["groups"].items():
        rescaled = g["series"] > 1
        cells = [f"{f} {g[f]['ard']:.3f}" + (f" / {g[f]['ard_rescaled']:.3f}" if rescaled else "")
                 for f in ("median", *BASELINES) if f in g]
        console.print(f"group `{name}`, Flee's daily ARD over the {g['days']} days after the cut"
                      + (" (normal / rescaled)" if rescaled else "") + ": " + "; ".join(cells))
    console.print(f"[bold]verdict:[/] {skill['verdict']}")
