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
def link_weights(loc, closed, adj_ptr, adj_link, link_to, km, score, people, capacity, mv, awareness, out):
    """Weights of the open routes out of `loc` into out[:n]; returns n (0: nowhere to go)."""
    n = 0
    for j in range(adj_ptr[loc], adj_ptr[loc + 1]):
        k = adj_link[j]
        if closed[k]:
            continue
        end = link_to[k]
        if awareness == 0:
            w = 1.0
        else:
            w = ((mv[MV_WSOFT] + score[end]) / (mv[MV_DSOFT] + km[k]) ** mv[MV_DPOW]
                 * taper(people[end], capacity[end], mv[MV_CAPBUF], mv[MV_CAPSCALE]))
            w = w ** mv[MV_WPOW]
        out[n] = w
        n += 1
    return n


@njit(cache=True)
def pick_route(g, loc, closed, adj_ptr, adj_link, link_to, km, score, people, capacity, mv, awareness, buf):
    """A route out of `loc` drawn by weight (equal weights when all are zero); -1 when none is open."""
    n = link_weights(loc, closed, adj_ptr, adj_link, link_to, km, score, people, capacity, mv, awareness, buf)
    if n == 0:
        return -1
    total = 0.0
    for i in range(n):
        total += buf[i]
    u = g.random() * (total if total > 0 else n)
    acc = 0.0
    chosen = n - 1
    for i in range(n):
        acc += buf[i] if total > 0 else 1.0
        if u < acc:
            chosen = i
            break
    i = 0
    for j in range(adj_ptr[loc], adj_ptr[loc + 1]):
        k = adj_link[j]
        if closed[k]:
            continue
        if i == chosen:
            return k
        i += 1
    return -1


@njit(cache=True)
def full_camp(end, kind, people, capacity, mv):
    """Flee does not set out for a camp whose taper is under 0.5."""
    return (kind[end] == CAMP or kind[end] == IDPCAMP) and taper(
        people[end], capacity[end], mv[MV_CAPBUF], mv[MV_CAPSCALE]) < 0.5


@njit(cache=True)
def _grow(a, n):
    out = np.empty(max(2 * a.size, n), a.dtype)
    out[:a.size] = a
    return out


@njit(cache=True)
def network_kernel(days, pbase, loc_kind, loc_foreign, loc_pop, loc_cap, link_from, link_to, link_km, adj_ptr,
                   adj_link, link_closed, conflict, conflict_start, spawn, spawn_time, decay, decay_interval,
                   move, start_on_foot, avoid_short, awareness, initial, g):
    """Run the network for `days` days. Returns (people at each location at the end of each day, people on
    routes, people entering each location (arriving or spawned), people spawned)."""
    L = loc_kind.size
    K = link_from.size
    is_camp = (loc_kind == CAMP) | (loc_kind == IDPCAMP)
    # camps: counts of people who have not travelled yet (fresh) and who have
    camp_fresh = np.zeros(L, np.int64)
    camp_vet = np.zeros(L, np.int64)
    people = np.zeros(L, np.float64)  # residents per location (for the taper)
    # everyone else, one by one
    cap0 = 1024
    p_loc = np.empty(cap0, np.int64)      # location, or the route's start while travelling
    p_link = np.empty(cap0, np.int64)     # route travelled, -1 at a place
    p_prog = np.empty(cap0, np.float64)   # km covered on the route
    p_fresh = np.empty(cap0, np.bool_)    # has not completed a route yet
    p_recent = np.empty(cap0, np.float64)
    p_moved = np.empty(cap0, np.float64)  # km today
    p_back = np.empty(cap0, np.bool_)     # the route closed under them: turn back on arrival
    n = 0
    for l in range(L):
        if is_camp[l]:
            camp_fresh[l] = initial[l]
        else:
            need = n + initial[l]
            if need > p_loc.size:
                p_loc, p_link, p_prog = _grow(p_loc, need), _grow(p_link, need), _grow(p_prog, need)
                p_fresh, p_recent = _grow(p_fresh, need), _grow(p_recent, need)
                p_moved, p_back = _grow(p_moved, need), _grow(p_back, need)
            for _ in range(initial[l]):
                p_loc[n], p_link[n], p_prog[n], p_fresh[n] = l, -1, 0.0, True
                p_recent[n], p_moved[n], p_back[n] = 0.0, 0.0, False
                n += 1
        people[l] = initial[l]

    stocks = np.zeros((days, L), np.int64)
    on_routes = np.zeros(days, np.int64)
    entered = np.zeros((days, L), np.int64)
    spawned = np.zeros(days, np.int64)
    score = np.ones(L)
    mc = np.zeros(L)
    capacity = np.full(L, -1.0)
    km = np.zeros(K)
    mv = np.zeros(move.size)
    closed = np.zeros(K, np.bool_)
    buf = np.zeros(max(K, 1))
    wts = np.zeros(L)
    settle = np.zeros(cap0, np.bool_)
    for t in range(days):
        pv = pbase[t]
        for i in range(move.size):
            mv[i] = pv[move[i]]
        for k in range(K):
            km[k] = pv[link_km[k]]
        # 1. places
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
        # 2. spawning
        if spawn[t] > 0:
            ts = spawn_time[t]
            total = 0.0
            for l in range(L):
                c = conflict[ts, l] if conflict[t, l] > 0 else 0.0
                wts[l] = pv[loc_pop[l]] * c * decay_factor(ts - conflict_start[ts, l], decay, decay_interval) \
                    if c > 0 else 0.0
                total += wts[l]
            if total > 0:
                left = spawn[t]
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
                    if is_camp[l]:
                        camp_fresh[l] += k_l
                        continue
                    need = n + k_l
                    if need > p_loc.size:
                        p_loc, p_link, p_prog = _grow(p_loc, need), _grow(p_link, need), _grow(p_prog, need)
                        p_fresh, p_recent = _grow(p_fresh, need), _grow(p_recent, need)
                        p_moved, p_back = _grow(p_moved, need), _grow(p_back, need)
                    for _ in range(k_l):
                        p_loc[n], p_link[n], p_prog[n], p_fresh[n] = l, -1, 0.0, True
                        p_recent[n], p_moved[n], p_back[n] = 0.0, 0.0, False
                        n += 1
        # 3. closures: people on a route that closes today turn back when they reach its end
        for k in range(K):
            now = link_closed[t, k]
            if now and (t == 0 or not link_closed[t - 1, k]):
                for i in range(n):
                    if p_link[i] == k:
                        p_back[i] = True
            closed[k] = now
        # 4. decisions: camps by counts, everyone else one by one
        for l in range(L):
            if not is_camp[l] or camp_fresh[l] + camp_vet[l] == 0:
                continue
            m = link_weights(l, closed, adj_ptr, adj_link, link_to, km, score, people, capacity, mv, awareness, buf)
            if m == 0:
                continue
            wsum = 0.0
            for i in range(m):
                wsum += buf[i]
            for cls in range(2):
                stay = camp_fresh[l] if cls == 0 else camp_vet[l]
                leave = g.binomial(stay, mc[l]) if stay > 0 else 0
                if leave == 0:
                    continue
                rest = wsum if wsum > 0 else float(m)
                i = 0
                for j in range(adj_ptr[l], adj_ptr[l + 1]):
                    k = adj_link[j]
                    if closed[k]:
                        continue
                    w = buf[i] if wsum > 0 else 1.0
                    i += 1
                    if leave == 0:
                        break
                    go = leave if w >= rest else g.binomial(leave, min(1.0, w / rest))
                    rest -= w
                    leave -= go
                    if go == 0 or full_camp(link_to[k], loc_kind, people, capacity, mv):
                        continue
                    if cls == 0:
                        camp_fresh[l] -= go
                    else:
                        camp_vet[l] -= go
                    people[l] -= go
                    need = n + go
                    if need > p_loc.size:
                        p_loc, p_link, p_prog = _grow(p_loc, need), _grow(p_link, need), _grow(p_prog, need)
                        p_fresh, p_recent = _grow(p_fresh, need), _grow(p_recent, need)
                        p_moved, p_back = _grow(p_moved, need), _grow(p_back, need)
                    for _ in range(go):
                        p_loc[n], p_link[n], p_prog[n], p_fresh[n] = l, k, 0.0, cls == 0
                        p_recent[n], p_moved[n], p_back[n] = 0.0, 0.0, False
                        n += 1
        first_new = n  # people who left a camp today are on their route already
        for i in range(first_new):
            if p_link[i] >= 0:
                continue
            l = p_loc[i]
            if g.random() >= mc[l]:
                continue
            k = pick_route(g, l, closed, adj_ptr, adj_link, link_to, km, score, people, capacity, mv, awareness, buf)
            if k < 0 or full_camp(link_to[k], loc_kind, people, capacity, mv):
                continue
            p_link[i], p_prog[i], p_back[i] = k, 0.0, False
            people[l] -= 1
        # 5. travel, with further decisions on arrival
        if settle.size < n:
            settle = np.zeros(p_loc.size, np.bool_)
        for i in range(n):
            settle[i] = False
            while p_link[i] >= 0:
                k = p_link[i]
                speed = mv[MV_WALK] if (p_fresh[i] and start_on_foot) else mv[MV_SPEED]
                p_prog[i] += speed
                p_moved[i] += speed
                if p_prog[i] <= km[k]:
                    break
                p_fresh[i] = False
                p_moved[i] += km[k] - p_prog[i]
                p_link[i] = -1
                if p_back[i]:
                    p_back[i] = False
                    people[p_loc[i]] += 1
                    break
                l = link_to[k]
                p_loc[i] = l
                people[l] += 1
                entered[t, l] += 1
                if p_moved[i] >= speed:
                    break
                chance = mc[l]
                if avoid_short and not is_camp[l] and conflict[t, l] <= 0 and \
                        (p_recent[i] + p_moved[i] / mv[MV_SPEED]) / 2.0 < 0.5:
                    chance = 1.0
                if g.random() >= chance:
                    break
                k2 = pick_route(g, l, closed, adj_ptr, adj_link, link_to, km, score, people, capacity, mv,
                                awareness, buf)
                if k2 < 0 or full_camp(link_to[k2], loc_kind, people, capacity, mv):
                    break
                p_link[i], p_prog[i], p_back[i] = k2, 0.0, False
                people[l] -= 1
            if p_link[i] < 0 and is_camp[p_loc[i]]:
                settle[i] = True
                if p_fresh[i]:
                    camp_fresh[p_loc[i]] += 1
                else:
                    camp_vet[p_loc[i]] += 1
        # end of the day: recent travel, settled people become counts, stocks
        kept = 0
        for i in range(n):
            if settle[i]:
                continue
            p_recent[i] = (p_recent[i] + p_moved[i] / mv[MV_SPEED]) / 2.0
            p_moved[i] = 0.0
            if kept != i:
                p_loc[kept], p_link[kept], p_prog[kept], p_fresh[kept] = p_loc[i], p_link[i], p_prog[i], p_fresh[i]
                p_recent[kept], p_moved[kept], p_back[kept] = p_recent[i], p_moved[i], p_back[i]
            kept += 1
        n = kept
        for l in range(L):
            stocks[t, l] = camp_fresh[l] + camp_vet[l] if is_camp[l] else 0
        travelling = 0
        for i in range(n):
            if p_link[i] >= 0:
                travelling += 1
            else:
                stocks[t, p_loc[i]] += 1
        on_routes[t] = travelling
    return stocks, on_routes, entered, spawned


def simulate_network(net: NetModel, pbase: np.ndarray, initial: np.ndarray, days: int, g: np.random.Generator):
    """Arrays of one run of the route network: (stocks (days, L), on routes (days,), entered (days, L),
    spawned (days,))."""
    return network_kernel(days, pbase, net.loc_kind, net.loc_foreign, net.loc_pop, net.loc_cap, net.link_from,
                          net.link_to, net.link_km, net.adj_ptr, net.adj_link, net.link_closed, net.conflict,
                          net.conflict_start, net.spawn, net.spawn_time, net.decay, net.decay_interval, net.move,
                          net.start_on_foot, net.avoid_short_stints, net.awareness, initial.astype(np.int64), g)


def merge_into_run(m, stocks: np.ndarray, flows_out: tuple, initial_states: np.ndarray):
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

