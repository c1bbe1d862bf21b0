"""Compile a scenario's `network` (locations, routes, conflicts, closures, spawning) into arrays.

The engine's network step (`refuge.sim.mechanisms.network`) sees only what is built here. Every name is resolved
and every problem reported with its field path, like the rest of the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from refuge.model.net_flood import FloodArrays, compile_floods
from refuge.model.net_paths import Ways, no_ways, reach
from refuge.model.net_spawn import local_spawning

# Kinds of location.
TOWN, CAMP, IDPCAMP, FORWARD, MARKER, FLOOD_ZONE = 0, 1, 2, 3, 4, 5
KIND_CODES = {"town": TOWN, "camp": CAMP, "idpcamp": IDPCAMP, "forward": FORWARD, "marker": MARKER,
              "flood_zone": FLOOD_ZONE}
# Movement numbers, in this order, as parameter slots (they may change by schedule or calibration).
MOVE_FIELDS = ("move_chance_conflict", "move_chance_town", "move_chance_camp", "move_chance_idpcamp", "speed",
               "walk_speed", "distance_softening", "distance_power", "weight_softening", "weight_power",
               "camp_weight", "conflict_weight", "foreign_weight", "capacity_buffer", "capacity_scaling")
(MV_MC_CONFLICT, MV_MC_TOWN, MV_MC_CAMP, MV_MC_IDP, MV_SPEED, MV_WALK, MV_DSOFT, MV_DPOW, MV_WSOFT, MV_WPOW,
 MV_CAMPW, MV_CONFW, MV_FOREIGNW, MV_CAPBUF, MV_CAPSCALE) = range(len(MOVE_FIELDS))


@dataclass
class NetModel:
    """A compiled route network. Locations are states; links are routes in one direction."""

    names: list[str]  # location (state) names
    loc_state: np.ndarray  # (L,) state index of each location
    loc_kind: np.ndarray  # (L,) TOWN, CAMP or IDPCAMP
    loc_foreign: np.ndarray  # (L,) bool
    loc_pop: np.ndarray  # (L,) parameter slot of the population
    loc_cap: np.ndarray  # (L,) parameter slot of the capacity, -1 for none
    link_from: np.ndarray  # (K,) location
    link_to: np.ndarray  # (K,)
    link_km: np.ndarray  # (K,) parameter slot of the length
    adj_ptr: np.ndarray  # (L+1,) links leaving each location: adj_link[adj_ptr[l]:adj_ptr[l+1]]
    adj_link: np.ndarray
    link_closed: np.ndarray  # (T, K) bool
    camp_closed: np.ndarray  # (T, L) bool: a camp closed as a camp (it works as a town) that day
    conflict: np.ndarray  # (T, L) intensity, 0 where no conflict
    conflict_start: np.ndarray  # (T, L) day the current conflict began (decay counts from it)
    spawn: np.ndarray  # (T,) people spawned each day
    spawn_time: np.ndarray  # (T,) the day whose decay weights the spawning (Flee refreshes them a day late, but
    # on the day a conflict begins or ends)
    decay: np.ndarray  # factor per interval since a conflict began
    decay_interval: int
    spawn_mode: int  # SPAWN_TOTAL (`spawn` spread), or each conflict zone by its intensity (`refuge.model.net_spawn`)
    spawn_rate: int  # parameter slot of the conflict-driven per-day rate, -1 none
    take_pop: bool  # people spawned at a location leave its population
    spawn_expect: np.ndarray  # (T,) conflict-driven: people expected each day at the values given (table sizes)
    move: np.ndarray  # (len(MOVE_FIELDS),) parameter slots
    start_on_foot: bool
    avoid_short_stints: bool
    awareness: int
    en_route: int  # state index
    ways: Ways  # with awareness 2 or more, the ways of several routes out of each place (`net_paths`); else empty
    at_state: np.ndarray  # (A,) states at a location (`at:`: processing there) ...
    at_loc: np.ndarray  # (A,) ... and that location: their people count in its population
    floods: FloodArrays = field(default_factory=FloodArrays.none)  # (T, L) flooding (`net_flood`); else empty
    spawn_scale: int = -1  # parameter slot multiplying `spawn` (spawning.scale); -1: the total as it is

    def at_states(self, loc: int) -> list[int]:
        """The states whose people are at location `loc` besides its own state's (`at:`)."""
        return [int(s) for s, l in zip(self.at_state, self.at_loc) if l == loc]

    @property
    def states(self) -> list[int]:
        """The refuge states the network uses: one per location, then the en-route state."""
        return [int(s) for s in self.loc_state] + [self.en_route]


def compile_network(c: Any) -> NetModel | None:
    """`c` is the scenario compiler (`refuge.model.compiler._Compiler`): names, parameters, problems."""
    net = c.sc.network
    if net is None:
        for i, st in enumerate(c.sc.states):
            if st.at is not None:
                c.err(f"states[{i}].at", "a location of the route network (the scenario has no `network`; a "
                      "place's room without one is a `site`)", f"`{st.at}`")
        return None
    T = c.T
    names = [loc.state for loc in net.locations]
    loc_state = np.array([c.name("state", n, c.states, f"network.locations[{i}].state") for i, n in enumerate(names)],
                         np.int64)
    seen = _seen(c, names)
    en_route = c.name("state", net.en_route, c.states, "network.en_route")
    if net.en_route in seen:
        c.err("network.en_route", "a state that is not a location", f"`{net.en_route}`")
    elif en_route >= 0 and c.sc.states[en_route].initial not in (0, 0.0):
        c.err(f"states[{en_route}].initial", "0 (people on routes start at a place)", c.sc.states[en_route].initial)
    _mixing(c, net)
    at_state, at_loc = _at(c, net, seen)

    home = net.home_country if net.home_country is not None else net.locations[0].country
    loc_kind = np.array([KIND_CODES[loc.type] for loc in net.locations], np.int64)
    loc_foreign = np.array([loc.country != home for loc in net.locations], np.bool_)
    loc_pop = np.array([c.param(loc.population, f"network.locations[{i}].population")
                        for i, loc in enumerate(net.locations)], np.int64)
    loc_cap = np.array([-1 if loc.capacity is None else c.param(loc.capacity, f"network.locations[{i}].capacity")
                        for i, loc in enumerate(net.locations)], np.int64)

    link_from, link_to, link_km = [], [], []
    for i, r in enumerate(net.routes):
        a, b = (seen.get(n, -1) for n in r.between)
        for k, n in enumerate(r.between):
            if n not in seen:
                c.err(f"network.routes[{i}].between[{k}]", "a location of the network", f"`{n}`{_hint(n, names)}")
        if a == b and a >= 0:
            c.err(f"network.routes[{i}].between", "two different locations", f"`{r.between[0]}` twice")
        km = c.param(r.km, f"network.routes[{i}].km")
        if a >= 0 and b >= 0 and a != b:
            link_from += [a, b]
            link_to += [b, a]
            link_km += [km, km]
    L = len(names)
    link_from_a, link_to_a = np.array(link_from, np.int64), np.array(link_to, np.int64)
    order = np.argsort(link_from_a, kind="stable")
    adj_ptr = np.zeros(L + 1, np.int64)
    np.add.at(adj_ptr, link_from_a + 1, 1)
    adj_ptr = np.cumsum(adj_ptr)

    closed, camp_closed = _closures(c, net, seen, link_from_a, link_to_a, T, loc_kind)
    conflict, conflict_start = _conflicts(c, net, seen, T)
    spawn, spawn_time = _spawning(c, net, conflict_start, conflict, T)
    spawn_mode, spawn_rate, spawn_expect = local_spawning(c, net.spawning, conflict,
                                                          np.array([c.value(p) for p in loc_pop]))
    floods = compile_floods(c, net, seen, loc_kind == FLOOD_ZONE, T)
    move = np.array([c.param(getattr(net.movement, f), f"network.movement.{f}") for f in MOVE_FIELDS], np.int64)
    for f in ("speed", "walk_speed"):
        slot = move[MOVE_FIELDS.index(f)]
        if c.value(slot) <= 0:
            c.err(f"network.movement.{f}", "a speed > 0 (km a day)", c.value(slot))
    sp = net.spawning
    awareness = int(net.movement.awareness)
    marker = loc_kind == MARKER  # passed through, never a way's end: ways (of 1 route and more) list them
    ways = reach(L, link_from_a, link_to_a, awareness, marker) \
        if awareness >= 2 or (awareness == 1 and marker.any()) else no_ways(L)
    if isinstance(ways, str):
        c.err("network.movement.awareness", "a network and awareness with fewer places within reach", ways)
        ways = no_ways(L)
    return NetModel(
        names=names, loc_state=loc_state, loc_kind=loc_kind, loc_foreign=loc_foreign, loc_pop=loc_pop,
        loc_cap=loc_cap, link_from=link_from_a, link_to=link_to_a, link_km=np.array(link_km, np.int64),
        adj_ptr=adj_ptr, adj_link=order.astype(np.int64), link_closed=closed, camp_closed=camp_closed,
        conflict=conflict, conflict_start=conflict_start, spawn=spawn, spawn_time=spawn_time,
        decay=np.array(sp.decay if sp else [1.0], np.float64), decay_interval=int(sp.decay_interval if sp else 30),
        spawn_mode=spawn_mode, spawn_rate=spawn_rate, take_pop=bool(sp.take_from_population if sp else False),
        spawn_expect=spawn_expect,
        move=move, start_on_foot=net.movement.start_on_foot, avoid_short_stints=net.movement.avoid_short_stints,
        awareness=awareness, en_route=en_route, ways=ways, at_state=at_state, at_loc=at_loc, floods=floods,
        spawn_scale=_spawn_scale(c, sp))


def _spawn_scale(c: Any, sp: Any) -> int:
    """The parameter slot of `spawning.scale`, -1 when it is the number 1 (the total as it is: a run draws
    nothing for it, so scenarios without a scale run exactly as before)."""
    if sp is None or sp.total is None or (not isinstance(sp.scale, str) and float(sp.scale) == 1.0):
        return -1
    return c.param(sp.scale, "network.spawning.scale", "spawn scale")


def _seen(c: Any, names: list[str]) -> dict[str, int]:
    """Each location's first row by name; a name listed again is a problem at its row."""
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen:
            c.err(f"network.locations[{i}].state", "a state not listed before as a location", f"`{n}` again")
        seen.setdefault(n, i)
    return seen


def _hint(name: str, options: list[str]) -> str:
    from refuge.errors import suggest

    return suggest(name, options)


def at_location(sc: Any, name: str) -> list[int]:
    """The states `at:` location `name` (people in process there): a stock, a signal or an `into` of a location
    counts them with its own state's, as a site's name counts its states."""
    got = _AT.get(id(sc.states))
    if got is None or got[0] is not sc.states:  # (worked out once per scenario: a network has thousands)
        by: dict[str, list[int]] = {}
        for i, st in enumerate(sc.states):
            if st.at is not None:
                by.setdefault(st.at, []).append(i)
        got = (sc.states, by)
        _AT.clear()
        _AT[id(sc.states)] = got
    return list(got[1].get(name, []))


_AT: dict[int, tuple[Any, dict[str, list[int]]]] = {}  # at_location's last scenario: its states by location


def _at(c, net, seen: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """States at a location (`at: LOCATION`, processing there): their people count in the location's population
    (its room, a stock of it) but are not the network's to move; so such a state is not itself a location, nor
    en route, and has no site (the location's capacity is its room)."""
    at_state, at_loc = [], []
    for i, st in enumerate(c.sc.states):
        if st.at is None:
            continue
        path = f"states[{i}].at"
        if st.name in seen or st.name == net.en_route:
            c.err(path, "no `at:` on a location of the network or its en-route state (`at:` puts a state of "
                  "processing at a location)", f"`{st.name}` at `{st.at}`")
        elif st.at not in seen:
            c.err(path, "a location of the route network (a `network.locations[].state`)",
                  f"`{st.at}`{_hint(st.at, list(seen))}")
        elif st.site is not None:
            c.err(f"states[{i}].site", f"no site for a state at a location of the route network (its room is "
                  f"`{st.at}`'s network.locations[].capacity)", f"site `{st.site}`")
        else:
            at_state.append(i)
            at_loc.append(seen[st.at])
    return np.array(at_state, np.int64), np.array(at_loc, np.int64)


def _mixing(c, net) -> None:
    """What other mechanisms may do to the network's states. People come into any location by a transition, an
    arrival or an event (they start there as people who have not travelled yet); they leave a camp by a
    transition with a rate or an event's `from` (a camp holds a count, so any of its people may be taken); a
    rule or a `closed` period closes a location (the routes into it, as a closure does). People elsewhere on the
    network, and everyone en route, move by the network's rules alone."""
    kind = {loc.state: loc.type for loc in net.locations}
    camps = {n for n, k in kind.items() if k in ("camp", "idpcamp")}
    inside = set(kind) | {net.en_route}
    states = {st.name: (i, st) for i, st in enumerate(c.sc.states)}
    for n in inside:
        i, st = states.get(n, (None, None))
        if st is None:
            continue
        if st.site is not None:
            c.err(f"states[{i}].site", "no site for a state of the route network (a camp's room is its "
                  "network.locations[].capacity)", f"site `{st.site}`")
        if st.track_stays:
            c.err(f"states[{i}].track_stays", "a counted state (people on the route network are counted, not "
                  "tracked; a state `at:` a location may be tracked)", f"`{n}` with track_stays")
    for j, t in enumerate(c.sc.transitions):
        if t.rate is None and t.source in inside:
            c.err(f"transitions[{j}].duration", f"a `rate` for `{t.name}`: people at a location of the route "
                  f"network are counted, not tracked one by one, so they leave `{t.source}` at a daily rate. For "
                  f"processing that takes time there, put the people in process in a state at it "
                  f"(`{{name: STATE, kind: refuge, at: {t.source}}}`: they count in `{t.source}`'s population, "
                  f"room and evidence), take them into it at a rate (`{{from: {t.source}, to: STATE, rate: R}}`), "
                  "and give the step out of that state its duration and capacity (`{from: STATE, duration: ..., "
                  "capacity: N, to: ...}`)", f"a duration on a transition from `{t.source}`")

    def leaving(n: str, path: str) -> None:
        if n in inside and n not in camps:
            c.err(path, "a camp of the network or a state outside it (people at other locations, and en route, "
                  "move by the network's rules)", f"`{n}`")

    for j, t in enumerate(c.sc.transitions):
        leaving(t.source, f"transitions[{j}].from")
        for n in t.targets() + [getattr(t.when_blocked, "redirect", None)]:
            if n == net.en_route:
                c.err(f"transitions[{j}].to", "a state other than the network's en-route state", f"`{n}`")
    for a, arr in enumerate(c.sc.arrivals):
        for n, path in ((arr.to, f"arrivals[{a}].to"), (getattr(arr.when_blocked, "redirect", None),
                                                         f"arrivals[{a}].when_blocked.redirect")):
            if n == net.en_route:
                c.err(path, "a state other than the network's en-route state", f"`{n}`")
    for e, ev in enumerate(c.sc.events):
        if ev.source_state is not None:
            leaving(ev.source_state, f"events[{e}].from")
        for n, path in ((ev.to, f"events[{e}].to"), (getattr(ev.when_blocked, "redirect", None),
                                                     f"events[{e}].when_blocked.redirect")):
            if n == net.en_route:
                c.err(path, "a state other than the network's en-route state", f"`{n}`")
    for r, rule in enumerate(c.sc.rules):
        for k, act in enumerate(rule.actions):
            if act.close == net.en_route:
                c.err(f"rules[{r}].actions[{k}].close", "a site or state other than the network's en-route state",
                      f"`{act.close}`")


def _closures(c, net, seen: dict[str, int], link_from: np.ndarray, link_to: np.ndarray, T: int,
              loc_kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(routes closed (T, K), camps closed as camps (T, L)), each day."""
    closed = np.zeros((T, link_from.size), np.bool_)
    camp_closed = np.zeros((T, loc_kind.size), np.bool_)
    countries = {loc.country for loc in net.locations}
    country = np.array([loc.country for loc in net.locations] or [""], dtype=object)
    for i, cl in enumerate(net.closures):
        path = f"network.closures[{i}]"
        d0 = c.dayof(cl.start, f"{path}.from") if cl.start >= c.sc.start else 0
        d1 = T - 1 if cl.end is None else min((cl.end - c.sc.start).days, T - 1)
        if cl.end is not None and cl.end < cl.start:
            c.err(f"{path}.to", f"a date on or after `from` ({cl.start})", cl.end)
        if cl.countries is not None:
            for k, n in enumerate(cl.countries):
                if n not in countries:
                    c.err(f"{path}.countries[{k}]", "the country of some location", f"`{n}`"
                          f"{_hint(n, sorted(countries))}")
            a, b = cl.countries
            hit = (((country[link_from] == a) & (country[link_to] == b)) |
                   ((country[link_from] == b) & (country[link_to] == a))) if link_from.size else np.zeros(0, bool)
        elif cl.camp is not None:
            loc = seen.get(cl.camp, -1)
            if loc < 0 or loc_kind[loc] not in (CAMP, IDPCAMP):
                camps = [n for n, i in seen.items() if loc_kind[i] in (CAMP, IDPCAMP)]
                c.err(f"{path}.camp", "a camp of the network", f"`{cl.camp}`{_hint(cl.camp, camps)}")
            elif d1 >= d0:
                camp_closed[max(d0, 0):d1 + 1, loc] = True
            continue
        elif cl.location is not None:
            loc = seen.get(cl.location, -1)
            if loc < 0:
                c.err(f"{path}.location", "a location of the network", f"`{cl.location}`"
                      f"{_hint(cl.location, list(seen))}")
            hit = (link_from == loc) | (link_to == loc)
        else:
            ends = [seen.get(n, -1) for n in cl.route]
            for k, n in enumerate(cl.route):
                if ends[k] < 0:
                    c.err(f"{path}.route[{k}]", "a location of the network", f"`{n}`{_hint(n, list(seen))}")
            hit = (link_from == ends[0]) & (link_to == ends[1])
            if not cl.one_way:
                hit |= (link_from == ends[1]) & (link_to == ends[0])
            if all(e >= 0 for e in ends) and not hit.any():
                c.err(f"{path}.route", "two locations joined by a route", " and ".join(cl.route))
        if d1 >= d0 and hit.size:
            closed[max(d0, 0):d1 + 1, hit] = True
    return closed, camp_closed


def _conflicts(c, net, seen: dict[str, int], T: int) -> tuple[np.ndarray, np.ndarray]:
    L = len(net.locations)
    conflict = np.zeros((T, L))
    start = np.zeros((T, L), np.int64)
    for i, cf in enumerate(net.conflicts):
        path = f"network.conflicts[{i}]"
        loc = seen.get(cf.location, -1)
        if loc < 0:
            c.err(f"{path}.location", "a location of the network", f"`{cf.location}`{_hint(cf.location, list(seen))}")
            continue
        d0 = (cf.start - c.sc.start).days
        d1 = T - 1 if cf.end is None else (cf.end - c.sc.start).days
        if d0 >= T or d1 < 0:
            c.err(f"{path}.from", f"a period overlapping the scenario period {c.sc.start}..{c.sc.end}",
                  f"{cf.start}..{cf.end or ''}")
            continue
        if d1 < d0:
            c.err(f"{path}.to", f"a date on or after `from` ({cf.start})", cf.end)
            continue
        slot = c.param(cf.intensity, f"{path}.intensity")
        value = c.value(slot)
        if value <= 0:
            c.err(f"{path}.intensity", "an intensity > 0", value)
        a, b = max(d0, 0), min(d1, T - 1)
        if (conflict[a:b + 1, loc] > 0).any():
            c.err(f"{path}", "periods of one location that do not overlap", f"`{cf.location}` from {cf.start}")
        conflict[a:b + 1, loc] = value
        start[a:b + 1, loc] = d0
    return conflict, start


def _spawning(c, net, conflict_start: np.ndarray, conflict: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """People spawned per day: the increase of the interpolated whole-number total; a fall is owed first."""
    spawn = np.zeros(T, np.int64)
    began = np.zeros(T, np.bool_)
    began[0] = True
    began[1:] = ((conflict[1:] > 0) & ((conflict[:-1] <= 0) | (conflict_start[1:] != conflict_start[:-1]))).any(axis=1)
    began[1:] |= ((conflict[1:] <= 0) & (conflict[:-1] > 0)).any(axis=1)  # Flee refreshes when one ends too
    spawn_time = np.where(began, np.arange(T), np.maximum(np.arange(T) - 1, 0)).astype(np.int64)
    sp = net.spawning
    if sp is None or sp.total is None:
        return spawn, spawn_time
    pts = sp.total.points or []
    if not pts:
        c.err("network.spawning.total", "a series of cumulative counts (file or points)", "no points")
        return spawn, spawn_time
    days = np.array([(p.date - c.sc.start).days for p in pts], float)
    if np.any(np.diff(days) <= 0):
        c.err("network.spawning.total.points", "dates in increasing order", [str(p.date) for p in pts])
        return spawn, spawn_time
    total = np.floor(np.interp(np.arange(T, dtype=float), days, [p.value for p in pts]) + 1e-9).astype(np.int64)
    debt = 0
    for t in range(T):
        inc = (total[t] if sp.first_day else 0) if t == 0 else total[t] - total[t - 1]
        new = inc - debt
        if new < 0:
            debt, new = -new, 0
        else:
            debt = 0
        spawn[t] = new
    if spawn.sum() > 0 and not (conflict > 0).any():
        c.err("network.conflicts", "at least one conflict zone (people spawn there)", "none")
    return spawn, spawn_time
