"""Network movement: people move among locations (states) along routes, as Flee models flight to camps.

Semantics of one day `t` (shared with `refuge.engine.reference.simulate_network`, which does the same with
one object per person, and read from Flee's code at 02cd2cbd, which it follows where its summary differs):

1. **Places.** A location is a conflict zone on the days a `conflicts` entry covers it (intensity `c`, begun on
   day `b`), else a town or a camp. Its score is 1, x `foreign_weight` outside the home country, x
   `camp_weight` for a camp, x `conflict_weight ** (decay(t - b) * c)` for a conflict zone, where `decay` is
   the factor of the interval (`decay_interval` days) since the conflict began.
2. **Spawning.** `spawn[t]` new people appear at the conflict zones, spread multinomially in proportion to
   population x intensity x decay (the decay of day t-1 unless a conflict began on day t, as Flee refreshes
   its weights). They have not travelled yet.
3. **Closures.** A route closed today is not chosen; people already on it turn back on arrival.
4. **Decisions.** Everyone at a place (not on a route) leaves with the move chance of the place (conflict
   zone, town, camp, IDP camp) and picks a route out of it with weight
   `((weight_softening + score(end)) / (distance_softening + km) ** distance_power x taper(end)) ** weight_power`,
   where taper is 1 below `capacity_buffer` x room, 0 at the room (capacity x `capacity_scaling`) and linear
   in between. A camp whose taper is under 0.5 is not set out for (the person stays).
5. **Travel.** People on a route advance `speed` km a day (`walk_speed` on their first route when
   `start_on_foot`) and arrive once they have covered more than its length; whoever arrives with part of
   the day's distance left decides again at once (a town is left for sure when `avoid_short_stints` and the
   person's recent travel is short: (recent + km today / speed) / 2 < 0.5), and a new route starts with a
   full day's distance. `recent` halves each night and adds half the day's km / speed.

Cost grows with the people who move: camps hold counts (a camp's leavers are a binomial draw and their
routes a multinomial one); only people at other places or on routes are kept one by one, and a person
who settles in a camp becomes a count again.
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np
from numba import njit

from refuge.model.network import (CAMP, FORWARD, IDPCAMP, MV_CAMPW, MV_CAPBUF, MV_CAPSCALE, MV_CONFW, MV_DPOW, MV_DSOFT,
                                  MV_FOREIGNW, MV_MC_CAMP, MV_MC_CONFLICT, MV_MC_IDP, MV_MC_TOWN, MV_SPEED, MV_WALK,
                                  MV_WPOW, MV_WSOFT, NetModel)


@njit(cache=True)
def decay_factor(days_since, decay, interval):
    i = int(days_since / interval) if days_since >= 0 else 0
    return decay[min(i, decay.size - 1)]


@njit(cache=True)
def taper(people, capacity, buffer, scaling):
    """Flee's capacity multiplier: 1 below buffer x room, 0 at the room, linear in between (no room: 1)."""
    cap = capacity * scaling
    if cap < 1.0:
        return 1.0
    if people <= buffer * cap:
        return 1.0
    if people >= cap:
        return 0.0
    return 1.0 - (people - buffer * cap) / (cap * (1.0 - buffer))


@njit(cache=True)
def taper_w(people, capacity, buffer, scaling, power):
    f = taper(people, capacity, buffer, scaling)
    if power == 1.0 or f == 1.0:
        return f
    return f ** power


@njit(cache=True)
def geometric0(u, p):
    """Failures before the first success of daily trials with chance p, from a uniform u (huge when p is 0)."""
    if p >= 1.0:
        return 0
    if p <= 0.0:
        return 1 << 40
    q = 1.0 - p
    if p >= 0.2:  # a few comparisons beat a logarithm: P(k or more) = q ** k
        k = 0
        thr = q
        while u < thr:
            k += 1
            thr *= q
        return k
    return int(math.floor(math.log(1.0 - u) / math.log(q)))


@njit(cache=True)
def link_weights(loc, closed, adj_ptr, adj_link, link_to, base, people, capacity, capbuf, capscale, wpow,
                 awareness, out):
    """Weights of the open routes out of `loc` into out[:n]; returns n (0: nowhere to go)."""
    n = 0
    for j in range(adj_ptr[loc], adj_ptr[loc + 1]):
        k = adj_link[j]
        if closed[k]:
            continue
        w = base[k]
        end = link_to[k]
        if awareness != 0 and capacity[end] >= 0:
            w *= taper_w(people[end], capacity[end], capbuf, capscale, wpow)
        out[n] = w
        n += 1
    return n


POOL_AFTER = 8  # nights of rest after which recent travel (halved each night, now < 0.004) is taken as 0


# People not counted in a place are kept one by one in columns of a fixed size (everyone who can ever be in
# the network), so that no array is ever reallocated inside the loop: loc (place, or the start of the route
# while travelling), link (-1 at a place, -2 a free slot), fresh (no route completed yet), recent and rday
# (recent travel as of the end of day rday), dep (day set out), m0 (km already covered that day), v (km a day
# on this route). Each person is in at most one day's list of events (doubly linked through ev_next/ev_prev):
# kind 0 = try to leave a place that day, 1 = arrive at the end of the route that day.


@njit(cache=True, error_model="numpy")
def network_kernel(days, pbase, loc_kind, loc_foreign, loc_pop, loc_cap, link_from, link_to, link_km, adj_ptr,
                   adj_link, link_closed, conflict, conflict_start, spawn, spawn_time, decay, decay_interval,
                   move, start_on_foot, avoid_short, awareness, initial, g):
    """Run the network for `days` days. Returns (people at each location at the end of each day, people on
    routes, people entering each location (arriving or spawned), people spawned).

    People at a place are visited only on the day they next try to leave (a geometric draw from the place's
    move chance, drawn again when that chance changes), and people on a route only on the day they arrive,
    so the cost grows with the moves, not with people x days."""
    L = loc_kind.size
    K = link_from.size
    T = days
    N = initial.sum() + spawn[:T].sum() + 1
    is_camp = (loc_kind == CAMP) | (loc_kind == IDPCAMP)
    cnt_fresh = np.zeros(L, np.int64)  # people counted at a place: not travelled yet ...
    cnt_vet = np.zeros(L, np.int64)    # ... and travelled
    people = np.zeros(L, np.float64)   # everyone at each place (counted or one by one)
    # closures: a route closing on a day turns back those on it; the next day each place has an open route
    closing = np.zeros((T + 1, K), np.int64)
    for k in range(K):
        acc = 0
        for t in range(T):
            if link_closed[t, k] and (t == 0 or not link_closed[t - 1, k]):
                acc += 1
            closing[t + 1, k] = acc
    next_open = np.full((T + 1, L), T, np.int64)
    for t in range(T - 1, -1, -1):
        for l in range(L):
            next_open[t, l] = next_open[t + 1, l]
            for j in range(adj_ptr[l], adj_ptr[l + 1]):
                if not link_closed[t, adj_link[j]]:
                    next_open[t, l] = t
                    break
    p_loc = np.zeros(N, np.int64)
    p_link = np.full(N, -2, np.int64)
    p_fresh = np.zeros(N, np.bool_)
    p_recent = np.zeros(N, np.float64)
    p_rday = np.zeros(N, np.int64)
    p_dep = np.zeros(N, np.int64)
    p_m0 = np.zeros(N, np.float64)
    p_v = np.zeros(N, np.float64)
    ev_day = np.full(N, -1, np.int64)
    ev_kind = np.zeros(N, np.int64)
    ev_next = np.full(N, -1, np.int64)
    ev_prev = np.full(N, -1, np.int64)
    head = np.full((2, T + 1), -1, np.int64)
    free = np.zeros(N, np.int64)
    n_free = 0
    n = 0

    stocks = np.zeros((T, L), np.int64)
    on_routes = np.zeros(T, np.int64)
    entered = np.zeros((T, L), np.int64)
    spawned = np.zeros(T, np.int64)
    score = np.ones(L)
    mc = np.zeros(L)
    mc_prev = np.full(L, -1.0)
    capacity = np.full(L, -1.0)
    km = np.zeros(K)
    mv = np.zeros(move.size)
    closed = np.zeros(K, np.bool_)
    buf = np.zeros(max(K, 1))
    base = np.zeros(K)
    cum = np.zeros(max(K, 1))      # cumulative route weights per adjacency slot
    tot = np.zeros(L)
    nopen = np.zeros(L, np.int64)
    stale = np.ones(L, np.bool_)
    wts = np.zeros(L)
    half = np.zeros(64)  # 0.5 ** n (0 from 63 on: below any recent travel that matters)
    for j in range(63):
        half[j] = 0.5 ** j
    travelling = 0
    for l in range(L):
        people[l] = initial[l]
    for t in range(T):
        pv = pbase[t]
        for i in range(move.size):
            mv[i] = pv[move[i]]
        for k in range(K):
            km[k] = pv[link_km[k]]
            closed[k] = link_closed[t, k]
        S = mv[MV_SPEED]
        capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
        # 1. places: score and move chance
        for l in range(L):
            capacity[l] = pv[loc_cap[l]] if loc_cap[l] >= 0 else -1.0
            s = 1.0
            if loc_foreign[l]:
                s *= mv[MV_FOREIGNW]
            if is_camp[l]:
                s *= mv[MV_CAMPW]
            c = conflict[t, l]
            if c > 0:
                s *= mv[MV_CONFW] ** (decay_factor(t - conflict_start[t, l], decay, decay_interval) * c)
                mc[l] = mv[MV_MC_CONFLICT]
            elif loc_kind[l] == CAMP:
                mc[l] = mv[MV_MC_CAMP]
            elif loc_kind[l] == IDPCAMP:
                mc[l] = mv[MV_MC_IDP]
            elif loc_kind[l] == FORWARD:
                mc[l] = 1.0
            else:
                mc[l] = mv[MV_MC_TOWN]
            score[l] = s
        for k in range(K):
            if awareness == 0:
                base[k] = 1.0
            else:
                base[k] = ((mv[MV_WSOFT] + score[link_to[k]]) / (mv[MV_DSOFT] + km[k]) ** mv[MV_DPOW]) \
                    ** mv[MV_WPOW]
        stale[:] = True  # scores, lengths and closures are today's
        if t == 0:  # people placed at the start: counted in camps, one by one elsewhere
            for l in range(L):
                if is_camp[l]:
                    cnt_fresh[l] = initial[l]
                    continue
                for _ in range(initial[l]):
                    if n_free > 0:
                        n_free -= 1
                        i = free[n_free]
                    else:
                        i = n
                        n += 1
                    p_loc[i], p_link[i], p_fresh[i], p_recent[i], p_rday[i] = l, -1, True, 0.0, -1
                    day = t + geometric0(g.random(), mc[l])
                    if day < T:  # into the list of that day (try to leave)
                        ev_day[i], ev_kind[i] = day, 0
                        h_ = head[0, day]
                        ev_next[i], ev_prev[i] = h_, -1
                        if h_ >= 0:
                            ev_prev[h_] = i
                        head[0, day] = i
                    else:
                        ev_day[i] = -1
        # a place whose move chance changed: its people draw their next try again (memoryless)
        for l in range(L):
            if t > 0 and not is_camp[l] and mc[l] != mc_prev[l]:
                for i in range(n):
                    if p_link[i] != -1 or p_loc[i] != l:
                        continue
                    if ev_day[i] >= 0:  # out of its list
                        if ev_prev[i] >= 0:
                            ev_next[ev_prev[i]] = ev_next[i]
                        else:
                            head[ev_kind[i], ev_day[i]] = ev_next[i]
                        if ev_next[i] >= 0:
                            ev_prev[ev_next[i]] = ev_prev[i]
                    day = t + geometric0(g.random(), mc[l])
                    if day < T:  # into the list of that day (try to leave)
                        ev_day[i], ev_kind[i] = day, 0
                        h_ = head[0, day]
                        ev_next[i], ev_prev[i] = h_, -1
                        if h_ >= 0:
                            ev_prev[h_] = i
                        head[0, day] = i
                    else:
                        ev_day[i] = -1
            mc_prev[l] = mc[l]
        # 2. spawning
        if spawn[t] > 0:
            ts = spawn_time[t]
            total = 0.0
            for l in range(L):
                c = conflict[ts, l] if conflict[t, l] > 0 else 0.0
                wts[l] = pv[loc_pop[l]] * c * decay_factor(ts - conflict_start[ts, l], decay, decay_interval) \
                    if c > 0 else 0.0
                total += wts[l]
            left = spawn[t] if total > 0 else 0
            rest = total
            for l in range(L):
                if left == 0:
                    break
                if wts[l] <= 0:
                    continue
                k_l = left if wts[l] >= rest else g.binomial(left, min(1.0, wts[l] / rest))
                rest -= wts[l]
                if k_l == 0:
                    continue
                left -= k_l
                spawned[t] += k_l
                entered[t, l] += k_l
                people[l] += k_l
                if capacity[l] >= 0 and people[l] >= capbuf * capacity[l] * capscale - 1.0:
                    for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                        stale[link_to[adj_link[j_]]] = True
                if is_camp[l]:
                    cnt_fresh[l] += k_l
                    continue
                for _ in range(k_l):
                    if n_free > 0:
                        n_free -= 1
                        i = free[n_free]
                    else:
                        i = n
                        n += 1
                    p_loc[i], p_link[i], p_fresh[i], p_recent[i], p_rday[i] = l, -1, True, 0.0, t - 1
                    day = t + geometric0(g.random(), mc[l])
                    if day < T:  # into the list of that day (try to leave)
                        ev_day[i], ev_kind[i] = day, 0
                        h_ = head[0, day]
                        ev_next[i], ev_prev[i] = h_, -1
                        if h_ >= 0:
                            ev_prev[h_] = i
                        head[0, day] = i
                    else:
                        ev_day[i] = -1
        # 3. decisions: people counted at a place (camps; people long kept from a full camp) by binomial draws
        for l in range(L):
            if cnt_fresh[l] + cnt_vet[l] == 0:
                continue
            m = link_weights(l, closed, adj_ptr, adj_link, link_to, base, people, capacity, capbuf, capscale, wpow,
                             awareness, buf)
            if m == 0:
                continue
            wsum = 0.0
            for j in range(m):
                wsum += buf[j]
            for cls in range(2):
                stay = cnt_fresh[l] if cls == 0 else cnt_vet[l]
                leave = g.binomial(stay, mc[l]) if stay > 0 else 0
                if leave == 0:
                    continue
                rest = wsum if wsum > 0 else float(m)
                jj = 0
                for j in range(adj_ptr[l], adj_ptr[l + 1]):
                    k = adj_link[j]
                    if closed[k]:
                        continue
                    w = buf[jj] if wsum > 0 else 1.0
                    jj += 1
                    if leave == 0:
                        break
                    go = leave if w >= rest else g.binomial(leave, min(1.0, w / rest))
                    rest -= w
                    leave -= go
                    end = link_to[k]
                    if go == 0 or (is_camp[end] and capacity[end] >= 0 and
                                   taper(people[end], capacity[end], capbuf, capscale) < 0.5):
                        continue
                    if cls == 0:
                        cnt_fresh[l] -= go
                    else:
                        cnt_vet[l] -= go
                    people[l] -= go
                    if capacity[l] >= 0 and people[l] >= capbuf * capacity[l] * capscale - 1.0:
                        for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                            stale[link_to[adj_link[j_]]] = True
                    v = mv[MV_WALK] if (cls == 0 and start_on_foot) else S
                    for _ in range(go):
                        if n_free > 0:
                            n_free -= 1
                            i = free[n_free]
                        else:
                            i = n
                            n += 1
                        p_loc[i], p_fresh[i], p_recent[i], p_rday[i] = l, cls == 0, 0.0, t - 1
                        p_link[i], p_dep[i], p_m0[i], p_v[i] = k, t, 0.0, v
                        travelling += 1
                        day = t + int(math.floor(km[k] / v))
                        if day < T:  # into the list of that day (arrive)
                            ev_day[i], ev_kind[i] = day, 1
                            h_ = head[1, day]
                            ev_next[i], ev_prev[i] = h_, -1
                            if h_ >= 0:
                                ev_prev[h_] = i
                            head[1, day] = i
                        else:
                            ev_day[i] = -1
        # ... and people one by one whose try is today
        i = head[0, t]
        while i >= 0:
            nxt_i = ev_next[i]
            l = p_loc[i]
            # route choice, written out (a helper taking these arrays costs more than the choice); the cumulative
            # weights of a place are kept until a route's end with room changes occupancy near its taper
            if stale[l]:
                acc_ = 0.0
                n_ = 0
                for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                    k_ = adj_link[j_]
                    if not closed[k_]:
                        n_ += 1
                        w_ = base[k_]
                        end_ = link_to[k_]
                        if awareness != 0 and capacity[end_] >= 0 and people[end_] > capbuf * capacity[end_] * capscale:
                            w_ *= taper_w(people[end_], capacity[end_], capbuf, capscale, wpow)
                        acc_ += w_
                    cum[j_] = acc_
                tot[l] = acc_
                nopen[l] = n_
                stale[l] = False
            k = -1
            if nopen[l] > 0:
                if tot[l] > 0:
                    x_ = g.random() * tot[l]
                    for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                        if cum[j_] > x_ and not closed[adj_link[j_]]:
                            k = adj_link[j_]
                            break
                    if k < 0:  # rounding at the top end
                        for j_ in range(adj_ptr[l + 1] - 1, adj_ptr[l] - 1, -1):
                            if not closed[adj_link[j_]]:
                                k = adj_link[j_]
                                break
                else:  # all weights zero: equal chances
                    r_ = int(g.random() * nopen[l])
                    for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                        if not closed[adj_link[j_]]:
                            if r_ == 0:
                                k = adj_link[j_]
                                break
                            r_ -= 1
            full_ = k >= 0 and is_camp[link_to[k]] and capacity[link_to[k]] >= 0 and \
                taper(people[link_to[k]], capacity[link_to[k]], capbuf, capscale) < 0.5
            if k >= 0 and not full_:
                v = mv[MV_WALK] if (p_fresh[i] and start_on_foot) else S
                p_link[i], p_dep[i], p_m0[i], p_v[i] = k, t, 0.0, v
                people[l] -= 1
                if capacity[l] >= 0 and people[l] >= capbuf * capacity[l] * capscale - 1.0:
                    for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                        stale[link_to[adj_link[j_]]] = True
                travelling += 1
                day = t + int(math.floor(km[k] / v))
                if day < T:  # into the list of that day (arrive)
                    ev_day[i], ev_kind[i] = day, 1
                    h_ = head[1, day]
                    ev_next[i], ev_prev[i] = h_, -1
                    if h_ >= 0:
                        ev_prev[h_] = i
                    head[1, day] = i
                else:
                    ev_day[i] = -1
            elif k >= 0 and t - p_rday[i] >= POOL_AFTER:
                # kept from a full camp after resting long enough that their recent travel no longer matters:
                # they join the place's count (and leave by the daily binomial draw)
                if p_fresh[i]:
                    cnt_fresh[l] += 1
                else:
                    cnt_vet[l] += 1
                p_link[i] = -2
                ev_day[i] = -1
                free[n_free] = i
                n_free += 1
            else:
                nxt = next_open[t + 1, l] if k < 0 else t + 1
                day = nxt + geometric0(g.random(), mc[l]) if nxt < T else T
                if day < T:  # into the list of that day (try to leave)
                    ev_day[i], ev_kind[i] = day, 0
                    h_ = head[0, day]
                    ev_next[i], ev_prev[i] = h_, -1
                    if h_ >= 0:
                        ev_prev[h_] = i
                    head[0, day] = i
                else:
                    ev_day[i] = -1
            i = nxt_i
        # 4. arrivals today, with further decisions on arrival
        i = head[1, t]
        while i >= 0:
            nxt_i = ev_next[i]
            k = p_link[i]
            d = p_dep[i]
            v = p_v[i]
            # recent travel as of last night, and km covered today
            r = p_recent[i] * half[min(max(d - 1 - p_rday[i], 0), 63)]
            if t == d:
                moved = p_m0[i] + km[k]
            else:
                r = (r + (p_m0[i] + v) / S) / 2.0
                f = half[min(t - d - 1, 63)]
                r = r * f + (v / S) * (1.0 - f)
                moved = km[k] - (t - d) * v
            p_fresh[i] = False
            p_link[i] = -1
            travelling -= 1
            back = closing[t + 1, k] - closing[d + 1, k] > 0
            l = link_from[k] if back else link_to[k]
            p_loc[i] = l
            people[l] += 1
            if capacity[l] >= 0 and people[l] >= capbuf * capacity[l] * capscale - 1.0:
                for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                    stale[link_to[adj_link[j_]]] = True
            if not back:
                entered[t, l] += 1
            going = False
            while not back and moved < v:
                chance = mc[l]
                if avoid_short and not is_camp[l] and conflict[t, l] <= 0 and (r + moved / S) / 2.0 < 0.5:
                    chance = 1.0
                if g.random() >= chance:
                    break
                # route choice, written out (a helper taking these arrays costs more than the choice); the cumulative
                # weights of a place are kept until a route's end with room changes occupancy near its taper
                if stale[l]:
                    acc_ = 0.0
                    n_ = 0
                    for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                        k_ = adj_link[j_]
                        if not closed[k_]:
                            n_ += 1
                            w_ = base[k_]
                            end_ = link_to[k_]
                            if awareness != 0 and capacity[end_] >= 0 and people[end_] > capbuf * capacity[end_] * capscale:
                                w_ *= taper_w(people[end_], capacity[end_], capbuf, capscale, wpow)
                            acc_ += w_
                        cum[j_] = acc_
                    tot[l] = acc_
                    nopen[l] = n_
                    stale[l] = False
                k2 = -1
                if nopen[l] > 0:
                    if tot[l] > 0:
                        x_ = g.random() * tot[l]
                        for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                            if cum[j_] > x_ and not closed[adj_link[j_]]:
                                k2 = adj_link[j_]
                                break
                        if k2 < 0:  # rounding at the top end
                            for j_ in range(adj_ptr[l + 1] - 1, adj_ptr[l] - 1, -1):
                                if not closed[adj_link[j_]]:
                                    k2 = adj_link[j_]
                                    break
                    else:  # all weights zero: equal chances
                        r_ = int(g.random() * nopen[l])
                        for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                            if not closed[adj_link[j_]]:
                                if r_ == 0:
                                    k2 = adj_link[j_]
                                    break
                                r_ -= 1
                full_ = k2 >= 0 and is_camp[link_to[k2]] and capacity[link_to[k2]] >= 0 and \
                    taper(people[link_to[k2]], capacity[link_to[k2]], capbuf, capscale) < 0.5
                if k2 < 0 or full_:
                    break
                people[l] -= 1
                if capacity[l] >= 0 and people[l] >= capbuf * capacity[l] * capscale - 1.0:
                    for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                        stale[link_to[adj_link[j_]]] = True
                v = S
                if km[k2] < v:  # arrives today too: decides again there
                    moved += km[k2]
                    l = link_to[k2]
                    people[l] += 1
                    if capacity[l] >= 0 and people[l] >= capbuf * capacity[l] * capscale - 1.0:
                        for j_ in range(adj_ptr[l], adj_ptr[l + 1]):
                            stale[link_to[adj_link[j_]]] = True
                    entered[t, l] += 1
                    p_loc[i] = l
                    continue
                p_link[i], p_dep[i], p_m0[i], p_v[i] = k2, t, moved, v
                p_recent[i], p_rday[i] = r, t - 1
                travelling += 1
                day = t + int(math.floor(km[k2] / v))
                if day < T:  # into the list of that day (arrive)
                    ev_day[i], ev_kind[i] = day, 1
                    h_ = head[1, day]
                    ev_next[i], ev_prev[i] = h_, -1
                    if h_ >= 0:
                        ev_prev[h_] = i
                    head[1, day] = i
                else:
                    ev_day[i] = -1
                going = True
                break
            if not going:
                # staying at l: recent travel as of tonight; a camp takes them as a count
                p_recent[i], p_rday[i] = (r + moved / S) / 2.0, t
                if is_camp[l]:
                    cnt_vet[l] += 1
                    p_link[i] = -2
                    ev_day[i] = -1
                    free[n_free] = i
                    n_free += 1
                else:
                    day = t + 1 + geometric0(g.random(), mc[l])
                    if day < T:  # into the list of that day (try to leave)
                        ev_day[i], ev_kind[i] = day, 0
                        h_ = head[0, day]
                        ev_next[i], ev_prev[i] = h_, -1
                        if h_ >= 0:
                            ev_prev[h_] = i
                        head[0, day] = i
                    else:
                        ev_day[i] = -1
            i = nxt_i
        for l in range(L):
            stocks[t, l] = int(people[l] + 0.5)
        on_routes[t] = travelling
    return stocks, on_routes, entered, spawned


def simulate_network(net: NetModel, pbase: np.ndarray, initial: np.ndarray, days: int,
                     g: np.random.Generator) -> Any:
    """Arrays of one run of the route network: (stocks (days, L), on routes (days,), entered (days, L),
    spawned (days,))."""
    return network_kernel(days, pbase, net.loc_kind, net.loc_foreign, net.loc_pop, net.loc_cap, net.link_from,
                          net.link_to, net.link_km, net.adj_ptr, net.adj_link, net.link_closed, net.conflict,
                          net.conflict_start, net.spawn, net.spawn_time, net.decay, net.decay_interval, net.move,
                          net.start_on_foot, net.avoid_short_stints, net.awareness, initial.astype(np.int64), g)


def merge_into_run(m: Any, stocks: np.ndarray, flows_out: tuple, initial_states: np.ndarray) -> Any:
    """Put a network run's arrays into the run's per-state arrays: (stocks, entered, net change, spawned)."""
    net = m.net
    loc_stocks, on_routes, entered_l, spawned = flows_out
    days = loc_stocks.shape[0]
    stocks[:, net.loc_state] = loc_stocks
    stocks[:, net.en_route] = on_routes
    S = stocks.shape[1]
    entered = np.zeros((days, S), np.int64)
    entered[:, net.loc_state] = entered_l
    before = np.vstack([initial_states[None, :], stocks[:-1]])
    change = np.zeros((days, S), np.int64)
    cols = net.states
    change[:, cols] = stocks[:, cols] - before[:, cols]
    return stocks, entered, change, spawned

