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
as Flee reads them), drawn for each run from a Dirichlet distribution around it with
concentration `concentration` (plus a half for each camp, so that a camp that took none lately may take some),
kept over the whole forecast. A small concentration is a wide spread of shares between runs; `inf` keeps the
observed shares in every run. *Signed* shares (`split`) let the camps whose counts fell in those weeks go on
falling, at their recent pace against the group's net rise, the rising camps taking that much more: people
moving from one camp to others go on moving (burundi2015's records show Nyarugusu falling from late 2015 while
Nduta, opened then, rose by more than the group's total). The concentration, and whether the shares are
signed, are fitted with the drift sizes by the CRPS of the forecasts from an inner cut of the training data
(`refuge.inference.drift_fit`), where the runs' own split (each camp anchored, no shares) is a candidate
too. Assumptions: the split of new arrivals over the camps goes on as it was in the last weeks before the
cut, up to each run's draw; a camp whose count did not rise then (none did) leaves the group to the runs' own
split.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

WINDOW = 56  # days before the cut whose increases give the camps' shares
CONCENTRATIONS = (2.0, 8.0, 32.0, math.inf)  # the candidates the forecast fit tries (each unsigned, signed)
SIGNED_MOST = 4.0  # signed shares only where the group's gross rise is at most 4 times its net rise


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
    inc = np.maximum(recent_changes(model, members, u, window), 0.0)
    total = float(inc.sum())
    return inc / total if total > 0 else None


def split(model: Any, members: list[int], u: int, signed: bool) -> tuple[np.ndarray, float, np.ndarray] | None:
    """How the camps share a rise of the group's total: (p, g, o), camp c taking g d_c - o_c of it, d a draw
    around the rising camps' shares p (`draw_shares`). Unsigned: g = 1 and o = 0, each camp's share of the
    rise of the rising camps (a camp that emptied lately takes none). Signed: the camps that emptied go on
    losing as they did against the net rise N of the group (o_c = their fall / N) and the rising camps take
    the rest (g = gross rise / N): people moved between camps (a relocation) go on moving. None: no rise.
    Signed falls back to unsigned when the net rise is under a quarter of the gross (N near 0 would blow the
    shares up)."""
    change = recent_changes(model, members, u, WINDOW)
    gross = float(np.maximum(change, 0.0).sum())
    if gross <= 0:
        return None
    p = np.maximum(change, 0.0) / gross
    net = float(change.sum())
    if not signed or net < gross / SIGNED_MOST:
        return p, 1.0, np.zeros_like(p)
    return p, gross / net, np.maximum(-change, 0.0) / net


def recent_changes(model: Any, members: list[int], u: int, window: int = WINDOW) -> np.ndarray:
    """Each member's change over the `window` days up to day u (its counts interpolated between its dated data,
    held after its last; 0 for a member with no data up to u). Measuring a camp last counted weeks before the
    cut over its own last weeks instead was tried and scored worse on mali2012's cuts (2012-06-30: ARD of the
    median 0.385 against 0.230 at concentration 8, the same runs), though better on its last third."""
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
        inc.append(float(b - a))
    return np.array(inc)


def draw_shares(share: np.ndarray, runs: int, concentration: float, seed: int) -> np.ndarray:
    """(runs, members): each run's shares, Dirichlet around `share` (the same in every run for `inf`)."""
    if math.isinf(concentration):
        return np.tile(share, (runs, 1))
    rng = np.random.default_rng([int(seed), 4181])
    return rng.dirichlet(concentration * share + 0.5, size=runs)


def run_shares(model: Any, members: list[int], u: int, runs: int, concentration: float, seed: int,
               signed: bool) -> np.ndarray | None:
    """(runs, members): each run's shares of the group's rise (`split`, `draw_shares`), or None."""
    sp = split(model, members, u, signed)
    if sp is None:
        return None
    p, g, o = sp
    return g * draw_shares(p, runs, concentration, seed) - o


def shared(model: Any, series: list[np.ndarray], u: int, concentration: float, seed: int = 0,
           anchors: dict[int, int] | None = None, signed: bool = False) -> dict[int, np.ndarray]:
    """The forecasts of every series in a share group (see the module docstring), by position; series of a
    group without a recent increase are left out (the caller anchors them one by one)."""
    out: dict[int, np.ndarray] = {}
    for members in share_groups(model):
        total = sum(series[k] for k in members)
        draws = run_shares(model, members, u, total.shape[0], concentration, seed, signed)
        if draws is None:
            continue
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


def shared_ahead(model: Any, series: list[np.ndarray], ahead: list[np.ndarray], periods: tuple, u: int,
                 concentration: float, seed: int = 0, signed: bool = False) -> dict[int, np.ndarray]:
    """The forecasts beyond the data (`ahead`, per series (runs, periods)) of every series in a share group
    whose members are forecast at the same periods, as `shared` makes them on the grid: each camp's last count
    plus its share (the same draw of shares as on the grid) of the rise of the group's total after it."""
    out: dict[int, np.ndarray] = {}
    for members in share_groups(model):
        ends = [list(periods[k][0]) for k in members]
        total, beyond = sum(series[k] for k in members), sum(ahead[k] for k in members)
        draws = run_shares(model, members, u, total.shape[0], concentration, seed, signed)
        if draws is None or not ends[0] or any(e != ends[0] for e in ends):
            continue
        for j, k in enumerate(members):
            s = model.series[k]
            a = anchor_point(s, u)
            if a is not None:
                out[k] = np.maximum(s["data"][a] + draws[:, [j]] * (beyond - total[:, [a]]), 0.0)
    return out


def apply(model: Any, fw: Any, u: int, concentration: float | None, seed: int = 0, signed: bool = False) -> Any:
    """The forward runs with the share groups' series replaced by `shared` (nothing with `concentration`
    None)."""
    if concentration is None:
        return fw
    new = shared(model, fw.series, u, concentration, seed, signed=signed)
    if not new:
        return fw
    return dataclasses.replace(fw, series=[new.get(k, v) for k, v in enumerate(fw.series)])


def as_json(concentration: float | None) -> float | str | None:
    """A concentration for JSON (which has no infinity): the number, or "inf"."""
    return "inf" if concentration is not None and math.isinf(concentration) else concentration
