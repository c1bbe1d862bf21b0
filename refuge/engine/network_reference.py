"""The route network, one record per person visited every day, in plain Python: the reference for
`refuge.engine.network` (same semantics, written the obvious way; slow by design, for small networks).

Everyone is a record, also in camps; each day every person at a place draws whether to leave, and
every traveller advances, as the semantics in `refuge.engine.network` say.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refuge.model.network import (CAMP, FORWARD, IDPCAMP, MV_CAMPW, MV_CAPBUF, MV_CAPSCALE, MV_CONFW, MV_DPOW,
                                  MV_DSOFT, MV_FOREIGNW, MV_MC_CAMP, MV_MC_CONFLICT, MV_MC_IDP, MV_MC_TOWN, MV_SPEED,
                                  MV_WALK, MV_WPOW, MV_WSOFT, NetModel)


class _Person:
    __slots__ = ("loc", "link", "prog", "fresh", "recent", "moved", "back")

    def __init__(self, loc: int):
        self.loc, self.link, self.prog, self.fresh = loc, -1, 0.0, True
        self.recent, self.moved, self.back = 0.0, 0.0, False


def _taper(people: float, capacity: float, buffer: float, scaling: float) -> float:
    cap = capacity * scaling
    if cap < 1.0 or people <= buffer * cap:
        return 1.0
    if people >= cap:
        return 0.0
    return 1.0 - (people - buffer * cap) / (cap * (1.0 - buffer))


def reference_network(net: NetModel, pbase: np.ndarray, initial: np.ndarray, days: int,
                      g: np.random.Generator) -> Any:
    """Same outputs as `refuge.engine.network.simulate_network`."""
    L, K = len(net.names), net.link_from.size
    is_camp = np.isin(net.loc_kind, [CAMP, IDPCAMP])
    out_links = [[int(net.adj_link[j]) for j in range(net.adj_ptr[l], net.adj_ptr[l + 1])] for l in range(L)]
    people = [_Person(l) for l in range(L) for _ in range(int(initial[l]))]
    here = np.array(initial, float)
    stocks = np.zeros((days, L), np.int64)
    on_routes = np.zeros(days, np.int64)
    entered = np.zeros((days, L), np.int64)
    spawned = np.zeros(days, np.int64)

    for t in range(days):
        pv = pbase[t]
        mv = pv[net.move]
        km = pv[net.link_km]
        cap = np.array([pv[c] if c >= 0 else -1.0 for c in net.loc_cap])
        closed = net.link_closed[t]
        S = mv[MV_SPEED]

        def decay(since: int) -> float:
            return float(net.decay[min(max(since, 0) // net.decay_interval, net.decay.size - 1)])

        score, chance = np.ones(L), np.zeros(L)
        for l in range(L):
            s = (mv[MV_FOREIGNW] if net.loc_foreign[l] else 1.0) * (mv[MV_CAMPW] if is_camp[l] else 1.0)
            c = net.conflict[t, l]
            if c > 0:
                s *= mv[MV_CONFW] ** (decay(t - net.conflict_start[t, l]) * c)
                chance[l] = mv[MV_MC_CONFLICT]
            else:
                chance[l] = {CAMP: mv[MV_MC_CAMP], IDPCAMP: mv[MV_MC_IDP], FORWARD: 1.0}.get(int(net.loc_kind[l]),
                                                                                             mv[MV_MC_TOWN])
            score[l] = s

        def weight(k: int) -> float:
            if net.awareness == 0:
                return 1.0
            end = net.link_to[k]
            w = (mv[MV_WSOFT] + score[end]) / (mv[MV_DSOFT] + km[k]) ** mv[MV_DPOW]
            if cap[end] >= 0:
                w *= _taper(here[end], cap[end], mv[MV_CAPBUF], mv[MV_CAPSCALE])
            return w ** mv[MV_WPOW]

        def choose(l: int) -> int:
            """A route out of l by weight, or -1: none open, or it leads to a camp too full to set out for."""
            links = [k for k in out_links[l] if not closed[k]]
            if not links:
                return -1
            w = np.array([weight(k) for k in links])
            p = w / w.sum() if w.sum() > 0 else np.full(len(links), 1 / len(links))
            k = links[int(g.choice(len(links), p=p))]
            end = net.link_to[k]
            if is_camp[end] and cap[end] >= 0 and _taper(here[end], cap[end], mv[MV_CAPBUF], mv[MV_CAPSCALE]) < 0.5:
                return -1
            return k

        # spawning
        n_new = int(net.spawn[t])
        if n_new > 0:
            ts = int(net.spawn_time[t])
            w = np.array([pv[net.loc_pop[l]] * net.conflict[ts, l] * decay(ts - net.conflict_start[ts, l])
                          if net.conflict[t, l] > 0 and net.conflict[ts, l] > 0 else 0.0 for l in range(L)])
            if w.sum() > 0:
                counts = g.multinomial(n_new, w / w.sum())
                for l in range(L):
                    people += [_Person(l) for _ in range(counts[l])]
                    here[l] += counts[l]
                    entered[t, l] += counts[l]
                spawned[t] = n_new
        # closures turn back those on a route that closes today
        for p in people:
            if p.link >= 0 and closed[p.link] and (t == 0 or not net.link_closed[t - 1, p.link]):
                p.back = True
        # decisions
        for p in people:
            if p.link < 0 and g.random() < chance[p.loc]:
                k = choose(p.loc)
                if k >= 0:
                    here[p.loc] -= 1
                    p.link, p.prog, p.back = k, 0.0, False
        # travel
        for p in people:
            while p.link >= 0:
                k = p.link
                v = mv[MV_WALK] if (p.fresh and net.start_on_foot) else S
                p.prog += v
                p.moved += v
                if p.prog <= km[k]:
                    break
                p.fresh = False
                p.moved += km[k] - p.prog
                p.link = -1
                if p.back:
                    p.back = False
                    here[p.loc] += 1
                    break
                p.loc = int(net.link_to[k])
                here[p.loc] += 1
                entered[t, p.loc] += 1
                if p.moved >= v:
                    break
                c = chance[p.loc]
                if (net.avoid_short_stints and not is_camp[p.loc] and net.conflict[t, p.loc] <= 0
                        and (p.recent + p.moved / S) / 2 < 0.5):
                    c = 1.0
                if g.random() >= c:
                    break
                k2 = choose(p.loc)
                if k2 < 0:
                    break
                here[p.loc] -= 1
                p.link, p.prog, p.back = k2, 0.0, False
        for p in people:
            p.recent = (p.recent + p.moved / S) / 2
            p.moved = 0.0
        stocks[t] = np.rint(here).astype(np.int64)
        on_routes[t] = sum(1 for p in people if p.link >= 0)
    return stocks, on_routes, entered, spawned
