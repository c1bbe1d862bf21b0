"""Forecasts as of the cut (`refuge backtest --train-until DATE --as-of-cut`): what a forecaster at the cut knew.

A plain backtest fits on the evidence up to the cut but runs the scenario as written after it: a schedule made
from data (claims per quarter, say) or a policy dated after the cut (a new era of decision capacity) feeds the
forecast with what was only known later. As of the cut:

- every parameter holds, after the last training day, the value its schedule gave it that day (`held`): no
  schedule point, data-made or policy, dated after the cut is used; rules still act on top, as in any run;
- every drift declared to start after the cut (`drift:` with `from`, usually the day after the data end)
  starts the day after the cut instead (`as_of_scenario`): the drivers the scenario names as unknown beyond its
  data (claims, decision capacity) walk at random from their level at the cut, each run its own path;
- a route network's spawning (people a day made from a cumulative total, in a Flee case the camps' own counts)
  goes on after the cut at its mean over the `SPAWN_WINDOW` days up to the cut (`held`), instead of following
  a total dated after it.

The training (the calibration on evidence up to the cut) is unchanged: none of this touches the days it fits.
A seasonal profile is held too (its factor of the cut's month), which a scenario with one should keep in mind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np

__all__ = ["SPAWN_WINDOW", "as_of_scenario", "held", "held_spawn"]

SPAWN_WINDOW = 56  # days before the cut whose mean spawning goes on after it


def as_of_scenario(scenario: Any, until: dt.date) -> Any:
    """The scenario with each drift that starts after `until` starting the day after it instead."""
    drifts = list(getattr(scenario, "drift", None) or [])
    cut = until + dt.timedelta(days=1)
    moved = [d.model_copy(update={"from_": cut}) if d.from_ is not None and d.from_ > cut else d for d in drifts]
    return scenario.model_copy(update={"drift": moved}) if drifts else scenario


def held(model: Any, last_day: int) -> Any:
    """The compiled model with every parameter slot held after day `last_day` at its value that day, and its
    network's spawning at its recent level (`held_spawn`)."""
    if not 0 <= last_day < model.pbase.shape[0] - 1:
        return model
    pbase = np.array(model.pbase, dtype=np.float64, copy=True)
    pbase[last_day + 1:] = pbase[last_day]
    return held_spawn(dataclasses.replace(model, pbase=pbase), last_day)


def held_spawn(model: Any, last_day: int, window: int = SPAWN_WINDOW) -> Any:
    """The model whose network spawns, each day after `last_day`, the mean of the `window` days up to it (whole
    people: the running total's whole part grows by that mean a day), or the model itself without a network."""
    net = getattr(model, "net", None)
    if net is None or not 0 <= last_day < len(net.spawn) - 1:
        return model
    spawn = np.array(net.spawn, dtype=np.int64, copy=True)
    level = float(spawn[max(last_day - window + 1, 0):last_day + 1].mean())
    ahead = np.floor(level * np.arange(len(spawn) - last_day)).astype(np.int64)
    spawn[last_day + 1:] = np.diff(ahead)
    return dataclasses.replace(model, net=dataclasses.replace(net, spawn=spawn))
