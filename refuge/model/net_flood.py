"""Compile a network's `floods` (Flee's flood rules) into daily arrays by location: the move chance that replaces a
flooded place's own, the factor on each place's score, and the spawning of each flooded place.

Levels are whole numbers from 0 indexing the lists of the rules; the compiler checks every level reached within the
period against every list, so the engine only reads arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class FloodArrays:
    """(T, L) arrays of a network's flooding, empty (0, 0) without floods."""

    move: np.ndarray  # move chance of a flooded place that day, -1 where its own holds
    weight: np.ndarray  # factor on the score of each place that day (1 where not flooded)
    spawn: np.ndarray  # spawn rule of each place that day: a share of the population left, or a count (0: none)
    count: bool  # spawn is a count (else a share)

    @staticmethod
    def none() -> "FloodArrays":
        return FloodArrays(np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 0)), False)


def compile_floods(c: Any, net: Any, seen: dict[str, int], flood_zone: np.ndarray, T: int) -> FloodArrays:
    """The floods of a network (`net.floods`), checked: names, levels and the lists' entries; `flood_zone` (L,)
    marks the flood zones, whose score takes the weight of their level also at 0."""
    fl = net.floods
    if fl is None:
        return FloodArrays.none()
    L, n0 = flood_zone.size, len(c.problems)
    level = np.zeros((T, L), np.int64)
    for name, days in fl.levels.items():
        path = f"network.floods.levels.{name}"
        loc = seen.get(name, -1)
        if loc < 0:
            from refuge.errors import suggest

            c.err(path, "a location of the network", f"`{name}`{suggest(name, list(seen))}")
            continue
        if not days:
            c.err(path, "a level for each day from the start (at least one)", "an empty list")
            continue
        for d, x in enumerate(days):
            if not (math.isfinite(x) and x >= 0 and x == int(x)):
                c.err(f"{path}[{d}]", "a whole flood level from 0", x)
                break
        else:
            got = np.array(days[:T], np.int64)
            level[:got.size, loc] = got
            level[got.size:, loc] = got[-1]
    top = int(level.max()) if level.size else 0
    lists = {"move_chance": fl.move_chance, "weight": fl.weight, "spawn": fl.spawn}
    for key, values in lists.items():
        path = f"network.floods.{key}"
        for i, x in enumerate(values):
            high = 1.0 if key == "move_chance" or (key == "spawn" and fl.spawn_mode == "share") else 1e9
            if not (math.isfinite(x) and 0 <= x <= high):
                c.err(f"{path}[{i}]", f"a number from 0 to {high:g}", x)
        if top >= len(values) and (key != "spawn" or len(values) > 1 or values[0] != 0):
            c.err(path, f"an entry for each flood level reached (0 to {top}, in network.floods.levels)",
                  f"{len(values)} entries")
    if len(c.problems) > n0:
        return FloodArrays.none()
    lv = np.minimum(level, max(top, 0))

    def pick(values: list[float], fill: float) -> np.ndarray:
        table = np.array(list(values) + [fill] * (top + 1 - len(values)), float)
        return table[lv]

    flooded = level > 0
    move = np.where(flooded, pick(fl.move_chance, 0.0), -1.0)
    wl = pick(fl.weight, 1.0)
    weight = np.where(flooded, wl, 1.0) * np.where(flood_zone[None, :], wl, 1.0)
    spawn = np.where(flooded, pick(fl.spawn, 0.0), 0.0)
    return FloodArrays(move, weight, spawn, fl.spawn_mode == "count")
