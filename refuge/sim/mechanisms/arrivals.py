"""Arrivals and events: people entering the system over time. Groups still waiting to arrive from earlier days
try again first (oldest first); then each stream draws Poisson(rate) people (or groups of a drawn size) and
admits them; people who cannot get in wait and try again first the next day. An event (a known incident) is a
row of the same table that brings exactly one group on its day, from outside or taken from a counted state
(as many as are there)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from refuge.sim.declare import Array, Mechanism
from refuge.sim.mechanisms.draws import draw
from refuge.sim.mechanisms.moves import admit_people, group_dest, place, step_out
from refuge.sim.streams import ARRIVAL_GROUP, COUNT
from refuge.sim.tables import FULL, FULL_PEND, N_PEND
from refuge.sim.variates import poisson


def _backlog(w, m) -> np.ndarray:
    """People still waiting to arrive at the end, per stream: single people and waiting groups."""
    out = w.backlog.copy()
    pend = w.pend[: w.count[N_PEND]]
    np.add.at(out, pend[:, 0], pend[:, 1])
    return out


DECL = Mechanism(
    "arrivals",
    world=(Array("backlog", "A", doc="single people waiting to arrive, per stream"),
           Array("pend", "pend,2", doc="groups waiting to arrive: rows (stream, size), oldest first"),
           Array("arrived", "T,A", doc="record: people admitted by each stream each day")),
    results={"arrived": "arrived", "backlog": _backlog},
)


@njit(cache=True)
def admit_arrivals(t, m, w):
    retry_waiting_groups(t, m, w)
    for a in range(m.arr_target.shape[0]):
        arrive(t, a, m, w)


@njit(cache=True)
def retry_waiting_groups(t, m, w):
    """Groups that could not get in on earlier days try again, oldest first; those still shut out keep waiting."""
    kept = 0
    for q in range(w.count[N_PEND]):
        a, size = w.pend[q, 0], w.pend[q, 1]
        src = m.arr_from_state[a]
        if src >= 0:  # an event's group is taken from a state: as many as are still there
            size = min(size, w.n0[src])
            if size <= 0:
                continue  # nobody left to take: the event lapses
            step_out(m, w, src, size)
        dest = group_dest(m, w, m.arr_target[a], m.arr_redir[a], size, -1)
        if dest >= 0:
            place(m, w, dest, size, t)
            w.arrived[t, a] += size
        else:
            if src >= 0:
                step_out(m, w, src, -size)
            w.pend[kept] = w.pend[q]
            kept += 1
    w.count[N_PEND] = kept


@njit(cache=True)
def arrive(t, a, m, w):
    """Stream `a` today: Poisson(rate) new people or groups, plus single people still waiting from before.
    An event (`arr_exact`) brings exactly one group on its day, taken from its `from` state if it has one."""
    if t < m.arr_start[a] or t > m.arr_end[a]:
        k = w.backlog[a]
    elif m.arr_exact[a]:
        k = 1
    else:
        k = poisson(m, w, m.dec_arr[a, COUNT], max(w.pv[m.arr_rate[a]], 0.0)) + w.backlog[a]
    w.backlog[a] = 0
    if k == 0:
        return
    target, redir = m.arr_target[a], m.arr_redir[a]
    if m.arr_grp[a] < 0:
        got = admit_people(m, w, target, k, t, -1)
        if got < k and redir >= 0:
            got += admit_people(m, w, redir, k - got, t, -1)
        w.arrived[t, a] += got
        w.backlog[a] += k - got
        return
    for _ in range(k):
        size = max(draw(m, w, m.dec_arr[a, ARRIVAL_GROUP], m.arr_grp[a], w.pv[m.arr_grp_a[a]],
                        w.pv[m.arr_grp_b[a]], m.arr_grp_emp[a]), 1)
        arrive_group(t, a, size, m, w)


@njit(cache=True)
def arrive_group(t, a, size, m, w):
    """A new group of stream `a` (taken from the event's state, if it has one) gets in, or waits to try again."""
    src = m.arr_from_state[a]
    if src >= 0:  # an event's group is taken from a state: as many as are there
        size = min(size, w.n0[src])
        if size <= 0:
            return  # nobody there to take: the event lapses
        step_out(m, w, src, size)
    dest = group_dest(m, w, m.arr_target[a], m.arr_redir[a], size, -1)
    if dest >= 0:
        place(m, w, dest, size, t)
        w.arrived[t, a] += size
        return
    if src >= 0:
        step_out(m, w, src, -size)  # they wait where they were and try again tomorrow
    if w.count[N_PEND] == w.pend.shape[0]:
        w.count[FULL] |= FULL_PEND
    else:
        w.pend[w.count[N_PEND], 0] = a
        w.pend[w.count[N_PEND], 1] = size
        w.count[N_PEND] += 1


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_arrivals(ref: Any, t: int) -> None:
    """Waiting groups first, oldest first; then each stream's new people or groups."""
    waiting, ref.pending = ref.pending, []
    for a, size in waiting:  # groups turned away earlier go first, oldest first
        arrive_group_reference(ref, a, size, t)
    for a, row in enumerate(ref.ar):
        if not row.start <= t <= row.end:
            new = 0
        elif row.exact:  # an event: exactly one group on its day
            new = 1
        else:
            new = ref.poisson(max(ref.p[row.rate], 0.0), ref.dec_arr[a][COUNT])
        if row.grp < 0:
            k, ref.backlog[a] = new + ref.backlog[a], 0
            for _ in range(k):
                if not admit_new(ref, a, 1, t):
                    ref.backlog[a] += 1
        else:
            for _ in range(new):
                size = ref.draw(row.grp, row.grp_a, row.grp_b, row.grp_emp, ref.dec_arr[a][ARRIVAL_GROUP])
                arrive_group_reference(ref, a, max(size, 1), t)


def arrive_group_reference(ref: Any, a: int, size: int, t: int) -> None:
    """A group of stream `a` gets in, or waits to try again tomorrow."""
    if not admit_new(ref, a, size, t):
        ref.pending.append((a, size))


def admit_new(ref: Any, a: int, size: int, t: int) -> bool:
    """New people (one, or a group) into the stream's target, else its redirect; False if neither has room.
    An event with a `from` state takes its group from there (as many as are there, if fewer)."""
    src = ref.ar[a].from_state
    taken = np.zeros(0, np.int64)
    if src >= 0:
        taken = ref.here(np.flatnonzero(ref.p_state[:ref.n] == src), src, t)[:size]
        size = len(taken)
        if size == 0:
            return True  # nobody left there to take: the event lapses
        ref.vacate(src, size)
    for dest in (ref.ar[a].target, ref.ar[a].redir):
        if dest >= 0 and ref.room(dest, -1) >= size:
            ref.enter(taken if src >= 0 else ref.new_people(size), dest, t)
            ref.out["arrived"][t, a] += size
            return True
    if src >= 0:
        ref.vacate(src, -size)
    return False
