"""Tracked stays: people in a state whose exits depend on time in state (or whose stays are recorded) are kept
as units (a person, or a group that moves together) with their day of entry and the drawn day their time is
up (`units.py`: the table); each day, in order of entry, a unit whose time has come tries that transition,
otherwise its state's constant-rate exits compete (`step.py`). Completed stays are recorded, and the longest
ongoing stay per state each day."""

from __future__ import annotations

from refuge.sim.declare import Array, Mechanism
from refuge.sim.tables import N_STAYS, N_UNITS, STAY_COLS, U_COLS, U_SIZE

DECL = Mechanism(
    "tracked stays",
    spec=("tracked", "out_ptr", "out_trans"),
    world=(Array("units", f"units,{U_COLS}", doc="rows U_* of refuge.sim.tables"),
           Array("stays", f"stays,{STAY_COLS}", doc="completed stays: state, entry day, exit day, people"),
           Array("max_stay", "T,S", doc="record: the longest ongoing stay in each tracked state")),
    results={"max_stay": "max_stay",
             "stays": lambda w, m: w.stays[: w.count[N_STAYS]].copy(),
             "ongoing": lambda w, m: w.units[: w.count[N_UNITS], :3].copy(),
             "ongoing_size": lambda w, m: w.units[: w.count[N_UNITS], U_SIZE].copy()},
)
