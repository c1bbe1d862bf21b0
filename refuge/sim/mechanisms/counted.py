"""Counted states: a state whose exits are all constant rates holds a count, not people one by one. Of the `n`
people there at the start of the day, Binomial(n, 1 - exp(-sum of rates)) leave, split among the exits in
proportion to their rates (exits in declaration order). For a transition with a group size, that count is the
number of groups, each taking `min(size, available)` people, where `available` is the people there at the
start of the day who have not moved yet today; a transition without groups moves at most `available` people
(and, with a processing capacity, at most what is left of it)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from refuge.sim.declare import Array, Mechanism
from refuge.sim.mechanisms.draws import draw, multinomial, pick, split_probs
from refuge.sim.mechanisms.moves import admit_people, take, try_move
from refuge.sim.streams import GROUP, LEAVE, SPLIT
from refuge.sim.tables import FULL
from refuge.sim.variates import binomial

DECL = Mechanism(
    "counted states",
    spec=("tracked", "out_ptr", "out_trans"),
    world=(Array("hazard", "S", "f8", fill=-1.0, doc="total rate of the constant-rate exits of each state today"),
           Array("leave_p", "S", "f8", doc="chance that a person (or unit) there leaves by one of them today"),
           Array("tcounts", "J1", doc="scratch: leavers per exit of one state")),
)


@njit(cache=True)
def move_counted(t, m, w):
    """Every counted state with people, in declaration order."""
    for s in range(m.state_site.shape[0]):
        if not m.tracked[s] and w.n0[s] > 0:
            leave_counted(t, s, m, w)


@njit(cache=True)
def leave_counted(t, s, m, w):
    """Of the people there at the start of the day, each exit in turn takes Binomial(those not yet taken, its
    share of what is left of the chance to leave): together a multinomial split of Binomial(n, 1 - exp(-sum of
    rates)) leavers by rate, each exit's count drawn from its own transition's stream. Each exit then moves
    them one by one (as counts) or in groups."""
    lo, hi = m.out_ptr[s], m.out_ptr[s + 1]
    h = 0.0
    for q in range(lo, hi):
        h += max(w.pv[m.tr_rate[m.out_trans[q]]], 0.0)
    if h <= 0.0:
        return
    if h != w.hazard[s]:  # rates change only with schedules and rules
        w.hazard[s] = h
        w.leave_p[s] = 1.0 - math.exp(-h)
    exit_counts(s, w.n0[s], h, m, w)
    avail = w.n0[s]
    for q in range(lo, hi):
        k = w.tcounts[q - lo]
        if k == 0:
            continue
        j = m.out_trans[q]
        split_probs(m, w, j)
        if m.tr_grp[j] >= 0:
            avail = groups_leave(t, s, j, k, avail, m, w)
        else:
            avail = people_leave(t, s, j, k, avail, m, w)


@njit(cache=True)
def exit_counts(s, n, h, m, w):
    """Of `n` people of state `s`, each constant-rate exit in turn takes Binomial(those not yet taken, its share
    of what is left of the chance to leave), from its own transition's stream, into `w.tcounts` (a timed exit:
    0); `h` is the sum of the rates."""
    lo, hi = m.out_ptr[s], m.out_ptr[s + 1]
    left = n
    rest = 1.0  # the chance not yet given to an exit earlier in the list
    for q in range(lo, hi):
        j = m.out_trans[q]
        pq = 0.0 if m.tr_is_dur[j] else max(w.pv[m.tr_rate[j]], 0.0) / h * w.leave_p[s]
        k = 0
        if left > 0 and pq > 0.0:
            k = binomial(m, w, m.dec_trans[j, LEAVE], left, min(pq / rest, 1.0) if rest > 0.0 else 1.0)
        rest -= pq
        left -= k
        w.tcounts[q - lo] = k


@njit(cache=True)
def groups_leave(t, s, j, k, avail, m, w):
    """`k` groups set off by transition `j`, each of a drawn size (at most the people not yet moved today);
    a group that cannot get in waits where it was. Returns the people still available."""
    elo, ehi = m.tr_edge_lo[j], m.tr_edge_hi[j]
    for _ in range(k):
        if avail <= 0 or w.budget[j] <= 0 or w.count[FULL]:  # a full table: the run is made again
            break
        size = max(draw(m, w, m.dec_trans[j, GROUP], m.tr_grp[j], w.pv[m.tr_grp_a[j]],
                        w.pv[m.tr_grp_b[j]], m.tr_grp_emp[j]), 1)
        size = min(size, avail)
        if m.tr_cap[j] >= 0 and not m.whole[j]:
            size = min(size, w.budget[j])  # a processing step serves people: the rest of the group waits
        e = elo + pick(m, w, m.dec_trans[j, SPLIT], w.probs, ehi - elo)
        if try_move(t, s, size, j, e, m, w) >= 0:
            avail -= size
    return avail


@njit(cache=True)
def people_leave(t, s, j, k, avail, m, w):
    """`k` people (at most those not yet moved today) leave by transition `j`, split among its targets;
    per target as many as fit enter, then the redirect, the others wait. Returns the people still available."""
    elo, ehi = m.tr_edge_lo[j], m.tr_edge_hi[j]
    redir, redir_edge = m.tr_redir[j], m.tr_redir_edge[j]
    multinomial(m, w, m.dec_trans[j, SPLIT], min(k, avail, w.budget[j]), w.probs, ehi - elo, 1.0, w.ecounts)
    for e in range(elo, ehi):
        n = w.ecounts[e - elo]
        if n == 0:
            continue
        take(m, w, s, n)  # they leave first, freeing room in a shared site
        got = admit_people(m, w, m.edge_target[e], n, t, s)
        w.flows[t, e] += got
        if got < n and redir >= 0:
            got2 = admit_people(m, w, redir, n - got, t, s)
            w.flows[t, redir_edge] += got2
            got += got2
        take(m, w, s, got - n)  # the blocked wait where they were
        avail -= got
        w.budget[j] -= got
    return avail


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_counted(ref: Any, t: int) -> None:
    """Every counted state, in declaration order."""
    for s in range(len(ref.m.state_names)):
        if not ref.tracked[s]:
            counted_state(ref, s, t)


def counted_state(ref: Any, s: int, t: int) -> None:
    """Each person there since before today leaves with prob 1-exp(-sum of rates), by an exit picked by rate."""
    exits = ref.exits[s]
    rates = [ref.rate[j] for j in exits]
    h = sum(rates)
    if h <= 0:
        return
    members = np.flatnonzero((ref.p_state[:ref.n] == s) & (ref.p_entry[:ref.n] < t))
    d = ref.dec_state[s]
    leavers = members[ref.rng.uniforms(d, len(members)) < -math.expm1(-h)]
    if len(leavers) == 0:
        return
    choice = np.array([ref.pick(rates, d) for _ in leavers], np.int64)
    for q, j in enumerate(exits):
        initiators = leavers[choice == q]
        if len(initiators) and ref.tr[j].grp >= 0:
            groups_leave_reference(ref, s, j, members, initiators, t)
        elif len(initiators):
            people_leave_reference(ref, s, j, members, initiators, t)


def groups_leave_reference(ref: Any, s: int, j: int, members: np.ndarray, initiators: np.ndarray, t: int) -> None:
    """Each leaver sets off a group of min(size, people not yet moved today), themselves first if still here."""
    row = ref.tr[j]
    for who in initiators:
        pool = ref.here(members, s, t)
        if len(pool) == 0 or ref.budget[j] <= 0:
            return
        d = ref.dec_trans[j][GROUP]
        size = min(max(ref.draw(row.grp, row.grp_a, row.grp_b, row.grp_emp, d), 1), len(pool))
        if row.cap >= 0 and not ref.whole[j]:
            size = min(size, ref.budget[j])  # a processing step serves people: the rest of the group waits
        group = ref.gather(pool, ref.here(np.array([who]), s, t), size, d)
        ref.try_move(s, group, j, ref.pick_edge(j), t)


def people_leave_reference(ref: Any, s: int, j: int, members: np.ndarray, initiators: np.ndarray, t: int) -> None:
    """Leavers go one by one, each by its own split; one swept away in a group is replaced by another."""
    still = ref.here(initiators, s, t)
    movers = still
    if len(still) < len(initiators):
        pool = ref.here(members, s, t)
        movers = ref.gather(pool, still, min(len(initiators), len(pool)), ref.dec_trans[j][GROUP])
    movers = movers[:max(ref.budget[j], 0)]  # a processing capacity: the others wait
    edges = np.array([ref.pick_edge(j) for _ in movers], np.int64)
    for e in range(ref.tr[j].edge_lo, ref.tr[j].edge_hi):
        batch = movers[edges == e]
        if len(batch):
            batch_move(ref, s, batch, j, e, t)


def batch_move(ref: Any, s: int, batch: np.ndarray, j: int, e: int, t: int) -> None:
    """People of a counted state taking the same edge: all leave, as many as fit enter, the rest try the
    redirect, the rest wait where they were."""
    row = ref.tr[j]
    ref.vacate(s, len(batch))
    left = list(batch)
    for dest, edge in ((ref.edge_target[e], e), (row.redir, row.redir_edge)):
        while dest >= 0 and left and ref.room(dest, s) >= 1:
            ref.enter(np.array([left.pop(0)]), dest, t)
            ref.flows[t, edge] += 1
            ref.budget[j] -= 1
    ref.vacate(s, -len(left))
