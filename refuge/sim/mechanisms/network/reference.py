"""The route network, one record per person visited every day, in plain Python: the reference for
`refuge.sim.mechanisms.network` (same semantics, written the obvious way; slow by design, for small networks).

Everyone is a record, also in camps; each day every person at a place draws whether to leave, and
every traveller advances, as the semantics in `refuge.sim.mechanisms.network` say. The network's people are people
of the reference engine (`refuge.sim.reference`): each day it first takes over whoever that engine's
transitions, arrivals and events put into a location, and lets go of whoever they took from one; at the end of
the day it writes back where everyone is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    NetModel,
)
from refuge.sim.mechanisms.network import network_arrays
from refuge.sim.mechanisms.network.spawn import reference_spawn_counts


class _Person:
    __slots__ = ("pid", "loc", "link", "prog", "fresh", "recent", "moved", "back", "route", "skip")

    def __init__(self, pid: int, loc: int):
        self.pid, self.loc, self.link, self.prog, self.fresh = pid, loc, -1, 0.0, True
        self.recent, self.moved, self.back = 0.0, 0.0, False
        self.route: list[int] = []  # with look-ahead: the routes of their way still to take
        self.skip = -1  # a day they do not decide (spent finding the route of their way gone)


def _taper(people: float, capacity: float, buffer: float, scaling: float) -> float:
    cap = capacity * scaling
    if cap < 1.0 or people <= buffer * cap:
        return 1.0
    if people >= cap:
        return 0.0
    return 1.0 - (people - buffer * cap) / (cap * (1.0 - buffer))


class NetReference:
    """The network's people and their day, beside the reference engine `ref` (its person records, stocks,
    parameters in force, closed states and random stream)."""

    def __init__(self, net: NetModel, days: int):
        L = len(net.names)
        self.net = net
        self.is_camp = np.isin(net.loc_kind, [CAMP, IDPCAMP])
        self.today_camp = self.is_camp
        self.out_links = [[int(net.adj_link[j]) for j in range(net.adj_ptr[l], net.adj_ptr[l + 1])] for l in range(L)]
        self.people: list[_Person] = []
        self.loc_of_state = {int(s): l for l, s in enumerate(net.loc_state)}
        self.closed_before = np.zeros(net.link_from.size, bool)
        self.entered = np.zeros((days, L), np.int64)
        self.change = np.zeros((days, L + 1), np.int64)
        self.spawned = np.zeros(days, np.int64)
        self.taken = np.zeros(L, np.int64)  # people spawned at each location so far
        self.pop_left = np.zeros(L)  # with floods: the population left to spawn from (set on day 0)

    def _take_over(self, ref: Any) -> None:
        """Let go of people the reference engine moved out of a location; take over those it moved in."""
        net = self.net
        state = ref.p_state[:ref.n]
        self.people = [p for p in self.people
                       if state[p.pid] == (net.en_route if p.link >= 0 else net.loc_state[p.loc])]
        mine = {p.pid for p in self.people}
        for pid in np.flatnonzero(np.isin(state, net.loc_state)):
            if int(pid) not in mine:
                self.people.append(_Person(int(pid), self.loc_of_state[int(state[pid])]))

    def day(self, t: int, ref: Any) -> None:
        """Day `t`, after the reference engine's moves of the day."""
        net, g = self.net, ref.g
        pv = ref.pv
        mv = pv[net.move]
        km = pv[net.link_km]
        cap = np.array([pv[c] if c >= 0 else -1.0 for c in net.loc_cap])
        closed = net.link_closed[t] | ref.closed_state[net.loc_state[net.link_to]]  # closed locations: routes in
        is_camp = self.today_camp = self.is_camp & ~net.camp_closed[t]  # a camp closed as a camp: a town
        states = list(net.loc_state) + [net.en_route]
        before = [ref.stock[s] for s in states]
        self._take_over(ref)
        people = self.people
        here = self._here(ref)

        score, chance = self._places(t, mv, is_camp)

        def weight(k: int) -> float:
            if net.awareness == 0:
                return 1.0
            end = net.link_to[k]
            w = (mv[MV_WSOFT] + score[end]) / (mv[MV_DSOFT] + km[k]) ** mv[MV_DPOW]
            if cap[end] >= 0:
                w *= _taper(here[end], cap[end], mv[MV_CAPBUF], mv[MV_CAPSCALE])
            return w ** mv[MV_WPOW]

        def full(end: int) -> bool:
            return bool(is_camp[end] and cap[end] >= 0 and
                        _taper(here[end], cap[end], mv[MV_CAPBUF], mv[MV_CAPSCALE]) < 0.5)

        def way_weight(way: list[int]) -> float:
            end = net.link_to[way[-1]]
            w = (mv[MV_WSOFT] + score[end]) / (mv[MV_DSOFT] + sum(km[k] for k in way)) ** mv[MV_DPOW]
            if cap[end] >= 0:
                w *= _taper(here[end], cap[end], mv[MV_CAPBUF], mv[MV_CAPSCALE])
            return w ** mv[MV_WPOW]

        def choose(l: int) -> list[int]:
            """The routes of a way out of l picked by weight (one route without look-ahead), or none: no route
            open, or the way ends at a camp too full to set out for."""
            if net.ways.end.size:  # look-ahead, or markers to look past
                ways = self._ways(l, closed)
                w = np.array([way_weight(way) for way in ways])
            else:
                ways = [[k] for k in self.out_links[l] if not closed[k]]
                w = np.array([weight(way[0]) for way in ways])
            if not ways:
                return []
            p = w / w.sum() if w.sum() > 0 else np.full(len(ways), 1 / len(ways))
            way = ways[int(g.choice(len(ways), p=p))]
            return [] if full(int(net.link_to[way[-1]])) else way

        def onward(p: _Person) -> bool:
            """Someone on a way sets out on its next route, or gives the way up: that route is closed or the
            way ends at a camp too full to set out for."""
            k = p.route[0]
            if closed[k] or full(int(net.link_to[p.route[-1]])):
                p.route = []
                return False
            here[p.loc] -= 1
            p.link, p.prog, p.back, p.route = k, 0.0, False, p.route[1:]
            return True

        self._spawn(t, ref, here)
        self._flood_spawn(t, ref, here)
        # closures turn back those on a route that closes today
        for p in people:
            if p.link >= 0 and closed[p.link] and not self.closed_before[p.link]:
                p.back = True
        self.closed_before = closed
        # decisions (someone on a way goes on along it for sure)
        for p in people:
            if p.link >= 0 or p.skip == t:
                continue
            if p.route:
                onward(p)
            elif g.random() < chance[p.loc]:
                way = choose(p.loc)
                if way:
                    here[p.loc] -= 1
                    p.link, p.prog, p.back, p.route = way[0], 0.0, False, way[1:]
        self._travel(t, ref.g, here, chance, (choose, onward), mv, km)
        self._write_back(t, ref, states, before)

    def _places(self, t: int, mv: np.ndarray, is_camp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each place's score and move chance today."""
        net = self.net
        L = len(net.names)
        score, chance = np.ones(L), np.zeros(L)
        for l in range(L):
            s = (mv[MV_FOREIGNW] if net.loc_foreign[l] else 1.0) * (mv[MV_CAMPW] if is_camp[l] else 1.0)
            c = net.conflict[t, l]
            if c > 0:
                s *= mv[MV_CONFW] ** (self._decay(t - net.conflict_start[t, l]) * c)
                chance[l] = mv[MV_MC_CONFLICT]
            else:
                kind = int(net.loc_kind[l]) if is_camp[l] or not self.is_camp[l] else -1
                chance[l] = {CAMP: mv[MV_MC_CAMP], IDPCAMP: mv[MV_MC_IDP], FORWARD: 1.0, MARKER: 1.0}.get(
                    kind, mv[MV_MC_TOWN])
            if net.floods.move.size:  # flooded: the flood's move chance, and the flood weight on the score
                s *= net.floods.weight[t, l]
                if net.floods.move[t, l] >= 0:
                    chance[l] = net.floods.move[t, l]
            score[l] = s
        return score, chance

    def _here(self, ref: Any) -> np.ndarray:
        """(L,) people at each place: the network's people not on a route, and those in process there (in a state
        `at:` it)."""
        here = np.zeros(len(self.net.names))
        for p in self.people:
            if p.link < 0:
                here[p.loc] += 1
        for s, l in zip(self.net.at_state, self.net.at_loc):
            here[l] += ref.stock[s]
        return here

    def _ways(self, l: int, closed: np.ndarray) -> list[list[int]]:
        """Every way of 1 to `awareness` open routes out of l that passes no place twice (look-ahead), markers
        passed through and not counted."""
        net, out = self.net, []

        def walk(here: int, way: list[int], seen: set[int], steps: int) -> None:
            for k in self.out_links[here]:
                end = int(net.link_to[k])
                if closed[k] or end in seen:
                    continue
                marker = net.loc_kind[end] == MARKER  # passed through: not a way's end, not a step
                if not marker:
                    out.append(way + [k])
                if marker or steps + 1 < net.awareness:
                    walk(end, way + [k], seen | {end}, steps + (0 if marker else 1))

        walk(l, [], {l}, 0)
        return out

    def _decay(self, since: int) -> float:
        """The factor of a conflict's decay `since` days after it began."""
        net = self.net
        return float(net.decay[min(max(since, 0) // net.decay_interval, net.decay.size - 1)])

    def _spawn(self, t: int, ref: Any, here: np.ndarray) -> None:
        """Today's new people at the conflict zones: a total by population x intensity x decay, or each zone's
        own number by its intensity (`spawn.py`)."""
        net, g, pv = self.net, ref.g, ref.pv
        L = len(net.names)
        if net.spawn_mode != SPAWN_TOTAL:
            counts = reference_spawn_counts(net, t, pv, self.taken, g)
        else:
            n = self._total(t, pv, g)
            if n <= 0:
                return
            ts = int(net.spawn_time[t])
            pop = np.array([max(pv[net.loc_pop[l]] - (self.taken[l] if net.take_pop else 0), 0.0) for l in range(L)])
            w = np.array([pop[l] * net.conflict[ts, l] * self._decay(ts - net.conflict_start[ts, l])
                          if net.conflict[t, l] > 0 and net.conflict[ts, l] > 0 else 0.0 for l in range(L)])
            counts = g.multinomial(n, w / w.sum()) if w.sum() > 0 else np.zeros(L, np.int64)
        for l in range(L):
            ids = ref.new_people(int(counts[l]))
            self.people += [_Person(int(pid), l) for pid in ids]
            here[l] += counts[l]
            self.entered[t, l] += counts[l]
            self.taken[l] += counts[l]
            self.spawned[t] += counts[l]

    def _total(self, t: int, pv: Any, g: Any) -> int:
        """The day's spawning total, times `spawning.scale` when it has one (the fraction a chance of one more)."""
        n = int(self.net.spawn[t])
        if self.net.spawn_scale >= 0 and n > 0:
            x = n * float(pv[self.net.spawn_scale])
            n = int(np.floor(x))
            n += int(x > n and g.random() < x - n)
        return n

    def _flood_spawn(self, t: int, ref: Any, here: np.ndarray) -> None:
        """Today's new people at each flooded place: its rule x the population left (rounded down), or a count."""
        fl = self.net.floods
        if not fl.spawn.size:
            return
        if t == 0:
            self.pop_left = np.floor(ref.pv[self.net.loc_pop]).astype(float)
        for l in range(len(self.net.names)):
            rule = fl.spawn[t, l]
            n = int(np.floor(rule if fl.count else rule * self.pop_left[l])) if rule > 0 else 0
            if n <= 0:
                continue
            self.pop_left[l] = max(self.pop_left[l] - n, 0.0)
            self.people += [_Person(int(pid), l) for pid in ref.new_people(n)]
            here[l] += n
            self.entered[t, l] += n
            self.spawned[t] += n

    def _travel(self, t: int, g: Any, here: np.ndarray, chance: np.ndarray, choices: Any, mv: np.ndarray,
                km: np.ndarray) -> None:
        """Everyone on a route advances; who arrives with part of the day left goes on along their way, or
        decides again at once."""
        net, people, is_camp, S = self.net, self.people, self.today_camp, mv[MV_SPEED]
        choose, onward = choices
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
                    if p.route:  # the way given up; the next day spent finding its route gone
                        p.route, p.skip = [], t + 1
                    break
                p.loc = int(net.link_to[k])
                here[p.loc] += 1
                self.entered[t, p.loc] += 1
                if p.moved >= v:
                    break
                if p.route:
                    if not onward(p):
                        break
                    continue
                c = chance[p.loc]
                if (net.avoid_short_stints and not is_camp[p.loc] and net.conflict[t, p.loc] <= 0
                        and net.loc_kind[p.loc] != FLOOD_ZONE and (p.recent + p.moved / S) / 2 < 0.5):
                    c = 1.0
                if g.random() >= c:
                    break
                way = choose(p.loc)
                if not way:
                    break
                here[p.loc] -= 1
                p.link, p.prog, p.back, p.route = way[0], 0.0, False, way[1:]
        for p in people:
            p.recent = (p.recent + p.moved / S) / 2
            p.moved = 0.0

    def _write_back(self, t: int, ref: Any, states: list[int], before: list[int]) -> None:
        """Where everyone is tonight, in the reference engine's records; the day's change of each stock."""
        net, people = self.net, self.people
        for p in people:
            s = net.en_route if p.link >= 0 else int(net.loc_state[p.loc])
            if ref.p_state[p.pid] != s:
                ref.p_state[p.pid], ref.p_entry[p.pid] = s, t
        for s in states:
            ref.stock[s] = 0
        for p in people:
            ref.stock[net.en_route if p.link >= 0 else int(net.loc_state[p.loc])] += 1
        self.change[t] = [ref.stock[s] - b for s, b in zip(states, before)]

    def arrays(self, S: int) -> tuple:
        """(entered (days, S), net change (days, S), spawned (days,)), as the fast engine gives them."""
        return network_arrays(self.net, S, (self.entered, self.change, self.spawned))
