"""A processing step serves people: a unit due for a transition with a capacity is served as far as the
capacity goes, and what is left of it waits for the next period.

- A queue's row (`refuge.model.model.Model.queued`: everyone who entered the state on one day, kept as a
  count) is served person by person: each person picks a target by the split and is admitted if it has room
  (else the redirect, else they wait), and each one admitted takes one of the capacity, until the capacity
  or the row's people have all been tried. The people are tried in chunks of what the capacity has left, so
  the cost is a few draws a day whatever the number waiting.
- A unit of another tracked state (a group with a drawn time in state) bigger than what is left of the
  capacity sends as many as fit, together, and the rest of the group waits, unless the transition keeps
  groups whole (`whole: true`): then the group waits for a period with room for all of it, and nobody else
  passes that period (first come, first served).

A queue's people who are not served compete for its constant-rate exits as counts: Binomial(people, chance
to leave today), split among the exits by rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from refuge.sim.mechanisms.counted import exit_counts, people_leave
from refuge.sim.mechanisms.draws import multinomial, pick, split_probs
from refuge.sim.mechanisms.moves import admit_people, take, try_move
from refuge.sim.mechanisms.sites import room
from refuge.sim.mechanisms.tracked.units import record_part
from refuge.sim.streams import SPLIT
from refuge.sim.tables import U_ALIVE, U_SIZE, U_STATE


@njit(cache=True)
def serve_unit(t, i, j, limit, m, w):
    """Unit `i` tries transition `j` (at most `limit` of its people): a queue's row person by person, another
    unit as a group, split at the capacity unless `j` keeps groups whole. Returns the people moved (the unit
    is retired when all of it has gone)."""
    s, size = w.units[i, U_STATE], w.units[i, U_SIZE]
    if m.queued[s]:
        return serve_people(t, i, j, limit, m, w)
    part = size
    if size > limit:
        if m.whole[j]:
            return np.int64(0)
        part = limit
    if part > w.budget[j] > 0 and m.tr_cap[j] >= 0 and not m.whole[j]:
        part = w.budget[j]  # as many as the capacity has left go; the rest of the group waits
    split_probs(m, w, j)
    e = m.tr_edge_lo[j] + pick(m, w, m.dec_trans[j, SPLIT], w.probs, m.tr_edge_hi[j] - m.tr_edge_lo[j])
    if try_move(t, s, part, j, e, m, w, i if part == size else -1) < 0:
        return np.int64(0)
    record_part(t, i, s, part, w)
    if part < size:
        w.units[i, U_SIZE] = size - part
    return part


@njit(cache=True)
def serve_people(t, i, j, limit, m, w):
    """Up to `limit` people of queue row `i` try transition `j` one by one, while the capacity lasts. Returns
    the people moved."""
    s = w.units[i, U_STATE]
    left = min(w.units[i, U_SIZE], limit)
    elo, ehi = m.tr_edge_lo[j], m.tr_edge_hi[j]
    split_probs(m, w, j)
    moved = np.int64(0)
    while left > 0 and w.budget[j] > 0 and may_enter(s, j, m, w):
        n = min(left, w.budget[j])  # a chunk: even if all of them get in, nobody after them would have
        left -= n
        multinomial(m, w, m.dec_trans[j, SPLIT], n, w.probs, ehi - elo, 1.0, w.ecounts)
        for e in range(elo, ehi):
            k = w.ecounts[e - elo]
            if k > 0:
                got = enter_by(t, s, j, e, k, m, w)
                w.budget[j] -= got
                moved += got
    if moved > 0:
        record_part(t, i, s, moved, w)
        w.units[i, U_SIZE] -= moved
        if w.units[i, U_SIZE] == 0:
            w.units[i, U_ALIVE] = 0
    return moved


@njit(cache=True)
def may_enter(s, j, m, w):
    """Whether anyone leaving `s` by `j` could get in anywhere now (a target with a chance and room, or the
    redirect with room): if not, everyone who tries waits, and trying them one by one would change nothing."""
    redir = m.tr_redir[j]
    if redir >= 0 and room(m, w, redir, s) > 0:
        return True
    for e in range(m.tr_edge_lo[j], m.tr_edge_hi[j]):
        if w.probs[e - m.tr_edge_lo[j]] > 0.0 and room(m, w, m.edge_target[e], s) > 0:
            return True
    return False


@njit(cache=True)
def enter_by(t, s, j, e, k, m, w):
    """`k` people of state `s` take edge `e` of transition `j`: as many as fit enter its target, then the
    redirect; the others wait where they were. Returns how many moved."""
    take(m, w, s, k)  # they leave first, freeing room in a shared site
    got = admit_people(m, w, m.edge_target[e], k, t, s)
    w.flows[t, e] += got
    if got < k and m.tr_redir[j] >= 0:
        got2 = admit_people(m, w, m.tr_redir[j], k - got, t, s)
        w.flows[t, m.tr_redir_edge[j]] += got2
        got += got2
    take(m, w, s, got - k)
    return got


@njit(cache=True)
def people_rate_leave(t, i, m, w):
    """The people of queue row `i` (there since before today) leave by its constant-rate exits as counts, as
    a counted state's do: Binomial(people, today's chance), split among the exits by rate."""
    s = w.units[i, U_STATE]
    size = w.units[i, U_SIZE]
    exit_counts(s, size, w.hazard[s], m, w)
    lo, hi = m.out_ptr[s], m.out_ptr[s + 1]
    avail = size
    for q in range(lo, hi):
        if w.tcounts[q - lo] > 0:
            j = m.out_trans[q]
            split_probs(m, w, j)
            avail = people_leave(t, s, j, w.tcounts[q - lo], avail, m, w)
    if avail < size:
        record_part(t, i, s, size - avail, w)
        w.units[i, U_SIZE] = avail
        if avail == 0:
            w.units[i, U_ALIVE] = 0



# --- the reference engine's step (refuge.sim.reference: the same, one unit object at a time) --------------------


def serve_unit_reference(ref: Any, u: Any, j: int, t: int, limit: int) -> int:
    """Unit `u` tries transition `j` with at most `limit` of its people (a queue's units are people, one by
    one); a group bigger than what is left of the capacity sends that many, unless `j` keeps groups whole.
    Each part that moves is a completed stay. Returns the people moved."""
    size = len(u.members)
    part, row = min(size, limit), ref.tr[j]
    if part < size and ref.whole[j]:
        return 0
    if part > ref.budget[j] > 0 and row.cap >= 0 and not ref.whole[j]:
        part = ref.budget[j]
    if not ref.try_move(u.state, u.members[:part], j, ref.pick_edge(j), t):
        return 0
    ref.stays.append((u.state, u.entry, t, part))
    u.members = u.members[part:]
    u.alive = len(u.members) > 0
    return part
