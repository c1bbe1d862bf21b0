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
transition with an order other than `fifo` tracked.

How the day runs it: during the pass over the tracked units (`refuge.sim.mechanisms.tracked.step`), a unit due
for an ordered transition is set aside instead of trying it (`waits_in_order`); after the pass, the units set
aside are served, each transition's in its order (`serve_queues`), with the same rule as first come, first
served: when the next one does not fit in what is left of the capacity, nobody else passes that period. Those
not served then try their constant-rate exits, as any blocked unit does; people the service moved into a
tracked state are met by a further pass the same day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from numba import njit

from refuge.sim.declare import Array, Mechanism
from refuge.sim.mechanisms.sites import NEVER
from refuge.sim.mechanisms.tracked.cohorts import serve_unit, serve_unit_reference
from refuge.sim.tables import BIG, U_ALIVE, U_DUE, U_DUETR, U_ENTRY

FIFO, LIFO, PRIORITY, SHARES = 0, 1, 2, 3
KINDS = {"fifo": FIFO, "lifo": LIFO, "priority": PRIORITY, "shares": SHARES}


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
            kind[j] = KINDS[order.kind]
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


def _derive(name: str) -> Any:
    def get(m: Any) -> np.ndarray:
        return compile_order(m)[name]

    return get


_SPEC = ("order_kind", "order_from", "order_ptr", "order_lo", "order_hi", "order_share")
DECL = Mechanism(
    "service order",
    spec=_SPEC,
    derive={name: _derive(name) for name in _SPEC},
    world=(Array("queued", "units", doc="tracked units set aside today for an ordered transition, as met"),
           Array("order_n", "1", doc="how many"),
           Array("class_left", "C1", doc="scratch: what each class may still take (shares)")),
    dims={"C1": lambda m: max(1, len(compile_order(m)["order_lo"]) + 1)},
)


@njit(cache=True)
def waits_in_order(t, i, j, m, w):
    """Whether unit `i`, due for transition `j` today, waits to be served in `j`'s order (it is set aside)."""
    if m.order_kind[j] == FIFO or t < m.order_from[j]:
        return False
    w.queued[w.order_n[0]] = i
    w.order_n[0] += 1
    return True


@njit(cache=True)
def serve_queues(t, m, w):
    """Serve the units set aside today, each ordered transition's in its order. Returns how many were set aside
    (they are `w.queued[:n]`, in the order met) and clears the list."""
    n = w.order_n[0]
    w.order_n[0] = 0
    for j in range(m.order_kind.shape[0]):
        kind = m.order_kind[j]
        if kind == FIFO or t < m.order_from[j]:
            continue
        if kind == LIFO:
            for q in range(n - 1, -1, -1):
                serve(t, w.queued[q], j, BIG, m, w)
        elif kind == PRIORITY:
            for c in range(m.order_ptr[j], m.order_ptr[j + 1] + 1):  # the last: people in no class
                for q in range(n):
                    if class_of(w.queued[q], j, m, w) == c:
                        serve(t, w.queued[q], j, BIG, m, w)
        else:
            serve_shares(t, j, n, m, w)
    return n


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
        i = w.queued[q]
        c = class_of(i, j, m, w) - lo
        if c >= 0 and w.class_left[c] > 0:
            w.class_left[c] -= serve(t, i, j, w.class_left[c], m, w)
    for q in range(n):
        serve(t, w.queued[q], j, BIG, m, w)


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


# --- the reference engine's step (refuge.sim.reference: the same, one unit object at a time) --------------------


def waits_in_order_reference(ref: Any, u: Any, t: int) -> bool:
    """Whether unit `u`, due today, waits to be served in its transition's order."""
    kind, first = ref.order["order_kind"][u.due_trans], ref.order["order_from"][u.due_trans]
    return bool(kind != FIFO and t >= first)


def serve_queues_reference(ref: Any, queued: list[Any], t: int) -> None:
    """Serve the units set aside today (in the order met), each ordered transition's in its order."""
    o = ref.order
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
    o, left = ref.order, ref.budget[j]
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
