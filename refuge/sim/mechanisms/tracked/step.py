"""The day of tracked units: in order of entry, a unit whose drawn time in state has come tries that
transition; otherwise (or if that move was blocked) each constant-rate exit competes. Units that entered today
do not move again unless their time is zero."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from refuge.model.codes import T_EDGE_HI, T_EDGE_LO, T_IS_DUR, T_RATE
from refuge.sim.mechanisms.draws import pick, split_probs
from refuge.sim.mechanisms.moves import try_move
from refuge.sim.mechanisms.order import serve_queues, serve_queues_reference, waits_in_order, waits_in_order_reference
from refuge.sim.mechanisms.tracked.units import record_stay
from refuge.sim.streams import SPLIT, uniform
from refuge.sim.tables import N_UNITS, U_ALIVE, U_DUE, U_DUETR, U_ENTRY, U_SIZE, U_STATE


@njit(cache=True)
def move_tracked(t, m, w):
    """Units in order of entry; units placed today are appended and reached in the same pass. A unit whose
    time in state has come tries that transition (or, for a transition with a service order, is set aside and
    served in that order after the pass); otherwise (or if blocked) its state's constant-rate exits compete,
    unless it entered today."""
    rate_hazards(m, w)
    start = 0
    while True:
        end = sweep(t, start, m, w)
        n = serve_queues(t, m, w)  # the service order (refuge.sim.mechanisms.order)
        if n == 0:
            return
        for q in range(n):  # those set aside and not served: as if blocked
            rate_leave(t, w.queued[q], m, w)
        start = end


@njit(cache=True)
def sweep(t, start, m, w):
    """Units from row `start` on, to the end of the table (which grows as units enter). Returns the end."""
    units = w.units
    i = start
    while i < w.count[N_UNITS]:
        if units[i, U_ALIVE]:
            s = units[i, U_STATE]
            moved = False
            if units[i, U_DUE] <= t and units[i, U_DUETR] >= 0:
                if waits_in_order(t, i, units[i, U_DUETR], m, w):
                    i += 1
                    continue
                moved = fire(t, i, units[i, U_DUETR], m, w)
            if moved:
                record_stay(t, i, s, w)
            else:
                rate_leave(t, i, m, w)
        i += 1
    return i


@njit(cache=True)
def rate_leave(t, i, m, w):
    """Unit `i`, still there and not new today, leaves by a constant-rate exit with today's chance."""
    units = w.units
    s = units[i, U_STATE]
    if units[i, U_ALIVE] and units[i, U_ENTRY] != t and w.hazard[s] > 0.0 \
            and uniform(m, w, m.dec_state[s]) < w.leave_p[s]:
        if fire(t, i, rate_exit(s, m, w), m, w):
            record_stay(t, i, s, w)


@njit(cache=True)
def rate_hazards(m, w):
    """Today's total hazard of the constant-rate exits of each tracked state, and the chance to leave by one."""
    for s in range(m.state_site.shape[0]):
        if not m.tracked[s]:
            continue
        h = 0.0
        for q in range(m.out_ptr[s], m.out_ptr[s + 1]):
            j = m.out_trans[q]
            if m.trans[j, T_IS_DUR] == 0:
                h += max(w.pv[m.trans[j, T_RATE]], 0.0)
        if h != w.hazard[s]:  # rates change only with schedules and rules
            w.hazard[s] = h
            w.leave_p[s] = 1.0 - math.exp(-h)


@njit(cache=True)
def rate_exit(s, m, w):
    """Which constant-rate exit of state `s` a leaving unit takes, picked by rate."""
    u = uniform(m, w, m.dec_state[s]) * w.hazard[s]
    acc = 0.0
    jj = -1
    for q in range(m.out_ptr[s], m.out_ptr[s + 1]):
        j = m.out_trans[q]
        if m.trans[j, T_IS_DUR] == 0:
            acc += max(w.pv[m.trans[j, T_RATE]], 0.0)
            jj = j
            if u < acc:
                break
    return jj


@njit(cache=True)
def fire(t, i, j, m, w):
    """Unit `i` tries transition `j` by an edge picked by its split. Returns whether it moved."""
    split_probs(m, w, j)
    e = m.trans[j, T_EDGE_LO] + pick(m, w, m.dec_trans[j, SPLIT], w.probs,
                                     m.trans[j, T_EDGE_HI] - m.trans[j, T_EDGE_LO])
    if try_move(t, w.units[i, U_STATE], w.units[i, U_SIZE], j, e, m, w, i) < 0:
        return False
    return True


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_tracked(ref: Any, t: int) -> None:
    """Units in order of entry; those entering today (appended as we go) move only if their time is zero. Units
    due for a transition with a service order are set aside and served in that order after each pass."""
    rates = [[ref.rate[j] for j in ex] for ex in ref.rate_exits]
    leave_p = [-math.expm1(-sum(r)) for r in rates]
    u_rand = unit_uniforms(ref)  # one for each unit already here: does a rate exit fire?

    def rate_leave(i: int, u: Any) -> None:
        if u.alive and u.entry < t and u_rand[i] < leave_p[u.state]:
            fire_reference(ref, u, ref.rate_exits[u.state][ref.pick(rates[u.state], ref.dec_state[u.state])], t)

    i = 0
    while True:
        queued = []
        while i < len(ref.units):
            u = ref.units[i]
            if u.alive and u.due <= t and u.due_trans >= 0 and waits_in_order_reference(ref, u, t):
                queued.append(i)
            elif u.alive and not (u.due <= t and u.due_trans >= 0 and fire_reference(ref, u, u.due_trans, t)):
                rate_leave(i, u)
            i += 1
        if not queued:
            break
        serve_queues_reference(ref, [ref.units[q] for q in queued], t)
        for q in queued:
            rate_leave(q, ref.units[q])
    ref.units = [u for u in ref.units if u.alive]


def unit_uniforms(ref: Any) -> list[float]:
    """A uniform for each unit in the table, from the stream of its state, in the order of the table."""
    states = np.array([u.state for u in ref.units], np.int64)
    out = np.zeros(len(states))
    for s in np.unique(states).tolist():
        at = states == s
        out[at] = ref.rng.uniforms(ref.dec_state[s], int(at.sum()))
    return out.tolist()


def fire_reference(ref: Any, u: Any, j: int, t: int) -> bool:
    """Unit `u` tries transition `j`; if it moves, its stay is recorded."""
    if not ref.try_move(u.state, u.members, j, ref.pick_edge(j), t):
        return False
    u.alive = False
    ref.stays.append((u.state, u.entry, t, len(u.members)))
    return True
