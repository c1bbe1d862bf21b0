"""The service order's compile step: each transition's order (kind, first day) and its classes (days of entry,
shares) as arrays, made from the compiled model's scenario (`DECL` derives them; nothing in the compiler lists
them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from refuge.sim.tables import BIG

FIFO, LIFO, PRIORITY, SHARES = 0, 1, 2, 3
ORDER_KINDS = {"fifo": FIFO, "lifo": LIFO, "priority": PRIORITY, "shares": SHARES}
ARRAYS = ("order_kind", "order_from", "order_ptr", "order_lo", "order_hi", "order_share")


def _day(d: dt.date | None, m: Any, default: int) -> int:
    return default if d is None else (d - m.start).days


def compile_order(m: Any) -> dict[str, np.ndarray]:
    """Each transition's order (kind, first day) and its classes (entry days [lo, hi), share), from the model's
    scenario; every transition without an `order` serves first come, first served."""
    J = max(len(m.transition_names), 1)
    kind, first, ptr = np.zeros(J, np.int64), np.zeros(J, np.int64), [0]
    lo, hi, share = [], [], []
    for j, tr in enumerate(m.scenario.transitions):
        order = getattr(tr, "order", None)
        if order is not None:
            kind[j] = ORDER_KINDS[order.kind]
            first[j] = max(_day(order.start, m, 0), 0)
            for c in order.classes:
                lo.append(_day(c.entered_from, m, -int(BIG)))
                hi.append(_day(c.entered_before, m, int(BIG)))
                share.append(1.0 if c.share is None else float(c.share))
        ptr.append(len(lo))
    ptr += [len(lo)] * (J + 1 - len(ptr))
    return {"order_kind": kind, "order_from": first, "order_ptr": np.array(ptr, np.int64),
            "order_lo": np.array(lo or [0], np.int64), "order_hi": np.array(hi or [0], np.int64),
            "order_share": np.array(share or [0.0], np.float64)}


def derive(name: str) -> Any:
    """The function that makes the array `name` from a model (for the declaration's `derive`)."""
    def get(m: Any) -> np.ndarray:
        return compile_order(m)[name]

    return get
