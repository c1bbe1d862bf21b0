"""People and moves: where everyone is (a count per state, a count per site), and the moves every mechanism
makes through the same few functions, so that rooms, closures, capacities and the route network's hand-over
are kept in one place.

A move picks its target by the split, and is admitted if the target (and its site) is open and has room for
the whole group; otherwise it is redirected if the transition says so, or waits in place. Leaving comes first,
so a move within one site needs no extra room.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from refuge.sim.declare import Array, Mechanism
from refuge.sim.mechanisms.sites import room
from refuge.sim.mechanisms.tracked.units import add_people
from refuge.sim.tables import FULL, U_ALIVE

DECL = Mechanism(
    "moves",
    spec=("state_site", "tracked", "initial_param", "trans", "edge_target", "edge_p", "emp_ptr", "emp_values",
          "emp_cdf"),
    world=(Array("stock", "S", doc="people in each state now"),
           Array("n0", "S", doc="people in each state at the start of today's moves"),
           Array("net_in", "S", doc="people put into each route-network location today by the other mechanisms"),
           Array("net_out", "S", doc="... and taken out of it (the network's step takes them over)"),
           Array("probs", "E1", "f8", doc="scratch: one transition's split"),
           Array("ecounts", "E1", doc="scratch: people per edge of one transition"),
           Array("stocks", "T,S", doc="record: people in each state at the end of each day"),
           Array("flows", "T,E", doc="record: people moved along each edge each day")),
    results={"stocks": "stocks", "flows": "flows"},
)


@njit(cache=True)
def place_initial(m, w):
    """Initial stocks, as if they came the day before the start (a tracked state: one unit per person)."""
    for s in range(m.state_site.shape[0]):
        k = np.int64(round(w.pv[m.initial_param[s]]))
        if k <= 0:
            continue
        if m.tracked[s] and not m.queued[s]:
            for _ in range(k):
                place(m, w, s, 1, -1)
        else:
            place(m, w, s, k, -1)


@njit(cache=True)
def start_moves(t, m, w):
    """The people in each state at the start of today's moves (counted states move only these); no tracked row
    has been passed yet today."""
    w.n0[:] = w.stock
    w.fresh[0] = 0


@njit(cache=True)
def try_move(t, s, size, j, e, m, w, unit=-1):
    """`size` people leave `s` together by edge `e` of transition `j`: leaving first (so a move within one site
    needs no extra room), then into the edge's target if it has room, else the redirect, else back where they
    were. A moving tracked unit (`unit`) is retired. Returns the edge taken, or -1 if they wait."""
    if size > w.budget[j]:  # first come, first served: nobody behind them passes today
        if w.budget[j] > 0:
            w.jam[j] = True  # a group kept whole did not fit in what was left
        w.budget[j] = 0
        return -1
    dest = m.edge_target[e]
    take(m, w, s, size)
    if room(m, w, dest, s) < size and m.tr_redir[j] >= 0:
        dest, e = m.tr_redir[j], m.tr_redir_edge[j]
    if room(m, w, dest, s) < size:
        take(m, w, s, -size)
        return -1
    if unit >= 0:
        w.units[unit, U_ALIVE] = 0
    place(m, w, dest, size, t)
    w.flows[t, e] += size
    w.budget[j] -= size
    return e


@njit(cache=True)
def group_dest(m, w, target, redir, size, source):
    """Where a whole group can go: the target, else the redirect, else nowhere (-1)."""
    if room(m, w, target, source) >= size:
        return target
    if redir >= 0 and room(m, w, redir, source) >= size:
        return redir
    return -1


@njit(cache=True)
def take(m, w, s, k):
    """`k` people step out of state `s` (negative: step back in)."""
    w.stock[s] -= k
    if m.state_site[s] >= 0:
        w.occ[m.state_site[s]] -= k
    if m.net_loc[s] >= 0:
        w.net_out[s] += k


@njit(cache=True)
def step_out(m, w, s, k):
    """`k` people of counted state `s` leave it before today's moves (an event takes them)."""
    take(m, w, s, k)
    w.n0[s] -= k


@njit(cache=True)
def place(m, w, dest, size, t):
    """Put `size` people into `dest` on day `t` (room already checked); in a tracked state they become one
    unit, with a drawn time in state (in a queue, they join the people who entered it today)."""
    w.stock[dest] += size
    if m.state_site[dest] >= 0:
        w.occ[m.state_site[dest]] += size
    if m.net_loc[dest] >= 0:
        w.net_in[dest] += size
    if m.tracked[dest]:
        add_people(m, w, dest, size, t)


@njit(cache=True)
def admit_people(m, w, dest, k, t, source):
    """Admit up to `k` people from `source` (-1: from outside; each a unit of one if `dest` is tracked).
    Returns how many got in."""
    got = min(k, room(m, w, dest, source))
    if got <= 0:
        return np.int64(0)
    if m.tracked[dest] and not m.queued[dest]:
        for _ in range(got):
            place(m, w, dest, 1, t)
            if w.count[FULL]:  # the unit table is full: this run is made again with a bigger one
                break
    else:
        place(m, w, dest, got, t)
    return got


@njit(cache=True)
def record_stocks(t, m, w):
    w.stocks[t] = w.stock
