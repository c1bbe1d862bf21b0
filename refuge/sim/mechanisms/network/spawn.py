"""Spawning by each conflict zone's own intensity (Flee's conflict-driven spawning, `refuge.model.net_spawn`),
and the population a location has left when spawned people leave it (`take_from_population`).

Day t, in the network's step 2 (instead of spreading a total): each location in conflict that day (intensity
c > 0), in the order of the locations, makes `floor(r x c)` new people (constant), `floor(r x pop x c)`
(pop_ratio) or a Poisson draw of mean `r x c` (poisson), where r is the per-day rate in force and pop the
location's population, less everyone spawned there before when people are taken from the population (it does
not fall below 0). They have not travelled yet. A location's count is held at the table limit of people a day
(`MAX_ARRIVAL_RATE`), which the compiler checks at the values given.

`spawn_here` is the fast engine's (Numba, inlined in the network's day), `reference_spawn_counts` the
reference's: written apart, as the two engines are.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from refuge.model.net_spawn import SPAWN_CONSTANT, SPAWN_POP_RATIO
from refuge.scenario.limits import MAX_ARRIVAL_RATE
from refuge.sim.mechanisms.network.low import nonneg
from refuge.sim.mechanisms.network.structs import F_SPAWN_MODE, F_SPAWN_RATE, F_TAKE_POP


@njit(inline="always")
def population_left(s, w, pv, l):
    """Location l's population today: less the people spawned there so far when they are taken from it."""
    pop = pv[nonneg(s.loc_pop[l])]
    if s.flags[F_TAKE_POP] != 0:
        pop = max(pop - w.taken[l], 0.0)
    return pop


@njit(inline="always")
def spawn_count(s, w, pv, t, l):
    """New people at location l on day t by its own intensity (0 outside a conflict)."""
    c = s.conflict[t, l]
    if c <= 0:
        return 0
    mode, r = s.flags[F_SPAWN_MODE], pv[nonneg(s.flags[F_SPAWN_RATE])]
    if mode == SPAWN_CONSTANT:
        x = math.floor(min(r * c, MAX_ARRIVAL_RATE))
    elif mode == SPAWN_POP_RATIO:
        x = math.floor(min(r * population_left(s, w, pv, l) * c, MAX_ARRIVAL_RATE))
    else:
        x = w.g.poisson(min(r * c, MAX_ARRIVAL_RATE))
    return int(x)


def reference_spawn_counts(net: Any, t: int, pv: np.ndarray, taken: np.ndarray, g: np.random.Generator) -> list[int]:
    """The reference's new people at each location on day t by its own intensity; `taken`: the people spawned
    at each location before (the caller adds each day's)."""
    rate = float(pv[net.spawn_rate])
    out = []
    for l in range(len(net.names)):
        c = float(net.conflict[t, l])
        n = 0
        if c > 0:
            pop = float(pv[net.loc_pop[l]])
            if net.take_pop:
                pop = max(pop - taken[l], 0.0)
            if net.spawn_mode == SPAWN_CONSTANT:
                n = int(np.floor(min(rate * c, MAX_ARRIVAL_RATE)))
            elif net.spawn_mode == SPAWN_POP_RATIO:
                n = int(np.floor(min(rate * pop * c, MAX_ARRIVAL_RATE)))
            else:
                n = int(g.poisson(min(rate * c, MAX_ARRIVAL_RATE)))
        out.append(n)
    return out
