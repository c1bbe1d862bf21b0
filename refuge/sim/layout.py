"""The run's layout: every mechanism's declaration (`refuge.sim.declare`) joined, in the day's order, into the
engine's `Spec` (the model arrays the steps read), its `World` (the arrays a run changes, made here) and the
results of a run by name. Nothing else lists these fields."""

from __future__ import annotations

from importlib import import_module
from typing import Any, NamedTuple

from numba.experimental import structref

from refuge.sim import streams
from refuge.sim.borrow import SpecRef, SpecRefType, WorldRef, WorldRefType
from refuge.sim.declare import Array, Mechanism, check_unique
from refuge.sim.streams import seed_key

# The day's order of the mechanisms (refuge/sim/mechanisms/NAME: a module, or a folder), each with its `DECL`;
# the one line here a new mechanism adds (its steps are called in `refuge.sim.day`, or through `refuge.sim.hooks`).
DAY = ("parameters", "rules", "sites", "queues", "order", "arrivals", "moves", "counted", "tracked", "network")
MECHANISMS: tuple[Mechanism, ...] = (streams.DECL, *(import_module(f"refuge.sim.mechanisms.{name}").DECL
                                                     for name in DAY))
check_unique(MECHANISMS)

# The world's own counters: rows in use of the unit, stay and waiting-group tables, and the bits of the tables
# that ran out of rows (`refuge.sim.tables`).
COUNT = Array("count", "4", doc="count[N_UNITS], count[N_STAYS], count[N_PEND]; count[FULL]: tables too small")

SPEC_FIELDS = tuple(dict.fromkeys(name for m in MECHANISMS for name in m.spec))
WORLD_ARRAYS = (COUNT, *(a for m in MECHANISMS for a in m.world))
DERIVED = {name: fn for m in MECHANISMS for name, fn in m.derive.items()}
RESULTS = {name: how for m in MECHANISMS for name, how in m.results.items()}

Spec = NamedTuple("Spec", [(name, Any) for name in SPEC_FIELDS])  # type: ignore[misc]
Spec.__doc__ = "A compiled model as the engine reads it: the arrays the mechanisms declare in `spec`."
World = NamedTuple("World", [(a.name, Any) for a in WORLD_ARRAYS])  # type: ignore[misc]
World.__doc__ = """The state of one run: arrays changed in place by the steps (made by `new_world`).

The tables of tracked units, completed stays and waiting groups have a fixed number of rows within a run: a
step that would need more rows sets `count[FULL]` and the run is made again, from the same seed, with bigger
tables (`refuge.sim.run.run_model`); so no step ever reallocates (and the borrowed views the steps hold stay
valid)."""

structref.define_proxy(SpecRef, SpecRefType, list(Spec._fields))
structref.define_proxy(WorldRef, WorldRefType, list(World._fields))


def spec_of(m: Any) -> Any:
    """The engine's view of a compiled model (the same arrays, no copies; derived ones made)."""
    return Spec(**{name: DERIVED[name](m) if name in DERIVED else getattr(m, name) for name in SPEC_FIELDS})


def dims(m: Any, days: int, rows: tuple[int, ...]) -> dict[str, int]:
    """The sizes of the run's dimensions (`refuge.sim.declare.DIMS`, and those the mechanisms declare)."""
    J, E = m.trans.shape[0], m.edge_target.shape[0]
    L = 0 if m.net is None else len(m.net.loc_state)
    return {"T": days, "S": len(m.state_names), "N": m.closed_site_sched.shape[1], "J": J, "J1": max(J, 1),
            "E": E, "E1": max(E, 1), "A": m.arr.shape[0], "R": m.rule_sig.shape[0], "P": m.pbase.shape[1],
            "L": L, "L1": L + 1, "units": rows[0], "stays": rows[1], "pend": rows[2],
            **{name: size(m) for mech in MECHANISMS for name, size in mech.dims.items()}}


def new_world(m: Any, days: int, rows: tuple[int, ...], seed: int) -> Any:
    """An empty world for `days` days, tables of `rows` rows (units, stays, waiting groups), the run's streams
    keyed by `seed` (`refuge.sim.streams`)."""
    d = dims(m, days, rows)
    world = World(*(a.make(d) for a in WORLD_ARRAYS))
    world.rng_seed[0] = seed_key(seed)
    return world


def collect(m: Any, w: Any) -> dict[str, Any]:
    """A finished run's results by name, as the mechanisms declare them."""
    return {name: getattr(w, how) if isinstance(how, str) else how(w, m) for name, how in RESULTS.items()}
