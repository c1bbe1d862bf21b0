"""Tracked stays: people in a state whose exits depend on time in state (or whose stays are recorded) are kept
as units (a person, or a group that moves together) with their day of entry and the drawn day their time is
up (`units.py`: the table); each day, in order of entry, a unit whose time has come tries that transition,
otherwise its state's constant-rate exits compete (`step.py`). Completed stays are recorded, and the longest
ongoing stay per state each day.

A queue (a tracked state whose timed exits all take a fixed number of days, one at a processing capacity:
`refuge.model.model.Model.queued`) keeps its people as counts per day of entry, one row of the same table per
day's cohort (`cohorts.py`): its people are served one by one, so a group that enters a queue is split at the
capacity, and the queue's cost does not grow with the people in it."""

from __future__ import annotations

import numpy as np

from refuge.sim.declare import Array, Mechanism
from refuge.sim.tables import N_STAYS, N_UNITS, STAY_COLS, U_COLS, U_SIZE


def _whole(m) -> np.ndarray:
    """Each transition's `whole` (groups kept whole at its capacity), at least one entry."""
    return np.array([bool(t.whole) for t in m.scenario.transitions] or [False], np.bool_)


DECL = Mechanism(
    "tracked stays",
    spec=("tracked", "queued", "out_ptr", "out_trans", "whole"),
    derive={"whole": _whole},
    world=(Array("units", f"units,{U_COLS}", doc="rows U_* of refuge.sim.tables"),
           Array("stays", f"stays,{STAY_COLS}", doc="completed stays: state, entry day, exit day, people"),
           Array("max_stay", "T,S", doc="record: the longest ongoing stay in each tracked state"),
           Array("fresh", "1", doc="the first row of the unit table today's pass has not reached yet"),
           Array("aside", "units", doc="units set aside today by a mechanism's hook, as met (refuge.sim.hooks)"),
           Array("aside_n", "1", doc="how many")),
    results={"max_stay": "max_stay",
             "stays": lambda w, m: w.stays[: w.count[N_STAYS]].copy(),
             "ongoing": lambda w, m: w.units[: w.count[N_UNITS], :3].copy(),
             "ongoing_size": lambda w, m: w.units[: w.count[N_UNITS], U_SIZE].copy()},
)
