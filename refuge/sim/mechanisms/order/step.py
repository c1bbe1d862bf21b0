"""The service order's Numba steps, the hooks the tracked units' step calls (`refuge.sim.hooks`): `set_aside`
(does a unit due today wait to be served in its transition's order?) and `serve_aside` (serve the units set
aside, each transition's in its order, through the same `serve_unit` as every other move of a tracked unit)."""

from __future__ import annotations

import numpy as np
from numba import njit

from refuge.sim.mechanisms.order.compile import FIFO, LIFO, PRIORITY
from refuge.sim.mechanisms.tracked.cohorts import serve_unit
from refuge.sim.tables import BIG, U_ALIVE, U_DUE, U_DUETR, U_ENTRY


@njit(cache=True)
def set_aside(t, i, j, m, w):
    """Whether unit `i`, due for transition `j` today, waits to be served in `j`'s order: if so the tracked step
    sets it aside (`w.aside`)."""
    return m.order_kind[j] != FIFO and t >= m.order_from[j]


@njit(cache=True)
def serve_aside(t, n, m, w):
    """Serve the units set aside today (`w.aside[:n]`, in the order met), each ordered transition's in its
    order."""
    for j in range(m.order_kind.shape[0]):
        kind = m.order_kind[j]
        if kind == FIFO or t < m.order_from[j]:
            continue
        if kind == LIFO:
            for q in range(n - 1, -1, -1):
                serve(t, w.aside[q], j, BIG, m, w)
        elif kind == PRIORITY:
            for c in range(m.order_ptr[j], m.order_ptr[j + 1] + 1):  # the last: people in no class
                for q in range(n):
                    if class_of(w.aside[q], j, m, w) == c:
                        serve(t, w.aside[q], j, BIG, m, w)
        else:
            serve_shares(t, j, n, m, w)


@njit(cache=True)
def serve_shares(t, j, n, m, w):
    """Each class takes up to its share of what is left of the capacity, first come, first served within the
    class; then what is left goes to everyone still waiting, first come, first served."""
    lo, hi = m.order_ptr[j], m.order_ptr[j + 1]
    left = w.budget[j]
    rest = 1.0
    for c in range(lo, hi):
        w.class_left[c - lo] = np.int64(np.floor(left * m.order_share[c] + 1e-9))
        rest -= m.order_share[c]
    w.class_left[hi - lo] = np.int64(np.floor(left * max(rest, 0.0) + 1e-9))
    for q in range(n):
        i = w.aside[q]
        c = class_of(i, j, m, w) - lo
        if c >= 0 and w.class_left[c] > 0:
            w.class_left[c] -= serve(t, i, j, w.class_left[c], m, w)
    for q in range(n):
        serve(t, w.aside[q], j, BIG, m, w)


@njit(cache=True)
def class_of(i, j, m, w):
    """The class of unit `i` in transition `j`'s order (an index of the class arrays; past the last: none)."""
    e = w.units[i, U_ENTRY]
    for c in range(m.order_ptr[j], m.order_ptr[j + 1]):
        if m.order_lo[c] <= e < m.order_hi[c]:
            return c
    return m.order_ptr[j + 1]


@njit(cache=True)
def serve(t, i, j, limit, m, w):
    """Unit `i`, if it is still waiting for transition `j`, tries it (at most `limit` of its people; by an edge
    picked by its split) while the capacity lasts (`refuge.sim.mechanisms.tracked.cohorts.serve_unit`).
    Returns the people moved."""
    if not w.units[i, U_ALIVE] or w.units[i, U_DUETR] != j or w.units[i, U_DUE] > t or w.budget[j] <= 0:
        return np.int64(0)
    return serve_unit(t, i, j, limit, m, w)
