"""A forecast of camps that share one inflow: the runs say how many more arrive, the record says where.

Anchoring each camp at its last count before the cut (`refuge.inference.assimilate`) keeps the runs' own split
of the new arrivals over the camps. A route network's runs often split them otherwise than the registrations
did in the weeks before the cut (a fitted camp weight is one number for every camp), and a camp whose count
kept rising is then forecast flat. Here, for a group of series that are each the count of one place of a
route network (a Flee case's camps), every run's forecast of camp c from its anchor a_c is

    f_r,c(t) = max(0, y_c(a_c) + s_r,c (X_r(t) - X_r(a_c)))

X_r the run's total over the group's places (how many more the run brings: its spawning, travel, capacities
and drifting drivers), and s_r,c the camp's share of the new arrivals: the share of the group's increase that
each camp took over the `WINDOW` days up to the cut (each camp's counts interpolated between its dated data,
as Flee reads them), drawn for each run from a Dirichlet distribution around it with concentration
`concentration` (plus a half for each camp, so that a camp that took none lately may take some), kept over the
whole forecast. A small concentration is a wide spread of shares between runs; `inf` keeps the observed shares
in every run. The concentration is fitted with the drift sizes by the CRPS of the forecasts from an inner cut
of the training data (`refuge.inference.drift_fit`). Assumptions: the split of new arrivals over the camps goes
on as it was in the last weeks before the cut, up to each run's draw; a camp whose count did not rise then
(none did) leaves the group to the runs' own split.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

WINDOW = 56  # days before the cut whose increases give the camps' shares
CONCENTRATIONS = (2.0, 8.0, 32.0, math.inf)  # the candidates the forecast fit tries


def anchor_point(s: dict, u: int) -> int | None:
    """Grid position of a series' last data point on or before day u (None when it has none)."""
    obs = np.asarray(s["obs"], int)
    train = obs[s["grid"][obs] <= u]
    return int(train[-1]) if train.size else None


def share_groups(model: Any) -> list[list[int]]:
    """Groups of two or more series that are each the count of one place of the route network: their
    positions in `model.series`."""
    if getattr(model, "net", None) is None:
        return []
    places = {int(s) for s in np.asarray(model.net.loc_state)}
    groups: dict[str, list[int]] = {}
    mixed: set[str] = set()
    for k, s in enumerate(model.series):
        g, states = s.get("group"), list(s.get("states") or [])
        if not g:
            continue
        if s["kind"] == "stock" and len(states) == 1 and int(states[0]) in places:
            groups.setdefault(g, []).append(k)
        else:
            mixed.add(g)
    return [ks for g, ks in groups.items() if len(ks) >= 2 and g not in mixed]


def recent_shares(model: Any, members: list[int], u: int, window: int = WINDOW) -> np.ndarray | None:
    """Each member's share of the group's increase over the `window` days up to day u (None: no increase)."""
    inc = []
    for k in members:
        s = model.series[k]
        obs = np.asarray(s["obs"], int)
        obs = obs[s["grid"][obs] <= u]
        if not obs.size:
            inc.append(0.0)
            continue
        t, y = s["grid"][obs].astype(float), s["data"][obs].astype(float)
        a, b = np.interp([max(u - window, 0), u], t, y)
        inc.append(max(float(b - a), 0.0))
    total = sum(inc)
    return np.array(inc) / total if total > 0 else None


def draw_shares(share: np.ndarray, runs: int, concentration: float, seed: int) -> np.ndarray:
    """(runs, members): each run's shares, Dirichlet around `share` (the same in every run for `inf`)."""
    if math.isinf(concentration):
        return np.tile(share, (runs, 1))
    rng = np.random.default_rng([int(seed), 4181])
    return rng.dirichlet(concentration * share + 0.5, size=runs)


def shared(model: Any, series: list[np.ndarray], u: int, concentration: float, seed: int = 0,
           anchors: dict[int, int] | None = None) -> dict[int, np.ndarray]:
    """The forecasts of every series in a share group (see the module docstring), by position; series of a
    group without a recent increase are left out (the caller anchors them one by one)."""
    out: dict[int, np.ndarray] = {}
    for members in share_groups(model):
        share = recent_shares(model, members, u)
        if share is None:
            continue
        total = sum(series[k] for k in members)
        draws = draw_shares(share, total.shape[0], concentration, seed)
        for j, k in enumerate(members):
            s, v = model.series[k], series[k]
            a = anchor_point(s, u) if anchors is None else anchors.get(k)
            if a is None:
                continue
            new = v.copy()
            later = s["grid"] > s["grid"][a]
            new[:, later] = np.maximum(s["data"][a] + draws[:, [j]] * (total[:, later] - total[:, [a]]), 0.0)
            out[k] = new
    return out


def apply(model: Any, fw: Any, u: int, concentration: float | None, seed: int = 0) -> Any:
    """The forward runs with the share groups' series replaced by `shared` (nothing with `concentration`
    None)."""
    if concentration is None:
        return fw
    new = shared(model, fw.series, u, concentration, seed)
    if not new:
        return fw
    return dataclasses.replace(fw, series=[new.get(k, v) for k, v in enumerate(fw.series)])
