"""The service order's reference steps: the twins of `step.py` for the reference engine
(`refuge.sim.reference`), one unit object at a time, sorted in plain Python."""

from __future__ import annotations

from typing import Any

import numpy as np

from refuge.sim.mechanisms.order.compile import ARRAYS, FIFO, LIFO, PRIORITY
from refuge.sim.mechanisms.sites import NEVER
from refuge.sim.mechanisms.tracked.cohorts import serve_unit_reference


def set_aside_reference(ref: Any, u: Any, t: int) -> bool:
    """Whether unit `u`, due today, waits to be served in its transition's order."""
    kind, first = ref.array("order_kind")[u.due_trans], ref.array("order_from")[u.due_trans]
    return bool(kind != FIFO and t >= first)


def serve_aside_reference(ref: Any, queued: list[Any], t: int) -> None:
    """Serve the units set aside today (in the order met), each ordered transition's in its order."""
    o = {name: ref.array(name) for name in ARRAYS}
    for j, kind in enumerate(o["order_kind"].tolist()):
        if kind == FIFO or t < o["order_from"][j]:
            continue
        mine = [u for u in queued if u.due_trans == j]
        classes = list(range(o["order_ptr"][j], o["order_ptr"][j + 1]))
        if kind == LIFO:
            order = mine[::-1]
        elif kind == PRIORITY:
            order = sorted(mine, key=lambda u: _class_reference(o, classes, u.entry))  # stable: fifo within
        else:
            _serve_shares_reference(ref, mine, j, classes, t)
            order = mine
        for u in order:
            _serve_reference(ref, u, j, t)


def _class_reference(o: dict, classes: list[int], entry: int) -> int:
    """Position of the first class whose entry days hold `entry`; len(classes): none."""
    for k, c in enumerate(classes):
        if o["order_lo"][c] <= entry < o["order_hi"][c]:
            return k
    return len(classes)


def _serve_shares_reference(ref: Any, mine: list[Any], j: int, classes: list[int], t: int) -> None:
    """First pass of `shares`: each class up to its share of the capacity left, first come, first served."""
    o, left = {name: ref.array(name) for name in ARRAYS}, ref.budget[j]
    shares = [float(o["order_share"][c]) for c in classes]
    quota = [int(np.floor(left * s + 1e-9)) for s in shares] + [int(np.floor(left * max(1.0 - sum(shares), 0.0)
                                                                                + 1e-9))]
    for u in mine:
        k = _class_reference(o, classes, u.entry)
        if quota[k] > 0:
            quota[k] -= _serve_reference(ref, u, j, t, quota[k])


def _serve_reference(ref: Any, u: Any, j: int, t: int, limit: int = NEVER) -> int:
    """Unit `u`, if still waiting for `j`, tries it (at most `limit` of its people) while the capacity lasts;
    each part that moves is a completed stay. Returns the people moved."""
    if not u.alive or ref.budget[j] <= 0:
        return 0
    return serve_unit_reference(ref, u, j, t, limit)
