"""One day of the route network (the semantics in `refuge.sim.mechanisms.network`): places, the hand-over
from the other mechanisms, spawning; then `travel.py`."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from refuge.model.net_spawn import SPAWN_TOTAL
from refuge.model.network import (
    CAMP,
    FLOOD_ZONE,
    FORWARD,
    IDPCAMP,
    MARKER,
    MV_CAMPW,
    MV_CAPBUF,
    MV_CAPSCALE,
    MV_CONFW,
    MV_DPOW,
    MV_DSOFT,
    MV_FOREIGNW,
    MV_MC_CAMP,
    MV_MC_CONFLICT,
    MV_MC_IDP,
    MV_MC_TOWN,
    MV_SPEED,
    MV_WALK,
    MV_WPOW,
    MV_WSOFT,
)
from refuge.sim.borrow import borrowed
from refuge.sim.mechanisms.network.flood import flood_spawn
from refuge.sim.mechanisms.network.low import decay_factor, nonneg, uniform
from refuge.sim.mechanisms.network.people import changed, new_person, relist, rows_left, schedule, wait_days
from refuge.sim.mechanisms.network.spawn import population_left, spawn_count
from refuge.sim.mechanisms.network.structs import (
    C_TRAVELLING,
    F_AVOID_SHORT,
    F_AWARENESS,
    F_DECAY_INTERVAL,
    F_EN_ROUTE,
    F_SPAWN_MODE,
    F_SPAWN_SCALE,
    QP,
)
from refuge.sim.mechanisms.network.travel import arrivals, counted_leave, newcomers, tries
from refuge.sim.mechanisms.network.ways import ways_today


@njit(cache=True)
def network_day(t, spec, world, kw):
    """Day `t` of the network, after the kernel's moves of the day (`kw`: the kernel's world, whose parameter
    values, closed states, stocks and moves into and out of locations it reads): the semantics at the top of
    this module. Writes the stocks of the locations and of people en route into `kw.stock`.

    People at a place are visited only on the day they next try to leave (a geometric draw from the place's
    move chance, drawn again when that chance changes), and people on a route only on the day they arrive,
    so the cost grows with the moves, not with people x days."""
    if spec.loc_kind.size == 0:
        return
    s, w = borrowed(spec), borrowed(world)
    t = nonneg(t)
    pv = kw.pv
    places_today(t, s, w, pv, kw.closed_state)  # 1 (and 3: closures)
    exchange(t, s, w, kw)  # 0: people the kernel moved into and out of locations today
    spawn(t, s, w, pv)  # 2
    flood_spawn(t, s, w, pv)  # ... and at flooded places
    counted_leave(t, s, w)  # 4: people counted at a place
    tries(t, s, w)  # ... and people one by one whose try is today
    arrivals(t, s, w)  # 5
    L = s.loc_kind.size
    for l in range(L + 1):
        st = nonneg(s.loc_state[l] if l < L else s.flags[F_EN_ROUTE])
        now = int(w.people[l] + 0.5) - w.at_people[l] if l < L else w.count[C_TRAVELLING]
        w.change[t, l] = now - kw.stock[st]
        kw.stock[st] = now


# Each step reads `spec` and `world` through borrowed copies (`s`, `w`); the caller's tuples own the arrays.


@njit(inline="always")
def places_today(t, s, w, pv, closed_state):
    """Today's movement numbers, route lengths and closures, scores and move chances; people placed at the
    start (on day 0), and people at a place whose move chance changed draw their next try again."""
    L, K = s.loc_kind.size, s.link_from.size
    mv, mc, score = w.mv, w.mc, w.score
    for i in range(s.move.size):
        mv[i] = pv[nonneg(s.move[i])]
    for k in range(K):
        w.km[k] = pv[nonneg(s.link_km[k])]
        # a closed location: routes into it are shut
        shut = s.link_closed[t, k] or closed_state[nonneg(s.loc_state[nonneg(s.link_to[k])])]
        if shut and not w.closed[k]:
            w.last_close[k] = t
        w.closed[k] = shut
    decay, interval = s.decay, s.flags[F_DECAY_INTERVAL]
    flooded = s.flood_move.shape[0] > 0
    speed, walk = mv[MV_SPEED], mv[MV_WALK]
    for k in range(K):
        w.days_speed[k] = int(math.floor(w.km[k] / speed))
        w.days_walk[k] = int(math.floor(w.km[k] / walk))
    for j in range(s.adj_link.size):
        w.slot_km[j] = w.km[nonneg(s.adj_link[j])]
    for l in range(L):
        w.capacity[l] = pv[nonneg(s.loc_cap[l])] if s.loc_cap[l] >= 0 else -1.0
        w.near[l] = mv[MV_CAPBUF] * w.capacity[l] * mv[MV_CAPSCALE] - 1.0 if w.capacity[l] >= 0 else np.inf
        sc = 1.0
        if s.loc_foreign[l]:
            sc *= mv[MV_FOREIGNW]
        kind = s.loc_kind[l]
        w.is_camp[l] = (kind == CAMP or kind == IDPCAMP) and not s.camp_closed[t, l]  # closed: a town today
        if w.is_camp[l]:
            sc *= mv[MV_CAMPW]
        c = s.conflict[t, l]
        if c > 0:
            sc *= mv[MV_CONFW] ** (decay_factor(t - s.conflict_start[t, l], decay, interval) * c)
            mc[l] = mv[MV_MC_CONFLICT]
        elif kind == CAMP and w.is_camp[l]:
            mc[l] = mv[MV_MC_CAMP]
        elif kind == IDPCAMP and w.is_camp[l]:
            mc[l] = mv[MV_MC_IDP]
        elif kind == FORWARD or kind == MARKER:
            mc[l] = 1.0
        else:
            mc[l] = mv[MV_MC_TOWN]
        if flooded:  # a flooded place's move chance replaces its own; its score takes the flood weight
            sc *= s.flood_weight[t, l]
            if s.flood_move[t, l] >= 0:
                mc[l] = s.flood_move[t, l]
        score[l] = sc
        w.short_left[l] = s.flags[F_AVOID_SHORT] != 0 and not w.is_camp[l] and c <= 0 and kind != FLOOD_ZONE
        q = 1.0 - mc[l]
        thr = q
        for j in range(QP):  # geometric0's thresholds q, q^2, ... for this move chance, made the same way
            w.qpow[l, j] = thr
            thr *= q
    awareness = s.flags[F_AWARENESS]
    for k in range(K):
        if awareness == 0:
            w.base[k] = 1.0
        else:
            w.base[k] = ((mv[MV_WSOFT] + score[nonneg(s.link_to[k])]) / (mv[MV_DSOFT] + w.km[k]) ** mv[MV_DPOW]) \
                ** mv[MV_WPOW]
    if awareness >= 2:
        ways_today(s, w)
    w.stale[:] = True  # scores, lengths and closures are today's
    people_today(t, s, w)


@njit(inline="always")
def people_today(t, s, w):
    """People placed at the start (on day 0), people at a place whose move chance changed, and people at a place
    that had no open route once one is open: their next try to leave."""
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    mc = w.mc
    if t == 0:  # people placed at the start: counted in camps, one by one elsewhere
        for l in range(L):
            n0 = int(w.people[l] + 0.5)
            if w.is_camp[l]:
                w.cnt_fresh[l] = n0
                continue
            if not rows_left(w, n0):
                return
            for _ in range(n0):
                i = new_person(w, l, True, -1)
                schedule(w, i, t + wait_days(w, l), 0, T)
    # a place whose move chance changed: its people draw their next try again (memoryless)
    redraw = False
    for l in range(L):
        # (a camp holds counts, but one reopened today may hold people one by one)
        w.redraw[l] = t > 0 and (not w.is_camp[l] or s.camp_closed[t - 1, l]) and mc[l] != w.mc_prev[l]
        redraw |= w.redraw[l]
        w.mc_prev[l] = mc[l]
    if redraw:
        relist(t, w, T)
    # people at a place that had no open route, once one is open: their next try, from today
    for l in range(L):
        if w.blocked[l] < 0:
            continue
        for j in range(s.adj_ptr[l], s.adj_ptr[l + 1]):
            if not w.closed[nonneg(s.adj_link[j])]:
                i = w.blocked[l]
                w.blocked[l] = -1
                while i >= 0:
                    nxt = w.P[i].nxt
                    schedule(w, i, t + wait_days(w, l), 0, T)
                    i = nxt
                break


@njit(inline="always")
def exchange(t, s, w, kw):
    """The kernel's moves of today into and out of locations (transitions, arrivals, events): those who came are
    people who have not travelled yet (counted in a camp, one by one elsewhere, trying to leave from today);
    those taken from a camp's count are any of its people (so as many of them had not travelled as a draw
    without replacement says). Only camps lose people this way (the compiler sees to it)."""
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    capbuf, capscale = w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE]
    for l in range(L):
        st = nonneg(s.loc_state[l])
        out, come = kw.net_out[st], kw.net_in[st]
        if out == 0 and come == 0:
            continue
        kw.net_out[st] = 0
        kw.net_in[st] = 0
        if out > 0:
            fresh, vet = w.cnt_fresh[l], w.cnt_vet[l]
            for _ in range(min(out, fresh + vet)):  # one by one without replacement: hypergeometric
                if uniform(w.rng) * (fresh + vet) < fresh:
                    fresh -= 1
                else:
                    vet -= 1
            w.cnt_fresh[l], w.cnt_vet[l] = fresh, vet
        changed(s, w, l, come - out, capbuf, capscale)
        if come > 0 and not newcomers(w, l, come, t, T):
            return
    if s.at_state.size:
        at_places(s, w, kw, capbuf, capscale)


@njit(inline="always")
def at_places(s, w, kw, capbuf, capscale):
    """People in states at a location (`at:`, processing there) count in its population: the change since the
    last hand-over (the other mechanisms moved them today) is added to it before anyone decides today (every
    place's route weights are made again today, `places_today`)."""
    L = s.loc_kind.size
    for l in range(L):
        w.at_now[l] = 0
    for a in range(s.at_state.size):
        w.at_now[nonneg(s.at_loc[a])] += kw.stock[nonneg(s.at_state[a])]
    for l in range(L):
        k = w.at_now[l] - w.at_people[l]
        if k != 0:
            w.at_people[l] = w.at_now[l]
            changed(s, w, l, k, capbuf, capscale)


@njit(inline="always")
def spawn(t, s, w, pv):
    """Today's new people at the conflict zones: a total multinomially by population x intensity x decay, or each
    zone's own number by its intensity (`spawn.py`)."""
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    capbuf, capscale = w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE]
    if s.flags[F_SPAWN_MODE] != SPAWN_TOTAL:
        for l in range(L):
            k_l = spawn_count(s, w, pv, t, l)
            if k_l > 0 and not spawn_at(s, w, t, l, k_l, capbuf, capscale, T):
                return
        return
    left = scaled_total(s.spawn[t], s.flags[F_SPAWN_SCALE], pv, w.rng)
    if left <= 0:
        return
    decay, interval = s.decay, s.flags[F_DECAY_INTERVAL]
    ts = s.spawn_time[t]
    wts = w.wts
    total = 0.0
    for l in range(L):
        c = s.conflict[ts, l] if s.conflict[t, l] > 0 else 0.0
        decayed = decay_factor(ts - s.conflict_start[ts, l], decay, interval)
        wts[l] = population_left(s, w, pv, l) * c * decayed if c > 0 else 0.0
        total += wts[l]
    left = left if total > 0 else 0
    rest = total
    for l in range(L):
        if left == 0:
            break
        if wts[l] <= 0:
            continue
        k_l = left if wts[l] >= rest else w.g.binomial(left, min(1.0, wts[l] / rest))
        rest -= wts[l]
        if k_l == 0:
            continue
        left -= k_l
        if not spawn_at(s, w, t, l, k_l, capbuf, capscale, T):
            return


@njit(inline="always")
def scaled_total(n, slot, pv, rng):
    """The day's total `n` times the value of parameter `slot` (-1: `n` as it is): whole people, the fraction a
    chance of one more (so the mean is exact)."""
    if slot < 0 or n <= 0:
        return n
    x = n * pv[slot]
    k = int(math.floor(x))
    if x > k and uniform(rng) < x - k:  # a whole number draws nothing (a scale of 1 runs as without one)
        k += 1
    return k


@njit(inline="always")
def spawn_at(s, w, t, l, k, capbuf, capscale, T):
    """k new people at location l today (False when the person table is full: the run is made again)."""
    w.spawned[t] += k
    w.entered[t, l] += k
    w.taken[l] += k
    changed(s, w, l, k, capbuf, capscale)
    return newcomers(w, l, k, t, T)


@njit(cache=True)
def network_initial(m, w, net):
    """People at each location of the route network at the start (the network keeps them from here on)."""
    L = net.loc_state.size
    out = np.zeros(L, np.int64)
    for l in range(L):
        out[l] = w.stock[net.loc_state[l]]
    w.net_in[:] = 0
    return out
