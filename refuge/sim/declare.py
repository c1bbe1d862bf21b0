"""How a mechanism declares what it adds to a run, once: its model arrays, its run arrays and its results.

A mechanism (`refuge.sim.mechanisms`) lists

- `spec`: the names of the compiled model's arrays its steps read (attributes of `refuge.model.Model`, or
  arrays it makes from the model: `derive`);
- `world`: the arrays a run changes, each an `Array` with a shape in the run's dimensions, a dtype and a
  starting value;
- `results`: the run's results it gives, by name (the fields of `refuge.results.Run`): a world array's name,
  or a function of the world and the model (a table cut to the rows in use, say);
- hooks: steps of its own that another mechanism's step calls through one generic line (`refuge.sim.hooks`):
  today, serving the tracked units due for a capacity in an order of its own (the service order).

`refuge.sim.layout` joins the declarations, in the day's order, into the engine's `Spec` and `World` and
into the results of a run; nothing else lists fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

# The dimensions a shape may name: days, states, sites, transitions, edges, arrival streams (events
# included), rules, parameter slots, route-network locations (L1: and one more, people en route); and the rows
# of the tables that grow between runs (`refuge.sim.run`).
# J1 and E1 are J and E but at least 1 (scratch space for one transition at a time).
DIMS = ("T", "S", "N", "J", "J1", "E", "E1", "A", "R", "P", "L", "L1", "units", "stays", "pend")


@dataclass(frozen=True)
class Array:
    """One array of a run: `shape` names dimensions (`"T,S"`) or gives whole numbers (`"units,6"`)."""

    name: str
    shape: str
    dtype: str = "i8"  # i8 whole numbers, f8 real numbers, b1 yes/no
    fill: Any = 0
    doc: str = ""

    def make(self, dims: dict[str, int]) -> np.ndarray:
        """A new array of the declared shape, filled with the starting value."""
        shape = tuple(int(d) if d.isdigit() else dims[d] for d in self.shape.split(","))
        if self.fill == 0:  # zeroed pages from the system, touched only where a run writes (tables can be large)
            return np.zeros(shape, np.dtype(self.dtype))
        return np.full(shape, self.fill, np.dtype(self.dtype))


@dataclass(frozen=True)
class Mechanism:
    """What one mechanism adds to the model the engine reads, to a run's state and to its results."""

    name: str
    spec: tuple[str, ...] = ()
    world: tuple[Array, ...] = ()
    results: dict[str, str | Callable[[Any, Any], Any]] = field(default_factory=dict)
    derive: dict[str, Callable[[Any], Any]] = field(default_factory=dict)  # spec arrays made from the model
    dims: dict[str, Callable[[Any], int]] = field(default_factory=dict)  # dimensions of its own, from the model
    doc: str = ""
    # Hooks into the tracked units' step (`refuge.sim.hooks` joins them; None: the mechanism has none). A
    # mechanism that serves the units due for a capacity in an order of its own declares all four:
    # set_aside(t, i, j, m, w) -> bool (Numba): unit `i`, due today for transition `j`, waits to be served by it;
    # serve_aside(t, n, m, w) (Numba): serve the units set aside today (`w.aside[:n]`, in the order met);
    # and the reference engine's twins, set_aside_reference(ref, u, t) -> bool and serve_aside_reference(ref,
    # units, t).
    set_aside: Callable[..., Any] | None = None
    serve_aside: Callable[..., Any] | None = None
    set_aside_reference: Callable[..., Any] | None = None
    serve_aside_reference: Callable[..., Any] | None = None


def check_unique(mechanisms: tuple[Mechanism, ...]) -> None:
    """Each run array and each result is declared by one mechanism only (model arrays may be read by several)."""
    for kind, names in (("array", [(a.name, m.name) for m in mechanisms for a in m.world]),
                        ("result", [(r, m.name) for m in mechanisms for r in m.results])):
        seen: dict[str, str] = {}
        for name, owner in names:
            if name in seen:
                raise ValueError(f"{kind} {name} declared by {seen[name]} and {owner}")
            seen[name] = owner
