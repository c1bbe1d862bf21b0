"""Sites: states that share a capacity (room for people), and closures of sites and states by schedule (rules
close them too, `refuge.sim.mechanisms.rules`). A closed site admits nobody from outside it (moves between its
own states go on), a full stop admits nobody at all, a closed state admits nobody."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from refuge.sim.declare import Array, Mechanism
from refuge.sim.tables import BIG

NEVER = int(BIG)  # the reference engine's room of a site without capacity

DECL = Mechanism(
    "sites",
    spec=("state_site", "capacity_param", "closed_site_sched", "stopped_site_sched", "closed_state_sched"),
    world=(Array("occ", "N", doc="people in each site now"),
           Array("cap", "N", doc="room of each site today"),
           Array("closed_site", "N", "b1", doc="closed to entry from outside the site"),
           Array("stopped_site", "N", "b1", doc="closed to every entry into its states (a full stop)"),
           Array("closed_state", "S", "b1"),
           Array("closed_site_out", "T,N", "b1", doc="records of the three"),
           Array("closed_state_out", "T,S", "b1"),
           Array("stopped_site_out", "T,N", "b1")),
    results={"closed_sites": "closed_site_out", "closed_states": "closed_state_out",
             "stopped_sites": "stopped_site_out"},
)


@njit(cache=True)
def scheduled_closures(t, m, w):
    """Sites and states closed today by their schedules (before rules)."""
    w.closed_site[:] = m.closed_site_sched[t]
    w.stopped_site[:] = m.stopped_site_sched[t]
    w.closed_state[:] = m.closed_state_sched[t]


@njit(cache=True)
def set_capacities(t, m, w):
    """Each site's room today, from its capacity parameter after rules (whole people)."""
    cap = w.cap
    for n in range(cap.shape[0]):
        c = m.capacity_param[n]
        cap[n] = BIG if c < 0 else np.int64(math.floor(w.pv[c] + 1e-9))


@njit(cache=True)
def room(m, w, target, source):
    """People state `target` can take now from state `source` (-1: from outside): 0 if the state is closed, or
    its site is stopped, or closed and `source` is not in it."""
    if w.closed_state[target]:
        return np.int64(0)
    n = m.state_site[target]
    if n < 0:
        return BIG
    if w.stopped_site[n] or (w.closed_site[n] and (source < 0 or m.state_site[source] != n)):
        return np.int64(0)
    return max(w.cap[n] - w.occ[n], 0)


@njit(cache=True)
def record_closures(t, m, w):
    w.closed_site_out[t] = w.closed_site
    w.closed_state_out[t] = w.closed_state
    w.stopped_site_out[t] = w.stopped_site


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_closures(ref: Any, t: int) -> None:
    """Sites and states closed today by their schedules (before rules)."""
    m = ref.m
    ref.closed_site[:] = m.closed_site_sched[t]
    ref.stopped_site[:] = m.stopped_site_sched[t]
    ref.closed_state[:] = m.closed_state_sched[t]


def reference_capacities(ref: Any, t: int) -> None:
    """Each site's room today (after rules), and what is closed today, as plain lists."""
    ref.cap = [NEVER if c < 0 else math.floor(ref.p[c] + 1e-9) for c in ref.m.capacity_param.tolist()]
    ref.shut_site, ref.shut_state = ref.closed_site.tolist(), ref.closed_state.tolist()
    ref.stop_site = ref.stopped_site.tolist()
