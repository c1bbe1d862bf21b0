"""People kept one by one on the network: their rows, the day they next try to leave, their route choice."""

from __future__ import annotations

from numba import njit

from refuge.sim.mechanisms.network.lists import add_to_list
from refuge.sim.mechanisms.network.low import geometric0, nonneg, taper, taper_w, uniform
from refuge.sim.mechanisms.network.structs import BLOCKED, C_CHFREE, C_CHUSED, C_FREE, C_FULL, C_USED, QP


@njit(inline="always")
def wait_days(w, l):
    """Days before the next try to leave place `l`, with its daily move chance p (drawn only when p < 1):
    `geometric0`, whose comparisons for p >= 0.2 are here counted without a branch against the place's
    thresholds of the day (the same numbers: the thresholds fall, so the count is where the loop stops)."""
    p = w.mc[l]
    if p >= 1.0:
        return 0
    u = uniform(w.rng)
    if not p >= 0.2:
        return geometric0(u, p)
    k = 0
    for j in range(QP):
        k += u < w.qpow[l, j]
    if k < QP:
        return k
    q = 1.0 - p
    thr = w.qpow[l, QP - 1] * q
    while u < thr:
        k += 1
        thr *= q
    return k


@njit(inline="always")
def schedule(w, i, day, kind, T):
    """Person `i` into the list of events of `day` (kind 0: try to leave a place, 1: arrive at the end of a
    route); into none when that day is past the end of the run."""
    if day >= T:
        w.P[i].day = -1
        return
    w.P[i].day = day
    w.P[i].kind = kind
    add_to_list(w, i, day, kind)


@njit(inline="always")
def relist(t, w, T):
    """People at a place whose move chance changed today (`w.redraw`) draw their next try again (memoryless);
    then every day's lists from today on are made again from the people's days. A list only grows (nothing is
    taken out of the middle of a chunk), so taking people out means this; it happens only on the few days a
    move chance changes. It runs before the day's lists are taken, when every chunk in use belongs to a list of
    today or later: all are freed."""
    w.head[t:, :] = -1
    w.count[C_CHUSED] = 0
    w.count[C_CHFREE] = 0
    P = w.P
    for i in range(w.count[C_USED] - 1, -1, -1):  # so that each list runs in the order rows were taken
        if P[i].link == -2:
            continue
        if P[i].link == -1 and w.redraw[P[i].loc] and P[i].day != BLOCKED and P[i].way < 0:  # (on a way: tomorrow)
            P[i].day = t + wait_days(w, P[i].loc)
            P[i].kind = 0
            if P[i].day >= T:
                P[i].day = -1
        if P[i].day >= t:
            add_to_list(w, i, P[i].day, P[i].kind)


@njit(inline="always")
def rows_left(w, n):
    """Whether `n` more people fit in the person table; if not, the run is made again with a bigger one."""
    if w.count[C_USED] - w.count[C_FREE] + n <= w.P.shape[0]:
        return True
    w.count[C_FULL] = 1
    return False


@njit(inline="always")
def new_person(w, l, fresh, rday):
    """A row of the person table for someone at place `l` (a free one if any)."""
    c = w.count
    if c[C_FREE] > 0:
        c[C_FREE] -= 1
        i = nonneg(w.free[nonneg(c[C_FREE])])
    else:
        i = nonneg(c[C_USED])
        c[C_USED] += 1
    w.P[i].loc = l
    w.P[i].link = -1
    w.P[i].fresh = fresh
    w.P[i].recent = 0.0
    w.P[i].rday = rday
    w.P[i].made = rday + 1  # the day made + 1 (0: placed at the start)
    w.P[i].way = -1
    return i


@njit(inline="always")
def to_count(w, i, l, fresh):
    """Person `i` becomes one of the people counted at place `l`; its row is freed."""
    if fresh:
        w.cnt_fresh[l] += 1
    else:
        w.cnt_vet[l] += 1
    w.P[i].link = -2
    w.P[i].day = -1
    w.free[nonneg(w.count[C_FREE])] = i
    w.count[C_FREE] += 1


@njit(inline="always")
def changed(s, w, l, k, capbuf, capscale):
    """`k` people came to (or, negative, left) place `l`. Near its capacity taper (now, or before many left at
    once), the places with a route to it weigh their routes again (with look-ahead, the places with a way
    ending at it)."""
    w.people[l] += k
    if w.people[l] >= w.near[l] or w.people[l] - k >= w.near[l]:  # capbuf x capacity x capscale - 1 (none
        # without a capacity)
        for j in range(s.origin_ptr[l], s.origin_ptr[l + 1]):
            w.stale[nonneg(s.origins[nonneg(j)])] = True
        for j in range(s.adj_ptr[l], s.adj_ptr[l + 1]):
            w.stale[nonneg(s.link_to[nonneg(s.adj_link[nonneg(j)])])] = True


@njit(inline="always")
def choose_route(s, w, l, awareness, capbuf, capscale, wpow):
    """A route out of place `l` picked by weight: (its adjacency slot, whether it leads to a camp too full to
    set out for), or (-1, False) when no route is open. A place keeps its cumulative route weights (`cum` per
    adjacency slot, `tot`, `nopen`) until it is `stale`: scores, lengths or closures changed, or a route's end
    with room came near its taper."""
    adj_ptr, adj_link, closed, cum = s.adj_ptr, s.adj_link, w.closed, w.cum
    if w.stale[l]:
        capacity, people = w.capacity, w.people
        acc = 0.0
        n = 0
        for j in range(adj_ptr[l], adj_ptr[l + 1]):
            j = nonneg(j)
            k = nonneg(adj_link[j])
            if not closed[k]:
                n += 1
                wk = w.base[k]
                end = nonneg(s.link_to[k])
                if awareness != 0 and capacity[end] >= 0 and people[end] > capbuf * capacity[end] * capscale:
                    wk *= taper_w(people[end], capacity[end], capbuf, capscale, wpow)
                acc += wk
            cum[j] = acc
        w.tot[l] = acc
        w.nopen[l] = n
        w.stale[l] = False
    js = -1
    if w.nopen[l] > 0:
        if w.tot[l] > 0:
            # the first slot whose cumulative weight passes x: a closed route adds no weight, so that slot is
            # an open route (counted without a branch per slot, which the processor cannot guess)
            x = uniform(w.rng) * w.tot[l]
            j0, j1 = nonneg(adj_ptr[l]), adj_ptr[l + 1]
            below = 0
            for j in range(j0, j1):
                below += cum[nonneg(j)] <= x
            if below < j1 - j0:
                js = j0 + below
            else:  # rounding at the top end
                for j in range(adj_ptr[l + 1] - 1, adj_ptr[l] - 1, -1):
                    if not closed[adj_link[j]]:
                        js = j
                        break
        else:  # all weights zero: equal chances
            r = int(uniform(w.rng) * w.nopen[l])
            for j in range(adj_ptr[l], adj_ptr[l + 1]):
                if not closed[adj_link[j]]:
                    if r == 0:
                        js = j
                        break
                    r -= 1
    if js < 0:
        return js, False
    js = nonneg(js)
    end = nonneg(w.slot_to[js])
    return js, w.is_camp[end] and w.capacity[end] >= 0 and \
        taper(w.people[end], w.capacity[end], capbuf, capscale) < 0.5




# --- one day ------------------------------------------------------------------------------------------------
