"""The day of tracked units: in order of entry, a unit whose drawn time in state has come tries that
transition; otherwise (or if that move was blocked) each constant-rate exit competes. Units that entered today
do not move again unless their time is zero."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from refuge.model.codes import T_IS_DUR, T_RATE
from refuge.sim.hooks import serve_aside, serve_aside_reference, set_aside, set_aside_reference
from refuge.sim.mechanisms.sites import NEVER
from refuge.sim.mechanisms.tracked.cohorts import people_rate_leave, serve_unit, serve_unit_reference
from refuge.sim.streams import uniform
from refuge.sim.tables import BIG, N_UNITS, U_ALIVE, U_DUE, U_DUETR, U_ENTRY, U_STATE


@njit(cache=True)
def move_tracked(t, m, w):
    """Units in order of entry; units placed today are appended and reached in the same pass. A unit whose
    time in state has come tries that transition (or, when a mechanism serves that transition in an order of its
    own, is set aside and served by it after the pass: `refuge.sim.hooks`); otherwise (or if blocked) its state's
    constant-rate exits compete, unless it entered today."""
    rate_hazards(m, w)
    start = 0
    while True:
        end = sweep(t, start, m, w)
        n = w.aside_n[0]
        if n == 0:
            return
        w.aside_n[0] = 0
        serve_aside(t, n, m, w)  # each mechanism that set units aside serves them (refuge.sim.hooks)
        for q in range(n):  # those set aside and not served: as if blocked
            rate_leave(t, w.aside[q], m, w)
        start = end


@njit(cache=True)
def sweep(t, start, m, w):
    """Units from row `start` on, to the end of the table (which grows as units enter). Returns the end."""
    units = w.units
    i = start
    while i < w.count[N_UNITS]:
        w.fresh[0] = i + 1  # people entering a queue now do not join this row or one before it
        if units[i, U_ALIVE]:
            if units[i, U_DUE] <= t and units[i, U_DUETR] >= 0:
                if set_aside(t, i, units[i, U_DUETR], m, w):  # served after the pass (refuge.sim.hooks)
                    w.aside[w.aside_n[0]] = i
                    w.aside_n[0] += 1
                    i += 1
                    continue
                serve_unit(t, i, units[i, U_DUETR], BIG, m, w)  # all of it, or as far as the capacity goes
            rate_leave(t, i, m, w)  # those still here (not new today)
        i += 1
    return i


@njit(cache=True)
def rate_leave(t, i, m, w):
    """Unit `i`, still there and not new today, leaves by a constant-rate exit with today's chance (a queue's
    row: its people, as counts)."""
    units = w.units
    s = units[i, U_STATE]
    if not units[i, U_ALIVE] or units[i, U_ENTRY] == t or w.hazard[s] <= 0.0:
        return
    if m.queued[s]:
        people_rate_leave(t, i, m, w)
    elif uniform(m, w, m.dec_state[s]) < w.leave_p[s]:
        serve_unit(t, i, rate_exit(s, m, w), BIG, m, w)


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


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_tracked(ref: Any, t: int) -> None:
    """Units in order of entry; those entering today (appended as we go) move only if their time is zero. Units
    due for a transition a mechanism serves in an order of its own are set aside and served by it after each pass
    (`refuge.sim.hooks`)."""
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
            if u.alive and u.due <= t and u.due_trans >= 0 and set_aside_reference(ref, u, t):
                queued.append(i)
            elif u.alive and not (u.due <= t and u.due_trans >= 0 and fire_reference(ref, u, u.due_trans, t)):
                rate_leave(i, u)
            i += 1
        if not queued:
            break
        serve_aside_reference(ref, [ref.units[q] for q in queued], t)
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
    """Unit `u` tries transition `j` (split at its capacity unless it keeps groups whole); each part that moves
    is a completed stay. Returns whether all of it moved."""
    serve_unit_reference(ref, u, j, t, NEVER)
    return not u.alive
