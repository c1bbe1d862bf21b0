"""Parameters and schedules: each day starts from the scheduled values of every parameter slot (`pbase`, made
by the compiler from the parameters' values and their schedules, or the run's own table when a driver drifts:
`refuge.sim.mechanisms.drift`); rules then change them for the day (`refuge.sim.mechanisms.rules`). The values
in force are recorded every day."""

from __future__ import annotations

from typing import Any

from numba import njit

from refuge.sim.declare import Array, Mechanism

DECL = Mechanism(
    "parameters",
    spec=("pbase",),
    world=(Array("pv", "P", "f8", doc="parameter values in force today (after rules)"),
           Array("params", "T,P", "f8", doc="record: values in force each day")),
    results={"params": "params"},
)


@njit(cache=True)
def scheduled_values(t, m, w):
    """Today's values of every parameter slot, before rules."""
    w.pv[:] = m.pbase[t]


@njit(cache=True)
def record_values(t, m, w):
    w.params[t] = w.pv


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_values(ref: Any, t: int) -> None:
    """Today's values of every parameter slot, before rules."""
    ref.pv[:] = ref.pbase[t]
