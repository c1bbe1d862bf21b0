"""Spawning by each conflict zone's own intensity (Flee's `conflict_driven_spawning`), compiled.

Instead of a daily total spread over the conflict zones, each location in conflict on day t (intensity c > 0)
makes its own new people: `floor(per_day x c)` (constant), `floor(per_day x pop x c)` (pop_ratio, pop being its
population less the people it has spawned so far when `take_from_population`), or a Poisson draw of mean
`per_day x c` (poisson). Flee applies no decay to these numbers, and neither does refuge.

The engines compute the numbers day by day (the per-day rate is a parameter slot, so it may be scheduled or
calibrated); here only the mode, the slot and, for sizing the engine's tables, the people expected at the
values given are made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refuge.scenario.limits import MAX_ARRIVAL_RATE, MAX_SPAWNED

# How spawning is driven: by a cumulative total (0), or by each conflict zone (Flee's spawn modes).
SPAWN_TOTAL, SPAWN_CONSTANT, SPAWN_POP_RATIO, SPAWN_POISSON = range(4)
SPAWN_MODES = {"constant": SPAWN_CONSTANT, "pop_ratio": SPAWN_POP_RATIO, "poisson": SPAWN_POISSON}
PATH = "network.spawning.conflict_driven"


def local_spawning(c: Any, sp: Any, conflict: np.ndarray, pops: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(mode, slot of the per-day rate (-1 none), people expected each day at the values given) of a network's
    `spawning` section `sp`; `conflict` (T, L) the intensities, `pops` (L,) the populations at the start."""
    T = conflict.shape[0]
    cd = sp.conflict_driven if sp is not None else None
    if cd is None:
        return SPAWN_TOTAL, -1, np.zeros(T, np.int64)
    mode = SPAWN_MODES[cd.mode]
    slot = c.param(cd.per_day, f"{PATH}.per_day", "probability" if mode == SPAWN_POP_RATIO else "arrival rate")
    rate = c.value(slot)
    if not (conflict > 0).any():
        c.err("network.conflicts", "at least one conflict zone (people spawn there)", "none")
    peak = rate * float(conflict.max(initial=0.0)) * (1.0 if mode != SPAWN_POP_RATIO else float(pops.max(initial=0)))
    if peak > MAX_ARRIVAL_RATE:
        c.err(f"{PATH}.per_day", f"at most {MAX_ARRIVAL_RATE:,.0f} people a day from one location (per_day x "
              "intensity" + (" x population" if mode == SPAWN_POP_RATIO else "") + ")", f"{peak:,.0f}")
        return mode, slot, np.zeros(T, np.int64)
    expect = expected_counts(mode, rate, conflict, pops, sp.take_from_population)
    if expect.sum() > MAX_SPAWNED:
        c.err(f"{PATH}.per_day", f"at most {MAX_SPAWNED:,} people spawned over the period (each is kept one by one "
              "until a camp)", f"{int(expect.sum()):,} at per_day {rate:g}")
    return mode, slot, expect


def expected_counts(mode: int, rate: float, conflict: np.ndarray, pops: np.ndarray, take: bool) -> np.ndarray:
    """(T,) people spawned each day at these values (the Poisson mode's means): the engines' tables are sized
    from it (a run that needs more makes its tables again, bigger)."""
    T, L = conflict.shape
    left = pops.astype(float).copy()
    out = np.zeros(T, np.int64)
    for t in range(T):
        c = np.where(conflict[t] > 0, conflict[t], 0.0)
        if mode == SPAWN_POP_RATIO:
            n = np.floor(rate * np.maximum(left, 0.0) * c)
        elif mode == SPAWN_CONSTANT:
            n = np.floor(rate * c)
        else:
            n = np.ceil(rate * c)
        if take:
            left -= n
        out[t] = int(n.sum())
    return out
