"""The service order's declaration: the arrays its steps read (made by its compile step), the run arrays it
changes, a dimension of its own, and its hooks into the tracked units' step (`refuge.sim.hooks`)."""

from __future__ import annotations

from refuge.sim.declare import Array, Mechanism
from refuge.sim.mechanisms.order.compile import ARRAYS, compile_order, derive
from refuge.sim.mechanisms.order.reference import serve_aside_reference, set_aside_reference
from refuge.sim.mechanisms.order.step import serve_aside, set_aside

DECL = Mechanism(
    "service order",
    spec=ARRAYS,
    derive={name: derive(name) for name in ARRAYS},
    world=(Array("class_left", "C1", doc="scratch: what each class may still take (shares)"),),
    dims={"C1": lambda m: max(1, len(compile_order(m)["order_lo"]) + 1)},
    set_aside=set_aside, serve_aside=serve_aside,
    set_aside_reference=set_aside_reference, serve_aside_reference=serve_aside_reference,
)
