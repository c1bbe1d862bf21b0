"""Flooding in the route network's day (Flee's flood rules; the arrays from `refuge.model.net_flood`): people
spawned at flooded places. (The move chance and score of a flooded place are set with the other places' in
`day.places_today`.)"""

from __future__ import annotations

import math

from numba import njit

from refuge.model.network import MV_CAPBUF, MV_CAPSCALE
from refuge.sim.mechanisms.network.low import nonneg
from refuge.sim.mechanisms.network.people import changed
from refuge.sim.mechanisms.network.structs import F_FLOOD_COUNT
from refuge.sim.mechanisms.network.travel import newcomers


@njit(inline="always")
def flood_spawn(t, s, w, pv):
    """Today's new people at each flooded place, in the order of the places: its spawn rule x the population it
    has left (rounded down), or the rule's count; each spawned person leaves the population (not below 0)."""
    if s.flood_spawn.shape[0] == 0:
        return
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    if t == 0:
        for l in range(L):
            w.pop_left[l] = math.floor(pv[nonneg(s.loc_pop[l])])
    count = s.flags[F_FLOOD_COUNT] != 0
    capbuf, capscale = w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE]
    for l in range(L):
        rule = s.flood_spawn[t, l]
        if rule <= 0:
            continue
        n = int(math.floor(rule if count else rule * w.pop_left[l]))
        if n <= 0:
            continue
        w.pop_left[l] = max(w.pop_left[l] - n, 0.0)
        w.spawned[t] += n
        w.entered[t, l] += n
        changed(s, w, l, n, capbuf, capscale)
        if not newcomers(w, l, n, t, T):
            return
