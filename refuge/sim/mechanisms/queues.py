"""Processing queues: a transition with a capacity moves at most that many people in each of its periods (a
day, or `days` days from the start; renewed with the parameter's value on a period's first day; what a period
leaves unused is lost). Moves take it first come, first served, in the day's order; when the next mover (a
person, a group, a unit) does not fit in what is left, the transition moves nobody else that period
(`refuge.sim.mechanisms.moves.try_move`). Those not served wait in place."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from refuge.model.codes import T_CAP, T_CAP_DAYS
from refuge.sim.declare import Array, Mechanism
from refuge.sim.tables import BIG

DECL = Mechanism(
    "queues",
    world=(Array("budget", "J1", fill=BIG, doc="people a transition with a capacity may still move this period"),),
)


@njit(cache=True)
def set_budgets(t, m, w):
    """At the start of each of its periods, a capped transition may move as many people as its capacity
    parameter says that day."""
    for j in range(m.trans.shape[0]):
        c = m.trans[j, T_CAP]
        if c >= 0 and t % m.trans[j, T_CAP_DAYS] == 0:
            w.budget[j] = max(np.int64(math.floor(w.pv[c] + 1e-9)), 0)


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_budgets(ref: Any, t: int) -> None:
    """A capped transition's capacity, renewed at the start of its period."""
    for j, row in enumerate(ref.tr):
        if row[T_CAP] >= 0 and t % row[T_CAP_DAYS] == 0:
            ref.budget[j] = max(math.floor(ref.p[row[T_CAP]] + 1e-9), 0)
