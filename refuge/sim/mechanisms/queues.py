"""Processing queues: a transition with a capacity moves at most that many people in each of its periods (a
day, or `days` days from the start; renewed with the parameter's value on a period's first day; what a period
leaves unused is lost). Moves take it first come, first served, in the day's order. A step serves people: a
group bigger than what is left moves as many as fit and the rest wait (`refuge.sim.mechanisms.tracked.cohorts`);
with `whole: true`, when the next group does not fit in what is left, the transition moves nobody else that
period (`refuge.sim.mechanisms.moves.try_move`). Those not served wait in place. People whose time has come
still waiting on a day the capacity was not used up are recorded (`idle`): `refuge run` and `check` warn."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from refuge.sim.declare import Array, Mechanism
from refuge.sim.tables import BIG, N_UNITS, U_ALIVE, U_DUE, U_DUETR, U_SIZE

DECL = Mechanism(
    "queues",
    world=(Array("budget", "J1", fill=BIG, doc="people a transition with a capacity may still move this period"),
           Array("jam", "J1", "b1", doc="today a group kept whole did not fit in what was left of the capacity"),
           Array("due_waiting", "J1", doc="scratch: people whose time has come, waiting for each transition"),
           Array("idle", "T,J", doc="record: people waiting for a capped transition whose time had come, on days "
                 "its capacity was not used up (0 on other days)")),
    results={"idle": "idle"},
)


@njit(cache=True)
def set_budgets(t, m, w):
    """At the start of each of its periods, a capped transition may move as many people as its capacity
    parameter says that day."""
    for j in range(m.tr_cap.shape[0]):
        c = m.tr_cap[j]
        if c >= 0 and t % m.tr_cap_days[j] == 0:
            w.budget[j] = max(np.int64(math.floor(w.pv[c] + 1e-9)), 0)


@njit(cache=True)
def record_idle(t, m, w):
    """People whose time has come still waiting at the end of the day for a capped transition whose capacity
    was not used up (blocked by a full or closed target, or behind a group kept whole that did not fit): a
    queue that holds people while its capacity goes unused."""
    units = w.units
    w.due_waiting[:] = 0
    for i in range(w.count[N_UNITS]):
        j = units[i, U_DUETR]
        if units[i, U_ALIVE] and j >= 0 and units[i, U_DUE] <= t and m.tr_cap[j] >= 0:
            w.due_waiting[j] += units[i, U_SIZE]
    for j in range(m.tr_cap.shape[0]):
        if w.due_waiting[j] > 0 and (w.budget[j] > 0 or w.jam[j]):
            w.idle[t, j] = w.due_waiting[j]
        w.jam[j] = False


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_budgets(ref: Any, t: int) -> None:
    """A capped transition's capacity, renewed at the start of its period."""
    for j, row in enumerate(ref.tr):
        if row.cap >= 0 and t % row.cap_days == 0:
            ref.budget[j] = max(math.floor(ref.p[row.cap] + 1e-9), 0)


def reference_idle(ref: Any, t: int) -> None:
    """People whose time has come, waiting at the end of the day for a capped transition whose capacity was not
    used up (`record_idle`)."""
    waiting = [0] * len(ref.tr)
    for u in ref.units:
        if u.alive and u.due_trans >= 0 and u.due <= t and ref.tr[u.due_trans].cap >= 0:
            waiting[u.due_trans] += len(u.members)
    for j, n in enumerate(waiting):
        if n > 0 and (ref.budget[j] > 0 or ref.jam[j]):
            ref.out["idle"][t, j] = n
    ref.jam = [False] * len(ref.tr)
