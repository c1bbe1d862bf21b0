"""The day: the order in which the mechanisms act, written out once (the reference engine,
`refuge.sim.reference`, follows the same list person by person).

Semantics of one day `t`:

1. Parameters take their scheduled values for day `t` (`parameters`), sites and states their scheduled
   closures (`sites`). Rules then look at the state at the end of day `t-1` (stocks, and flows over the
   trailing window ending on day `t-1`), switch on at `above` and off at `below` (after `min_days`), and while
   on they close sites/states or set/multiply parameters, in the order the rules are declared (`rules`). Then
   each site's room for the day, and each capped transition's capacity on the first day of its period
   (`queues`).
2. Arrivals: groups still waiting to arrive from earlier days try again first (oldest first); then each stream
   draws Poisson(rate) people (or groups of a drawn size) and admits them; people who cannot get in wait and
   try again first the next day. An event brings exactly one group on its day (`arrivals`).
3. Counted states, in declaration order: of the `n` people there at the start of the day,
   Binomial(n, 1 - exp(-sum of rates)) leave, split among the exits in proportion to their rates (exits in
   declaration order). For a transition with a group size, that count is the number of groups, each taking
   `min(size, available)` people, where `available` is the people there at the start of the day who have not
   moved yet today; a transition without groups moves at most `available` people (`counted`).
4. Tracked units (a person, or a group that moves together), in order of entry: a unit whose drawn time in
   state has come tries that transition; otherwise (or if that move was blocked) each constant-rate exit
   competes as above. Units that entered today do not move again unless their time is zero (`tracked`).
5. A move picks its target by the split, and is admitted if the target (and its site) is open and has room for
   the whole group; otherwise it is redirected if the transition says so, or waits in place. A closed site is
   closed to people from outside it; moves between its own states go on, unless the closure is a full stop
   (`moves`, `sites`).
6. Processing capacity: a transition with a capacity moves at most that many people in each of its periods (a
   day, or `days` days from the start; renewed with the parameter's value on a period's first day). Moves take
   it first come, first served, in the order above. It serves people: a group bigger than what is left moves as
   many as fit and the rest wait (keeping their day of entry); a transition with `whole: true` moves groups
   whole, and when the next group does not fit in what is left, nobody else passes that period. A queue (a
   tracked state whose timed exits all take a fixed number of days, one at a capacity) holds its people as
   counts per day of entry; they try the step one by one, each by the split. Those not served wait in place.
   In a counted state, at most the capacity of the people leaving by that transition go (`queues`, `moves`,
   `tracked.cohorts`).
7. The route network (`network`, whose top comment gives its own semantics): people the steps above moved into
   its locations join it, people they took from a camp leave its count; then its day runs with the parameters
   and closed states in force, and it sets its states' stocks.
8. The day is recorded (people whose time has come still waiting for a capped transition whose capacity was not
   used up are noted right after step 4, `queues`): tracked units that left are dropped (keeping entry order)
   and the longest ongoing stay noted; stocks, closures and parameter values are written down.

Each step is a small function `step(t, m, w)` of the day, the model's arrays (`m`, a `refuge.sim.layout.Spec`)
and the run's state (`w`, a `World`), in the module of its mechanism (`refuge.sim.mechanisms`).
"""

from __future__ import annotations

from numba import njit

from refuge.sim.borrow import borrowed, view
from refuge.sim.layout import SpecRef, WorldRef
from refuge.sim.mechanisms.arrivals import admit_arrivals
from refuge.sim.mechanisms.counted import move_counted
from refuge.sim.mechanisms.moves import place_initial, record_stocks, start_moves
from refuge.sim.mechanisms.network.day import network_day, network_initial
from refuge.sim.mechanisms.network.structs import C_FULL, new_net_world
from refuge.sim.mechanisms.parameters import record_values, scheduled_values
from refuge.sim.mechanisms.queues import record_idle, set_budgets
from refuge.sim.mechanisms.rules import apply_rules
from refuge.sim.mechanisms.sites import record_closures, scheduled_closures, set_capacities
from refuge.sim.mechanisms.tracked.step import move_tracked
from refuge.sim.mechanisms.tracked.units import record_units
from refuge.sim.streams import start_streams
from refuge.sim.tables import FULL, FULL_NET


@njit(cache=True)
def run_days(days, spec, net, world, rows, g_net):
    """Days 0 .. days-1 of a run (`world` is changed in place); returns (tables too small, days done)."""
    spec_ref, world_ref = SpecRef(*borrowed(spec)), WorldRef(*borrowed(world))  # `spec`, `world` own the arrays
    m, w = view(spec_ref), view(world_ref)  # and these refs the structs the views point at
    scheduled_values(0, m, w)  # the values the people there at the start are placed with
    start_streams(-1, w)
    place_initial(m, w)
    nw = new_net_world(days, net, network_initial(m, w, net), rows[3], g_net, world.net_entered, world.net_change,
                       world.net_spawned)
    done = days
    for t in range(days):
        start_streams(t, w)  # each decision's stream starts the day afresh (refuge.sim.streams)
        scheduled_values(t, m, w)  # 1
        scheduled_closures(t, m, w)
        apply_rules(t, m, w)
        set_capacities(t, m, w)
        set_budgets(t, m, w)
        start_moves(t, m, w)
        admit_arrivals(t, m, w)  # 2
        move_counted(t, m, w)  # 3
        move_tracked(t, m, w)  # 4 (5, 6: in `moves.try_move`)
        record_idle(t, m, w)
        network_day(t, net, nw, w)  # 7
        if nw.count[C_FULL]:
            w.count[FULL] |= FULL_NET
        record_units(t, m, w)  # 8
        record_stocks(t, m, w)
        record_closures(t, m, w)
        record_values(t, m, w)
        if w.count[FULL]:
            done = t
            break
    full = w.count[FULL]
    keep_until_here(spec_ref, world_ref)  # the views are not used below
    return full, done


@njit(cache=True)
def keep_until_here(spec_ref, world_ref):
    """Nothing: a last use of the structrefs, so that Numba releases them only after the views' last use."""
    return spec_ref.trans.shape[0] + world_ref.count.shape[0]
