"""Network movement: people move among locations (states) along routes, as Flee models flight to camps.

Semantics of one day `t` (shared with `reference.py`, which does the same with one object
per person, and read from Flee's code at 02cd2cbd, which it follows where its summary differs). The day comes
after the other mechanisms' steps (`refuge.sim.day`), with the parameter values and closed states in force after
its rules:

0. **The rest of the scenario.** People whom transitions, arrivals or events put into a location today start
   there as people who have not travelled yet; people taken from a camp by a transition or an event are any
   of the people counted there. (Only camps may be left that way, and nothing else enters or leaves the
   en-route state: the compiler sees to it.) People in a state `at:` a location (processing there) are at it:
   they count in its population (the taper below reads everyone there), not in its state's stock, and move by
   their state's transitions only; the change in their number since yesterday is taken in here.
1. **Places.** A location is a conflict zone on the days a `conflicts` entry covers it (intensity `c`, begun on
   day `b`), else a town or a camp. Its score is 1, x `foreign_weight` outside the home country, x
   `camp_weight` for a camp, x `conflict_weight ** (decay(t - b) * c)` for a conflict zone, where `decay` is
   the factor of the interval (`decay_interval` days) since the conflict began. A camp closed as a camp that
   day (a `camp` closure) is a town: no camp weight, a town's move chance, never too full to set out for (and
   while a scenario has such closures, people who reach a camp stay one by one, with their recent travel,
   instead of joining its count). A forwarding hub and a marker are left with certainty; a marker is never a
   way's end (route choice looks past it, over the length through it: see 4).
2. **Spawning.** `spawn[t]` new people appear at the conflict zones, spread multinomially in proportion to
   population x intensity x decay (the decay of day t-1 unless a conflict began on day t, as Flee refreshes
   its weights). They have not travelled yet. With conflict-driven spawning (Flee's), each conflict zone makes
   its own number instead, by its intensity (`spawn.py`). With `take_from_population`, a location's
   population (its weight, or its pop_ratio number) is less everyone spawned there before.
3. **Closures.** A route closed today (by `closures`, or because the location it leads to is closed by a
   `closed` period or a rule) is not chosen; people already on it turn back on arrival. People at a place with
   no open route stay until one opens, then try to leave as from that day.
4. **Decisions.** Everyone at a place (not on a route) leaves with the move chance of the place (conflict
   zone, town, camp, IDP camp) and picks a route out of it with weight
   `((weight_softening + score(end)) / (distance_softening + km) ** distance_power x taper(end)) ** weight_power`,
   where taper is 1 below `capacity_buffer` x room, 0 at the room (capacity x `capacity_scaling`) and linear
   in between. A camp whose taper is under 0.5 is not set out for (the person stays).
   With `awareness` A >= 2 (Flee's look-ahead), the choice is among the ways of 1 to A routes out of the place
   that pass no place twice and use no closed route, each weighed as above by where it ends over its whole
   length (the fast engine lists none of them: it picks where the way ends, then the way, with the same
   chances, `ways.py`; the reference lists them all); the person sets out on its first route and, arriving,
   goes on along the way for sure (no move-chance draw, the same day if distance is left, else the next day)
   unless its next route is closed or it ends at a camp whose taper is under 0.5: then the way is given up and
   they stay. Someone turned back on a way gives it up and spends the next day there (as Flee looks for the
   way's route from the wrong place).
5. **Travel.** People on a route advance `speed` km a day (`walk_speed` on their first route when
   `start_on_foot`) and arrive once they have covered more than its length; whoever arrives with part of
   the day's distance left decides again at once (a town is left for sure when `avoid_short_stints` and the
   person's recent travel is short: (recent + km today / speed) / 2 < 0.5), and a new route starts with a
   full day's distance. `recent` halves each night and adds half the day's km / speed. The day's arrivals
   are taken by the day their people were made, oldest first (Flee moves its agents in the order it made
   them, which decides who reaches a camp that fills during the day).

Cost grows with the people who move: camps hold counts (a camp's leavers are a binomial draw and their
routes a multinomial one); only people at other places or on routes are kept one by one, and a person
who settles in a camp becomes a count again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from refuge.sim.declare import Array, Mechanism


def _net_loc(m: Any) -> np.ndarray:
    """(S,) the route network's location of each state, -1 none."""
    net_loc = np.full(len(m.state_names), -1, np.int64)
    if m.net is not None:
        net_loc[m.net.loc_state] = np.arange(len(m.net.loc_state))
    return net_loc


def network_arrays(net: Any, S: int, records: tuple) -> tuple:
    """(entered (days, S), net change (days, S), spawned (days,)) of a run's network, by state; Nones without one."""
    if net is None:
        return None, None, None
    entered, change, spawned = records
    days = entered.shape[0]
    ent = np.zeros((days, S), np.int64)
    ent[:, net.loc_state] = entered
    chg = np.zeros((days, S), np.int64)
    chg[:, net.loc_state] = change[:, :-1]
    chg[:, net.en_route] = change[:, -1]
    return ent, chg, spawned


def _result(k: int) -> Any:
    def get(w: Any, m: Any) -> Any:
        return network_arrays(m.net, len(m.state_names), (w.net_entered, w.net_change, w.net_spawned))[k]

    return get


DECL = Mechanism(
    "network movement",
    spec=("net_loc",),
    derive={"net_loc": _net_loc},
    world=(Array("net_entered", "T,L", doc="record: people entering each location by the network"),
           Array("net_change", "T,L1", doc="record: change of each location's stock (last: en route) by it"),
           Array("net_spawned", "T", doc="record: people spawned each day")),
    results={"entered": _result(0), "net_change": _result(1), "spawned": _result(2)},
)
