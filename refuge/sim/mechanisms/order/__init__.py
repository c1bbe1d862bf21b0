"""Service order: the order in which a capacity-limited transition serves the people waiting for it.

First come, first served is the default (`fifo`): tracked units are met in order of entry and take the
capacity as they come (`refuge.sim.mechanisms.queues`). A transition may declare another `order`, in force
from a date (before it: first come, first served):

- `lifo`: last come, first served, the newest first;
- `priority`: classes in the order listed, people in no class last; first come, first served within a class;
- `shares`: each class may take its share of what is left of the capacity when the queue is served (the rest,
  people in no class, what the shares leave); what a class does not use then goes to everyone still waiting,
  first come, first served.

A class is a range of days of entry into the waiting state (`entered_before`, `entered_from`): claims lodged
before a date, say. The order needs each person's day of entry, so the compiler makes the source state of a
transition with an order other than `fifo` tracked (the part's `tracks`).

The mechanism, whole, in this folder:

    format.py      its part of the format: the `order` field of a transition, its checks, its words for the page
                   (`PART`; `refuge.scenario.extend` joins it into the format, and the JSON Schema follows)
    compile.py     its compile step: each transition's order and classes as arrays, made from the model
    declare.py     its declaration (`DECL`): those arrays, the run arrays it changes, its hooks
    step.py        its Numba steps: `set_aside` and `serve_aside`, the hooks the tracked units' step calls
    reference.py   the reference engine's twins, one unit object at a time

Outside the folder it is named twice: in the format's union (`refuge.scenario.extend.PARTS`) and in the day's
order of the mechanisms (`refuge.sim.layout.DAY`). `tests/test_mechanism_folder.py` holds it to that.

How the day runs it: during the pass over the tracked units (`refuge.sim.mechanisms.tracked.step`), a unit due
for an ordered transition is set aside instead of trying it (`set_aside`, through `refuge.sim.hooks`); after the
pass, the units set aside are served, each transition's in its order (`serve_aside`), with the same rule as
first come, first served: when the next one does not fit in what is left of the capacity, nobody else passes
that period. Those not served then try their constant-rate exits, as any blocked unit does; people the service
moved into a tracked state are met by a further pass the same day.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`DECL` loads on first use (and the Numba steps with it), so that the format (`format.py`) loads without
    the engine."""
    if name == "DECL":
        from refuge.sim.mechanisms.order.declare import DECL

        return DECL
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
