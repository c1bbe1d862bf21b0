"""The network's day lists: per day, the people who try to leave and those who arrive, in chunks."""

from __future__ import annotations

from numba import njit

from refuge.sim.mechanisms.network.low import nonneg
from refuge.sim.mechanisms.network.structs import C_CHFREE, C_CHUSED, C_FULL, CH


@njit(inline="always")
def new_chunk(w):
    """A chunk for a day's list (a free one if any); -1 when none is left (the run is made again)."""
    c = w.count
    if c[C_CHFREE] > 0:
        c[C_CHFREE] -= 1
        return nonneg(w.ch_free[nonneg(c[C_CHFREE])])
    if c[C_CHUSED] < w.ch_n.size:
        c[C_CHUSED] += 1
        return c[C_CHUSED] - 1
    c[C_FULL] = 1
    return -1


@njit(inline="always")
def add_to_list(w, i, day, kind):
    """Person `i` into day `day`'s list of tries (kind 0) or arrivals (1, with the day they were made)."""
    row = 0 if kind == 0 else 1
    day = nonneg(day)
    m = w.P[i].made if kind != 0 else 0
    c = w.head[day, row]
    if c < 0 or w.ch_n[c] == CH:
        c2 = new_chunk(w)
        if c2 < 0:
            return
        w.ch_prev[c2] = c
        w.ch_n[c2] = 0
        w.head[day, row] = c2
        c = c2
    c = nonneg(c)
    e = nonneg(c * CH + w.ch_n[c])
    w.ent[e] = i
    w.ent_made[e] = m
    w.ch_n[c] += 1


@njit(inline="always")
def take_list(w, t, row):
    """Day `t`'s list of tries (row 0) or arrivals (1) into `w.order` (and their days made into
    `w.order_made`), newest first, as the day's people are handled; its chunks are freed. Returns its length."""
    n = 0
    c = w.head[t, row]
    w.head[t, row] = -1
    cnt = w.count
    while c >= 0:
        c = nonneg(c)
        base = c * CH
        for j in range(w.ch_n[c] - 1, -1, -1):
            e = nonneg(base + j)
            w.order[n] = w.ent[e]
            w.order_made[n] = w.ent_made[e]
            n += 1
        prev = w.ch_prev[c]
        w.ch_free[nonneg(cnt[C_CHFREE])] = c
        cnt[C_CHFREE] += 1
        c = prev
    return n


@njit(inline="always")
def sort_arrivals(t, w):
    """The people whose route ends on day `t`, newest in the list first, then put in order of the day each was
    made, oldest first, when they are not already (a counting sort over the days made found, which keeps the
    list's order among people made the same day): the array to take them from, and how many. One list a day,
    not one per day made and day: that table grew with the square of the days (6.8 GB for 80 years)."""
    n = take_list(w, t, 1)
    made = w.order_made
    if n == 0:
        return w.order, n
    lo, hi, before = made[0], made[0], made[0]
    in_order = True
    for j in range(n):
        lo = min(lo, made[j])
        hi = max(hi, made[j])
        in_order &= made[j] >= before
        before = made[j]
    if in_order:  # as it stands
        return w.order, n
    first = w.tally
    first[:hi - lo + 2] = 0
    for j in range(n):
        first[nonneg(made[j] - lo + 1)] += 1
    for m in range(1, hi - lo + 2):
        first[m] += first[m - 1]
    out = w.sorted_
    for j in range(n):
        b = nonneg(made[j] - lo)
        out[nonneg(first[b])] = w.order[j]
        first[b] += 1
    return out, n
