"""Leaving places and arriving: people counted at a place, people one by one whose try is today, the day's
arrivals in the order their people were made."""

from __future__ import annotations

from numba import njit

from refuge.model.network import (
    MV_CAPBUF,
    MV_CAPSCALE,
    MV_SPEED,
    MV_WALK,
    MV_WPOW,
)
from refuge.sim.mechanisms.network.lists import sort_arrivals, take_list
from refuge.sim.mechanisms.network.low import nonneg, prefetch, taper, taper_w, uniform
from refuge.sim.mechanisms.network.people import (
    changed,
    choose_route,
    new_person,
    rows_left,
    schedule,
    to_count,
    wait_days,
)
from refuge.sim.mechanisms.network.structs import (
    AHEAD,
    BLOCKED,
    C_TRAVELLING,
    F_AWARENESS,
    F_KEEP,
    F_ON_FOOT,
    POOL_AFTER,
)
from refuge.sim.mechanisms.network.ways import choose_way, first_hop, full_camp, kern, next_hop, way_count, way_weight


@njit(inline="always")
def newcomers(w, l, n, t, T):
    """`n` people who have not travelled yet appear at place `l` today: counted in a camp, one by one elsewhere
    (trying to leave from today). False when the person table is full (the run is made again)."""
    if w.is_camp[l]:
        w.cnt_fresh[l] += n
        return True
    if not rows_left(w, n):
        return False
    for _ in range(n):
        i = new_person(w, l, True, t - 1)
        schedule(w, i, t + wait_days(w, l), 0, T)
    return True


@njit(inline="always")
def set_out(s, w, i, l, k, t, walk, moved, T):
    """Person `i` sets out from place `l` on route `k` at `walk_speed` (`walk`) or `speed`, `moved` km into the
    day; they arrive after the route's whole days at that speed."""
    w.P[i].link = k
    w.P[i].dep = t
    w.P[i].m0 = moved
    w.P[i].v = w.mv[MV_WALK] if walk else w.mv[MV_SPEED]
    schedule(w, i, t + (w.days_walk[k] if walk else w.days_speed[k]), 1, T)


@njit(inline="always")
def counted_leave(t, s, w):
    """People counted at a place (camps; people long kept from a full camp) leave by binomial draws, and take
    routes by multinomial ones."""
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    mv, closed, capacity, people, buf = w.mv, w.closed, w.capacity, w.people, w.buf
    capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
    awareness, on_foot = s.flags[F_AWARENESS], s.flags[F_ON_FOOT]
    adj_ptr, adj_link, link_to = s.adj_ptr, s.adj_link, s.link_to
    for l in range(L):
        if w.cnt_fresh[l] + w.cnt_vet[l] == 0:
            continue
        if awareness >= 2:
            if not counted_leave_ways(t, s, w, l, T):
                return
            continue
        m = 0
        for j in range(adj_ptr[l], adj_ptr[l + 1]):  # weights of the open routes out of l
            k = nonneg(adj_link[j])
            if closed[k]:
                continue
            wk = w.base[k]
            end = nonneg(link_to[k])
            if awareness != 0 and capacity[end] >= 0:
                wk *= taper_w(people[end], capacity[end], capbuf, capscale, wpow)
            buf[m] = wk
            m += 1
        if m == 0:
            continue
        wsum = 0.0
        for j in range(m):
            wsum += buf[j]
        for cls in range(2):
            stay = w.cnt_fresh[l] if cls == 0 else w.cnt_vet[l]
            leave = w.g.binomial(stay, w.mc[l]) if stay > 0 else 0
            if leave == 0:
                continue
            rest = wsum if wsum > 0 else float(m)
            jj = 0
            for j in range(adj_ptr[l], adj_ptr[l + 1]):
                k = nonneg(adj_link[j])
                if closed[k]:
                    continue
                wk = buf[jj] if wsum > 0 else 1.0
                jj += 1
                if leave == 0:
                    break
                go = leave if wk >= rest else w.g.binomial(leave, min(1.0, wk / rest))
                rest -= wk
                leave -= go
                end = nonneg(link_to[k])
                if go == 0 or (w.is_camp[end] and capacity[end] >= 0 and
                               taper(people[end], capacity[end], capbuf, capscale) < 0.5):
                    continue
                if cls == 0:
                    w.cnt_fresh[l] -= go
                else:
                    w.cnt_vet[l] -= go
                if not rows_left(w, go):
                    return
                changed(s, w, l, -go, capbuf, capscale)
                walk = cls == 0 and on_foot != 0
                for _ in range(go):
                    i = new_person(w, l, cls == 0, t - 1)
                    set_out(s, w, i, l, k, t, walk, 0.0, T)
                w.count[C_TRAVELLING] += go


@njit(inline="always")
def counted_leave_ways(t, s, w, l, T):
    """`counted_leave` with look-ahead: the leavers of place `l` take ways by multinomial draws. False when the
    person table is full."""
    capbuf, capscale, wpow = w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE], w.mv[MV_WPOW]
    kern(s, w, l)
    o0, o1 = nonneg(s.way_ptr[l]), nonneg(s.way_ptr[l + 1])
    m = 0.0
    wsum = 0.0
    for o in range(o0, o1):
        if not w.way_shut[o]:
            m += way_count(s, w, o)
            wsum += way_weight(s, w, o, capbuf, capscale, wpow)
    if m == 0.0:
        return True
    for cls in range(2):
        stay = w.cnt_fresh[l] if cls == 0 else w.cnt_vet[l]
        leave = w.g.binomial(stay, w.mc[l]) if stay > 0 else 0
        rest = wsum if wsum > 0 else m
        for o in range(o0, o1):
            if leave == 0:
                break
            if w.way_shut[o]:
                continue
            wk = way_weight(s, w, o, capbuf, capscale, wpow) if wsum > 0 else way_count(s, w, o)
            go = leave if wk >= rest else w.g.binomial(leave, min(1.0, wk / rest))
            rest -= wk
            leave -= go
            if go == 0 or full_camp(w, nonneg(s.way_end[o]), capbuf, capscale):
                continue
            if cls == 0:
                w.cnt_fresh[l] -= go
            else:
                w.cnt_vet[l] -= go
            if not rows_left(w, go):
                return False
            changed(s, w, l, -go, capbuf, capscale)
            walk = cls == 0 and s.flags[F_ON_FOOT] != 0
            for _ in range(go):
                i = new_person(w, l, cls == 0, t - 1)
                set_out(s, w, i, l, first_hop(s, w, i, o), t, walk, 0.0, T)
            w.count[C_TRAVELLING] += go
    return True


@njit(inline="always")
def tries(t, s, w):
    """People one by one whose try to leave is today: a route by weight, or they stay and try again."""
    T = w.head.shape[0] - 1
    mv = w.mv
    capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
    awareness, on_foot = s.flags[F_AWARENESS], s.flags[F_ON_FOOT]
    travelling = 0
    order = w.order
    n = take_list(w, t, 0)
    for j in range(n):
        if j + AHEAD < n:
            prefetch(w.P, order[j + AHEAD])
        i = nonneg(order[j])
        l = nonneg(w.P[i].loc)
        if w.P[i].way >= 0:  # on a way (look-ahead): its next route for sure, unless closed or it ends full
            k = next_hop(s, w, i, capbuf, capscale)
            if k >= 0:
                changed(s, w, l, -1, capbuf, capscale)
                set_out(s, w, i, l, k, t, w.P[i].fresh and on_foot != 0, 0.0, T)
                travelling += 1
            elif w.is_camp[l] and s.flags[F_KEEP] == 0:
                to_count(w, i, l, w.P[i].fresh)
            else:
                schedule(w, i, t + 1 + wait_days(w, l), 0, T)
            continue
        if awareness >= 2:
            o, full = choose_way(s, w, l, capbuf, capscale, wpow)
            k = o  # (the way's first route is drawn by first_hop)
        else:
            o = -1
            k, full = choose_route(s, w, l, awareness, capbuf, capscale, wpow)
            if k >= 0:
                k = nonneg(s.adj_link[k])
        if k >= 0 and not full:
            changed(s, w, l, -1, capbuf, capscale)
            if o >= 0:
                k = first_hop(s, w, i, o)
            set_out(s, w, i, l, k, t, w.P[i].fresh and on_foot != 0, 0.0, T)
            travelling += 1
        elif k >= 0 and t - w.P[i].rday >= POOL_AFTER:
            # kept from a full camp after resting long enough that their recent travel no longer matters:
            # they join the place's count (and leave by the daily binomial draw)
            to_count(w, i, l, w.P[i].fresh)
        elif k < 0:  # no open route: waits for one (`places_today` lets them try again)
            w.P[i].day = BLOCKED
            w.P[i].nxt = w.blocked[l]
            w.blocked[l] = i
        else:
            schedule(w, i, t + 1 + wait_days(w, l), 0, T)
    w.count[C_TRAVELLING] += travelling


@njit(inline="always")
def arrivals(t, s, w):
    """People whose route ends today arrive (or turn back from a route closed since they set out), and with
    part of the day's distance left decide again at once. They are taken by the day they were made (spawned,
    placed at the start, or out of a camp's count), oldest first, as Flee moves its agents in the order it made
    them: when a camp fills during the day, who gets there first decides who is turned away."""
    T = w.head.shape[0] - 1
    mv, km, half = w.mv, w.km, w.half
    S = mv[MV_SPEED]
    inv_s = 1.0 / S
    capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
    awareness = s.flags[F_AWARENESS]
    travelling = 0
    order, n = sort_arrivals(t, w)
    for j in range(n):
        if j + AHEAD < n:
            prefetch(w.P, order[j + AHEAD])
        i = nonneg(order[j])
        k = nonneg(w.P[i].link)
        d = w.P[i].dep
        v = w.P[i].v
        # recent travel as of last night, and km covered today
        r = w.P[i].recent * half[nonneg(min(max(d - 1 - w.P[i].rday, 0), 63))]
        if t == d:
            moved = w.P[i].m0 + km[k]
        else:
            r = (r + (w.P[i].m0 + v) * inv_s) * 0.5
            f = half[nonneg(min(t - d - 1, 63))]
            r = r * f + (v * inv_s) * (1.0 - f)
            moved = km[k] - (t - d) * v
        w.P[i].fresh = False
        w.P[i].link = -1
        travelling -= 1
        back = w.last_close[k] > d  # the route closed since they set out
        wait = 1
        if back and w.P[i].way >= 0:  # the way given up; the next day spent finding its route gone (Flee)
            w.P[i].way = -1
            wait = 2
        l = nonneg(s.link_from[k] if back else s.link_to[k])
        # A place passed through today is not counted in and out again: its count is read by no decision
        # of this person's (no route leads from a place to itself), and with it unchanged the routes' weights
        # kept by its neighbours stay right. The place where they stay is counted at the end.
        if not back:
            w.entered[t, l] += 1
        going = False
        if awareness >= 2:
            l, moved, going = onward_ways(t, s, w, i, l, r, moved, v, back, T)
            travelling += 1 if going else 0
        while awareness < 2 and not back and moved < v:
            chance = w.mc[l]
            if chance < 1.0 and not (w.short_left[l] and r + moved * inv_s < 1.0) and uniform(w.rng) >= chance:
                break  # stays (a town is left for sure after a short stint; a draw only when it is not sure)
            j2, full = choose_route(s, w, l, awareness, capbuf, capscale, wpow)
            if j2 < 0 or full:
                break
            v = S
            if w.slot_km[j2] < v:  # arrives today too: decides again there
                moved += w.slot_km[j2]
                l = nonneg(w.slot_to[j2])
                w.entered[t, l] += 1
                continue
            set_out(s, w, i, l, nonneg(s.adj_link[j2]), t, False, moved, T)
            travelling += 1
            w.P[i].recent, w.P[i].rday = r, t - 1
            going = True
            break
        w.P[i].loc = l
        if not going:
            # staying at l: recent travel as of tonight; a camp takes them as a count
            changed(s, w, l, 1, capbuf, capscale)
            w.P[i].recent, w.P[i].rday = (r + moved * inv_s) * 0.5, t
            if w.P[i].way >= 0:  # on a way: on along it tomorrow
                schedule(w, i, t + 1, 0, T)
            elif w.is_camp[l] and s.flags[F_KEEP] == 0:
                to_count(w, i, l, False)
            else:
                schedule(w, i, t + wait + wait_days(w, l), 0, T)
    w.count[C_TRAVELLING] += travelling



@njit(inline="always")
def onward_ways(t, s, w, i, l, r, moved, v, back, T):
    """`arrivals`' onward moves with look-ahead, for person `i` arrived at `l` with `moved` km of the day done at
    `v` km a day: on along their way for sure (unless its next route is closed or it ends at a full camp), else
    a new way by weight after the place's move chance. (place where they are, km moved, whether they set out)."""
    mv = w.mv
    S = mv[MV_SPEED]
    capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
    while not back and moved < v:
        if w.P[i].way >= 0:
            k2 = next_hop(s, w, i, capbuf, capscale)
            if k2 < 0:
                break
        else:
            chance = w.mc[l]
            if chance < 1.0 and not (w.short_left[l] and r + moved / S < 1.0) and uniform(w.rng) >= chance:
                break
            o, full = choose_way(s, w, l, capbuf, capscale, wpow)
            if o < 0 or full:
                break
            k2 = first_hop(s, w, i, o)
        v = S
        if w.km[k2] < v:  # arrives today too: goes on or decides again there
            moved += w.km[k2]
            l = nonneg(s.link_to[k2])
            w.entered[t, l] += 1
            continue
        set_out(s, w, i, l, k2, t, False, moved, T)
        w.P[i].recent, w.P[i].rday = r, t - 1
        return l, moved, True
    return l, moved, False


# --- into the run's arrays ------------------------------------------------------------------------------------
