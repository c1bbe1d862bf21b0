"""The table of tracked units: a unit enters with its drawn time in state, leaves with a completed stay, and
the table is compacted at the end of each day (keeping the order of entry)."""

from __future__ import annotations

from numba import njit

from refuge.sim.mechanisms.draws import draw
from refuge.sim.streams import DURATION
from refuge.sim.tables import (
    BIG,
    FULL,
    FULL_STAYS,
    FULL_UNITS,
    N_STAYS,
    N_UNITS,
    U_ALIVE,
    U_DUE,
    U_DUETR,
    U_ENTRY,
    U_SIZE,
    U_STATE,
)


@njit(cache=True)
def add_people(m, w, s, size, entry):
    """`size` people entering tracked state `s` on day `entry`: in a queue (`m.queued[s]`) they join the last
    row if it holds the same state's people who entered the same day and today's pass has not reached it yet
    (`w.fresh`: the first row not yet passed), so the queue is kept as counts per day of entry; otherwise a
    new unit (a person, or a group that moves together)."""
    k = w.count[N_UNITS] - 1
    if m.queued[s] and k >= w.fresh[0] and k >= 0:
        units = w.units
        if units[k, U_STATE] == s and units[k, U_ENTRY] == entry and units[k, U_ALIVE]:
            units[k, U_SIZE] += size
            return
    add_unit(m, w, s, size, entry)


@njit(cache=True)
def add_unit(m, w, s, size, entry):
    """A new unit of `size` people entering tracked state `s` on day `entry` (a full table: the run is made
    again with a bigger one)."""
    k = w.count[N_UNITS]
    if k == w.units.shape[0]:
        w.count[FULL] |= FULL_UNITS
        return
    new_unit(m, w, k, s, size, entry)
    w.count[N_UNITS] = k + 1


@njit(cache=True)
def new_unit(m, w, i, s, size, entry):
    """Row `i` of the unit table: people entering tracked state `s`, and the first of its timed exits."""
    units = w.units
    units[i, U_STATE] = s
    units[i, U_SIZE] = size
    units[i, U_ENTRY] = entry
    units[i, U_ALIVE] = 1
    due = BIG
    duetr = -1
    for q in range(m.out_ptr[s], m.out_ptr[s + 1]):
        j = m.out_trans[q]
        if m.tr_is_dur[j]:
            d = entry + draw(m, w, m.dec_trans[j, DURATION], m.tr_dur[j], w.pv[m.tr_dur_a[j]],
                             w.pv[m.tr_dur_b[j]], m.tr_dur_emp[j])
            if d < due:
                due = d
                duetr = j
    units[i, U_DUE] = due
    units[i, U_DUETR] = duetr


@njit(cache=True)
def record_stay(t, i, s, w):
    """Unit `i` left state `s` today: a completed stay."""
    record_part(t, i, s, w.units[i, U_SIZE], w)


@njit(cache=True)
def record_part(t, i, s, n, w):
    """`n` people of unit `i` left state `s` today: a completed stay of `n` people."""
    k = w.count[N_STAYS]
    if k == w.stays.shape[0]:
        w.count[FULL] |= FULL_STAYS
        return
    w.stays[k, 0] = s
    w.stays[k, 1] = w.units[i, U_ENTRY]
    w.stays[k, 2] = t
    w.stays[k, 3] = n
    w.count[N_STAYS] = k + 1


@njit(cache=True)
def record_units(t, m, w):
    """Drop units that left (keeping entry order) and note the longest ongoing stay per state."""
    units, max_stay = w.units, w.max_stay
    kept = 0
    for i in range(w.count[N_UNITS]):
        if units[i, U_ALIVE]:
            if kept != i:
                for c in range(units.shape[1]):
                    units[kept, c] = units[i, c]
            s = units[kept, U_STATE]
            d = t - units[kept, U_ENTRY]
            if d > max_stay[t, s]:
                max_stay[t, s] = d
            kept += 1
    w.count[N_UNITS] = kept
