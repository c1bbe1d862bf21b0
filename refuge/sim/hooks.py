"""The hooks through which a mechanism takes part in another mechanism's step, joined from the declarations
(`refuge.sim.declare.Mechanism`) in the day's order (`refuge.sim.layout.MECHANISMS`), so that the step calls
them through one generic line and never names the mechanisms behind them.

Today one kind: the tracked units' step (`refuge.sim.mechanisms.tracked.step`) asks `set_aside` about each unit
due for a transition (whether a mechanism serves it in an order of its own: it is then set aside, its row in
`w.aside`), and after its pass calls `serve_aside` on the units set aside; the reference engine calls the
plain-Python twins. With no mechanism declaring them, nobody is set aside; with several, a unit goes to the
first that claims it, and each serves the units it claimed.
"""

from __future__ import annotations

from typing import Any

from numba import njit

from refuge.sim.layout import MECHANISMS


@njit(cache=True)
def _never(t, i, j, m, w):
    return False


@njit(cache=True)
def _nothing(t, n, m, w):
    return None


def _first_of(fns: list[Any]) -> Any:
    """One Numba function asking each of `fns` in turn (the first that says yes takes the unit)."""
    if not fns:
        return _never
    if len(fns) == 1:
        return fns[0]
    first, rest = fns[0], _first_of(fns[1:])

    @njit
    def either(t, i, j, m, w):
        return first(t, i, j, m, w) or rest(t, i, j, m, w)

    return either


def _each_of(fns: list[Any]) -> Any:
    """One Numba function calling each of `fns` in turn."""
    if not fns:
        return _nothing
    if len(fns) == 1:
        return fns[0]
    first, rest = fns[0], _each_of(fns[1:])

    @njit
    def both(t, n, m, w):
        first(t, n, m, w)
        rest(t, n, m, w)

    return both


set_aside = _first_of([mech.set_aside for mech in MECHANISMS if mech.set_aside is not None])
serve_aside = _each_of([mech.serve_aside for mech in MECHANISMS if mech.serve_aside is not None])
_ASIDE_REFERENCE = [mech.set_aside_reference for mech in MECHANISMS if mech.set_aside_reference is not None]
_SERVE_REFERENCE = [mech.serve_aside_reference for mech in MECHANISMS if mech.serve_aside_reference is not None]


def set_aside_reference(ref: Any, u: Any, t: int) -> bool:
    """Whether a mechanism serves unit `u` (due today) in an order of its own (the reference engine's twin)."""
    return any(fn(ref, u, t) for fn in _ASIDE_REFERENCE)


def serve_aside_reference(ref: Any, units: list[Any], t: int) -> None:
    """The mechanisms serve the units set aside today (in the order met), each those it claimed."""
    for fn in _SERVE_REFERENCE:
        fn(ref, units, t)
