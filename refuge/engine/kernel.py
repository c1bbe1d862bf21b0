"""The fast engine: daily steps, counts where exits are memoryless, units where time in state matters.

Semantics of one day `t` (shared with `refuge.engine.reference`, which does the same
person by person):

1. Parameters take their scheduled values for day `t`. Rules then look at the
   state at the end of day `t-1` (stocks, and flows over the trailing window
   ending on day `t-1`), switch on at `above` and off at `below` (after
   `min_days`), and while on they close sites/states or set/multiply parameters,
   in the order the rules are declared.
2. Arrivals: groups still waiting to arrive from earlier days try again first (oldest
   first); then each stream draws Poisson(rate) people (or groups of a drawn size) and
   admits them; people who cannot get in wait and try again first the next day.
3. Counted states, in declaration order: of the `n` people there at the start
   of the day, Binomial(n, 1 - exp(-sum of rates)) leave, split among the exits in
   proportion to their rates (exits in declaration order). For a transition with a
   group size, that count is the number of groups, each taking `min(size, available)`
   people, where `available` is the people there at the start of the day who have not
   moved yet today; a transition without groups moves at most `available` people.
4. Tracked units (a person, or a group that moves together), in order of entry:
   a unit whose drawn time in state has come tries that transition; otherwise
   (or if that move was blocked) each constant-rate exit competes as above.
   Units that entered today do not move again unless their time is zero.
5. A move picks its target by the split, and is admitted if the target (and
   its site) is open and has room for the whole group; otherwise it is
   redirected if the transition says so, or waits in place. A closed site is
   closed to people from outside it; moves between its own states go on,
   unless the closure is a full stop.
6. Processing capacity: a transition with a capacity moves at most that many people in
   each of its periods (a day, or `days` days from the start; renewed with the parameter's
   value on a period's first day). Moves take it first come, first served, in the order
   above; when the next mover (a person, a group, a unit) does not fit in what is left,
   the transition moves nobody else that period. Those not served wait in place. In a
   counted state, at most the capacity of the people leaving by that transition go.

7. The route network (`refuge.engine.network`, whose top comment gives its own semantics): people the steps
   above moved into its locations join it, people they took from a camp leave its count; then its day runs
   with the parameters and closed states in force, and it sets its states' stocks.

`run_days` is that list: one small function per step, each `step(t, m, w)` of the day, the
model's arrays (`m`, a `refuge.engine.world.Spec`) and the run's state (`w`, a `World`).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from numba import njit

from refuge.engine.network import C_FULL, net_spec, network_arrays, network_day, new_net_world
from refuge.engine.streams import network_stream, streams
from refuge.engine.world import (
    BIG,
    FULL,
    FULL_NET,
    FULL_PEND,
    FULL_STAYS,
    FULL_UNITS,
    N_PEND,
    N_STAYS,
    N_UNITS,
    U_ALIVE,
    U_DUE,
    U_DUETR,
    U_ENTRY,
    U_SIZE,
    U_STATE,
    SpecRef,
    WorldRef,
    borrowed,
    new_world,
    spec_of,
    view,
)
from refuge.model.compiler import (
    A_END,
    A_EXACT,
    A_FROM,
    A_GRP,
    A_GRP_A,
    A_GRP_B,
    A_GRP_EMP,
    A_RATE,
    A_REDIR,
    A_START,
    A_TARGET,
    ACT_CLOSE_SITE,
    ACT_CLOSE_STATE,
    ACT_MULTIPLY,
    ACT_SET,
    EMPIRICAL,
    EXPONENTIAL,
    FIXED,
    GAMMA,
    LOGNORMAL,
    SIG_FLOW,
    T_CAP,
    T_CAP_DAYS,
    T_DUR,
    T_DUR_A,
    T_DUR_B,
    T_DUR_EMP,
    T_EDGE_HI,
    T_EDGE_LO,
    T_GRP,
    T_GRP_A,
    T_GRP_B,
    T_GRP_EMP,
    T_IS_DUR,
    T_RATE,
    T_REDIR,
    T_REDIR_EDGE,
    Model,
)
from refuge.scenario.limits import MAX_UNITS

# Rows of the unit, stay and waiting-group tables that served earlier runs of a scenario: a run starts with
# them, so only the first runs of a scenario in a process may need to be made again with bigger tables.
_TABLE_ROWS: dict[tuple[str, int], tuple[int, int, int]] = {}


def run_model(m: Model, days: int, seed: int) -> tuple:
    """Run the compiled model for `days` days from `seed`; the arrays of a Run (the last three: the route
    network's entries, net change and spawned, by state; None without a network).

    The tables have fixed sizes within a run; when one is too small the run stops, and is made again from
    the same seed (so with the same draws) with the tables grown to what the days done so far suggest."""
    spec, net = spec_of(m), net_spec(m.net)
    key = (m.scenario.name, days)
    initial = [max(round(m.pbase[0, m.initial_param[s]]), 0) for s in range(len(m.state_names))]
    initial_tracked = int(sum(n for s, n in enumerate(initial) if m.tracked[s]))
    # everyone who can ever be one by one on the network, without people brought in by other mechanisms
    net_rows = 1 if m.net is None else int(sum(initial[s] for s in m.net.loc_state) + m.net.spawn[:days].sum() + 1)
    rows = _TABLE_ROWS.get(key, (max(1024, 2 * initial_tracked), 1024, 16, net_rows))
    while True:
        gens = streams(seed)
        g_net = network_stream(seed) if m.net is not None else gens[0]  # (no draw without a network)
        out = run_days(days, spec, net, np.array(rows, np.int64), *gens, g_net)
        full, done = out[-2], out[-1]
        if not full:
            _TABLE_ROWS[key] = rows
            return out[:-3] + network_arrays(m.net, len(m.state_names), out[-3])
        scale = max(2.0, 1.25 * days / max(done, 1))
        grown = tuple(int(r * scale) if full & bit else r for r, bit in zip(rows, (FULL_UNITS, FULL_STAYS,
                                                                                      FULL_PEND, FULL_NET)))
        if any(g > max(MAX_UNITS, r) for g, r in zip(grown, rows)):
            _too_many(m, done)
        rows = grown


def _too_many(m: Model, done: int) -> None:
    from refuge.errors import RefugeError

    raise RefugeError(f"{m.origin}: more than {MAX_UNITS:,} groups at once in states whose exits depend on time in "
                      f"state, or stays recorded, by {m.start + dt.timedelta(days=int(done))}; lower the arrival "
                      "rates or initial numbers, shorten the period, or give those states constant-rate exits so "
                      "their people are counted")


@njit(cache=True)
def run_days(days, spec, net, rows, g_arr, g_dep, g_dur, g_split, g_grp, g_net):
    world = new_world(days, spec, rows, g_arr, g_dep, g_dur, g_split, g_grp)
    spec_ref, world_ref = SpecRef(*borrowed(spec)), WorldRef(*borrowed(world))  # `spec`, `world` own the arrays
    m, w = view(spec_ref), view(world_ref)  # and these refs the structs the views point at
    place_initial(m, w)
    nw = new_net_world(days, net, network_initial(m, w, net), rows[3], g_net)
    done = days
    for t in range(days):
        set_policies(t, m, w)  # 1
        admit_arrivals(t, m, w)  # 2
        move_counted(t, m, w)  # 3
        move_tracked(t, m, w)  # 4 (5, 6: in `try_move`)
        network_day(t, net, nw, w)  # 7
        if nw.count[C_FULL]:
            w.count[FULL] |= FULL_NET
        record_day(t, m, w)
        if w.count[FULL]:
            done = t
            break
    full = w.count[FULL]
    keep_until_here(spec_ref, world_ref)  # the views are not used below
    return results(world) + ((nw.entered, nw.change, nw.spawned), full, done)


@njit(cache=True)
def network_initial(m, w, net):
    """People at each location of the route network at the start (the network keeps them from here on)."""
    L = net.loc_state.size
    out = np.zeros(L, np.int64)
    for l in range(L):
        out[l] = w.stock[net.loc_state[l]]
    w.net_in[:] = 0
    return out


@njit(cache=True)
def keep_until_here(spec_ref, world_ref):
    """Nothing: a last use of the structrefs, so that Numba releases them only after the views' last use."""
    return spec_ref.trans.shape[0] + world_ref.count.shape[0]


# --- before day 0 -----------------------------------------------------------------------------------


@njit(cache=True)
def place_initial(m, w):
    """Initial stocks, as if they came the day before the start (a tracked state: one unit per person)."""
    for s in range(m.state_site.shape[0]):
        k = np.int64(round(w.pv[m.initial_param[s]]))
        if k <= 0:
            continue
        if m.tracked[s]:
            for _ in range(k):
                place(m, w, s, 1, -1)
        else:
            place(m, w, s, k, -1)


# --- 1. parameters, rules, closures ---------------------------------------------------------------------


@njit(cache=True)
def set_policies(t, m, w):
    w.pv[:] = m.pbase[t]
    w.closed_site[:] = m.closed_site_sched[t]
    w.stopped_site[:] = m.stopped_site_sched[t]
    w.closed_state[:] = m.closed_state_sched[t]
    update_flow_signals(t, m, w)
    for r in range(m.rule_sig.shape[0]):
        apply_rule(t, r, m, w)
        w.rule_out[t, r] = w.rule_on[r]
    cap = w.cap
    for n in range(cap.shape[0]):
        c = m.capacity_param[n]
        cap[n] = BIG if c < 0 else np.int64(math.floor(w.pv[c] + 1e-9))
    set_budgets(t, m, w)
    w.n0[:] = w.stock


@njit(cache=True)
def set_budgets(t, m, w):
    """Processing capacity: at the start of each of its periods, a capped transition may move as many people
    as its capacity parameter says that day (what a period leaves unused is lost)."""
    for j in range(m.trans.shape[0]):
        c = m.trans[j, T_CAP]
        if c >= 0 and t % m.trans[j, T_CAP_DAYS] == 0:
            w.budget[j] = max(np.int64(math.floor(w.pv[c] + 1e-9)), 0)


@njit(cache=True)
def update_flow_signals(t, m, w):
    """Each flow signal over its trailing window ending yesterday: yesterday's flows come in, the day that
    falls out of the window goes (sums of whole numbers, so the order of adding does not matter)."""
    for r in range(m.rule_sig.shape[0]):
        if m.rule_sig[r] != SIG_FLOW:
            continue
        old = t - 1 - m.rule_window[r]
        for k in range(m.rule_sig_ptr[r], m.rule_sig_ptr[r + 1]):
            e = m.rule_sig_idx[k]
            if t >= 1:
                w.flow_signal[r] += w.flows[t - 1, e]
            if old >= 0:
                w.flow_signal[r] -= w.flows[old, e]


@njit(cache=True)
def rule_signal(t, r, m, w):
    """Yesterday's value of rule `r`'s signal: a flow over its window, or a stock."""
    if m.rule_sig[r] == SIG_FLOW:
        return w.flow_signal[r]
    sig = 0.0
    for k in range(m.rule_sig_ptr[r], m.rule_sig_ptr[r + 1]):
        sig += w.stock[m.rule_sig_idx[k]]
    return sig


@njit(cache=True)
def apply_rule(t, r, m, w):
    """Switch rule `r` on or off (hysteresis, minimum days on) and, while on, take its actions."""
    if t < m.rule_start[r] or t > m.rule_end[r]:
        w.rule_on[r] = False
        return
    sig = rule_signal(t, r, m, w)
    on_level = w.pv[m.rule_above[r]]
    has_below = m.rule_below[r] >= 0
    off_level = w.pv[m.rule_below[r]] if has_below else on_level
    if not w.rule_on[r]:
        if sig >= on_level:
            w.rule_on[r] = True
            w.rule_since[r] = t
    elif t - w.rule_since[r] >= m.rule_min_days[r]:
        if (has_below and sig <= off_level) or (not has_below and sig < on_level):
            w.rule_on[r] = False
    if w.rule_on[r]:
        for k in range(m.act_ptr[r], m.act_ptr[r + 1]):
            kind, target, value = m.act_kind[k], m.act_target[k], m.act_value[k]
            if kind == ACT_CLOSE_SITE:
                w.closed_site[target] = True
                if value == 1:  # a full stop
                    w.stopped_site[target] = True
            elif kind == ACT_CLOSE_STATE:
                w.closed_state[target] = True
            elif kind == ACT_SET:
                w.pv[target] = w.pv[value]
            elif kind == ACT_MULTIPLY:
                w.pv[target] *= w.pv[value]


# --- 2. arrivals ------------------------------------------------------------------------------------------


@njit(cache=True)
def admit_arrivals(t, m, w):
    retry_waiting_groups(t, m, w)
    for a in range(m.arr.shape[0]):
        arrive(t, a, m, w)


@njit(cache=True)
def retry_waiting_groups(t, m, w):
    """Groups that could not get in on earlier days try again, oldest first; those still shut out keep waiting."""
    kept = 0
    for q in range(w.count[N_PEND]):
        a, size = w.pend[q, 0], w.pend[q, 1]
        src = m.arr[a, A_FROM]
        if src >= 0:  # an event's group is taken from a state: as many as are still there
            size = min(size, w.n0[src])
            if size <= 0:
                continue  # nobody left to take: the event lapses
            step_out(m, w, src, size)
        dest = group_dest(m, w, m.arr[a, A_TARGET], m.arr[a, A_REDIR], size, -1)
        if dest >= 0:
            place(m, w, dest, size, t)
            w.arrived[t, a] += size
        else:
            if src >= 0:
                step_out(m, w, src, -size)
            w.pend[kept] = w.pend[q]
            kept += 1
    w.count[N_PEND] = kept


@njit(cache=True)
def arrive(t, a, m, w):
    """Stream `a` today: Poisson(rate) new people or groups, plus single people still waiting from before.
    An event (A_EXACT) brings exactly one group on its day, taken from its `from` state if it has one."""
    if t < m.arr[a, A_START] or t > m.arr[a, A_END]:
        k = w.backlog[a]
    elif m.arr[a, A_EXACT]:
        k = 1
    else:
        k = w.g_arr.poisson(max(w.pv[m.arr[a, A_RATE]], 0.0)) + w.backlog[a]
    w.backlog[a] = 0
    if k == 0:
        return
    target, redir = m.arr[a, A_TARGET], m.arr[a, A_REDIR]
    if m.arr[a, A_GRP] < 0:
        got = admit_people(m, w, target, k, t, -1)
        if got < k and redir >= 0:
            got += admit_people(m, w, redir, k - got, t, -1)
        w.arrived[t, a] += got
        w.backlog[a] += k - got
        return
    for _ in range(k):
        size = max(draw(m, w.g_grp, m.arr[a, A_GRP], w.pv[m.arr[a, A_GRP_A]], w.pv[m.arr[a, A_GRP_B]],
                        m.arr[a, A_GRP_EMP]), 1)
        src = m.arr[a, A_FROM]
        if src >= 0:  # an event's group is taken from a state: as many as are there
            size = min(size, w.n0[src])
            if size <= 0:
                continue  # nobody there to take: the event lapses
            step_out(m, w, src, size)
        dest = group_dest(m, w, target, redir, size, -1)
        if dest >= 0:
            place(m, w, dest, size, t)
            w.arrived[t, a] += size
            continue
        if src >= 0:
            step_out(m, w, src, -size)  # they wait where they were and try again tomorrow
        if w.count[N_PEND] == w.pend.shape[0]:
            w.count[FULL] |= FULL_PEND
        else:
            w.pend[w.count[N_PEND], 0] = a
            w.pend[w.count[N_PEND], 1] = size
            w.count[N_PEND] += 1


# --- 3. counted states ------------------------------------------------------------------------------------


@njit(cache=True)
def move_counted(t, m, w):
    for s in range(m.state_site.shape[0]):
        if not m.tracked[s] and w.n0[s] > 0:
            leave_counted(t, s, m, w)


@njit(cache=True)
def leave_counted(t, s, m, w):
    """Binomial(n, 1 - exp(-sum of rates)) of the people there at the start of the day leave, split among
    the exits by rate; each exit then moves them one by one (as counts) or in groups."""
    lo, hi = m.out_ptr[s], m.out_ptr[s + 1]
    h = 0.0
    for q in range(lo, hi):
        h += max(w.pv[m.trans[m.out_trans[q], T_RATE]], 0.0)
    if h <= 0.0:
        return
    if h != w.hazard[s]:  # rates change only with schedules and rules
        w.hazard[s] = h
        w.leave_p[s] = 1.0 - math.exp(-h)
    leaving = w.g_dep.binomial(w.n0[s], w.leave_p[s])
    for q in range(lo, hi):
        w.rates[q - lo] = max(w.pv[m.trans[m.out_trans[q], T_RATE]], 0.0)
    multinomial(w.g_dep, leaving, w.rates, hi - lo, h, w.tcounts)
    avail = w.n0[s]
    for q in range(lo, hi):
        k = w.tcounts[q - lo]
        if k == 0:
            continue
        j = m.out_trans[q]
        split_probs(m, w, j)
        if m.trans[j, T_GRP] >= 0:
            avail = groups_leave(t, s, j, k, avail, m, w)
        else:
            avail = people_leave(t, s, j, k, avail, m, w)


@njit(cache=True)
def groups_leave(t, s, j, k, avail, m, w):
    """`k` groups set off by transition `j`, each of a drawn size (at most the people not yet moved today);
    a group that cannot get in waits where it was. Returns the people still available."""
    elo, ehi = m.trans[j, T_EDGE_LO], m.trans[j, T_EDGE_HI]
    for _ in range(k):
        if avail <= 0 or w.budget[j] <= 0 or w.count[FULL]:  # a full table: the run is made again
            break
        size = max(draw(m, w.g_grp, m.trans[j, T_GRP], w.pv[m.trans[j, T_GRP_A]], w.pv[m.trans[j, T_GRP_B]],
                        m.trans[j, T_GRP_EMP]), 1)
        size = min(size, avail)
        e = elo + pick(w.g_split, w.probs, ehi - elo)
        if try_move(t, s, size, j, e, m, w) >= 0:
            avail -= size
    return avail


@njit(cache=True)
def people_leave(t, s, j, k, avail, m, w):
    """`k` people (at most those not yet moved today) leave by transition `j`, split among its targets;
    per target as many as fit enter, then the redirect, the others wait. Returns the people still available."""
    elo, ehi = m.trans[j, T_EDGE_LO], m.trans[j, T_EDGE_HI]
    redir, redir_edge = m.trans[j, T_REDIR], m.trans[j, T_REDIR_EDGE]
    multinomial(w.g_split, min(k, avail, w.budget[j]), w.probs, ehi - elo, 1.0, w.ecounts)
    for e in range(elo, ehi):
        n = w.ecounts[e - elo]
        if n == 0:
            continue
        take(m, w, s, n)  # they leave first, freeing room in a shared site
        got = admit_people(m, w, m.edge_target[e], n, t, s)
        w.flows[t, e] += got
        if got < n and redir >= 0:
            got2 = admit_people(m, w, redir, n - got, t, s)
            w.flows[t, redir_edge] += got2
            got += got2
        take(m, w, s, got - n)  # the blocked wait where they were
        avail -= got
        w.budget[j] -= got
    return avail


# --- 4. tracked units ---------------------------------------------------------------------------------------


@njit(cache=True)
def move_tracked(t, m, w):
    """Units in order of entry; units placed today are appended and reached in the same pass. A unit whose
    time in state has come tries that transition; otherwise (or if blocked) its state's constant-rate exits
    compete, unless it entered today."""
    rate_hazards(m, w)
    units, hazard, leave_p = w.units, w.hazard, w.leave_p
    i = 0
    while i < w.count[N_UNITS]:
        if units[i, U_ALIVE]:
            s = units[i, U_STATE]
            moved = False
            if units[i, U_DUE] <= t and units[i, U_DUETR] >= 0:
                moved = fire(t, i, units[i, U_DUETR], m, w)
            if not moved and units[i, U_ENTRY] != t and hazard[s] > 0.0 and w.g_dep.random() < leave_p[s]:
                moved = fire(t, i, rate_exit(s, m, w), m, w)
            if moved:
                record_stay(t, i, s, w)
        i += 1


@njit(cache=True)
def rate_hazards(m, w):
    """Today's total hazard of the constant-rate exits of each tracked state, and the chance to leave by one."""
    for s in range(m.state_site.shape[0]):
        if not m.tracked[s]:
            continue
        h = 0.0
        for q in range(m.out_ptr[s], m.out_ptr[s + 1]):
            j = m.out_trans[q]
            if m.trans[j, T_IS_DUR] == 0:
                h += max(w.pv[m.trans[j, T_RATE]], 0.0)
        if h != w.hazard[s]:  # rates change only with schedules and rules
            w.hazard[s] = h
            w.leave_p[s] = 1.0 - math.exp(-h)


@njit(cache=True)
def rate_exit(s, m, w):
    """Which constant-rate exit of state `s` a leaving unit takes, picked by rate."""
    u = w.g_dep.random() * w.hazard[s]
    acc = 0.0
    jj = -1
    for q in range(m.out_ptr[s], m.out_ptr[s + 1]):
        j = m.out_trans[q]
        if m.trans[j, T_IS_DUR] == 0:
            acc += max(w.pv[m.trans[j, T_RATE]], 0.0)
            jj = j
            if u < acc:
                break
    return jj


@njit(cache=True)
def record_stay(t, i, s, w):
    """Unit `i` left state `s` today: a completed stay."""
    k = w.count[N_STAYS]
    if k == w.stays.shape[0]:
        w.count[FULL] |= FULL_STAYS
        return
    w.stays[k, 0] = s
    w.stays[k, 1] = w.units[i, U_ENTRY]
    w.stays[k, 2] = t
    w.stays[k, 3] = w.units[i, U_SIZE]
    w.count[N_STAYS] = k + 1


@njit(cache=True)
def fire(t, i, j, m, w):
    """Unit `i` tries transition `j` by an edge picked by its split. Returns whether it moved."""
    split_probs(m, w, j)
    e = m.trans[j, T_EDGE_LO] + pick(w.g_split, w.probs, m.trans[j, T_EDGE_HI] - m.trans[j, T_EDGE_LO])
    if try_move(t, w.units[i, U_STATE], w.units[i, U_SIZE], j, e, m, w, i) < 0:
        return False
    return True


# --- 5. moves ----------------------------------------------------------------------------------------------------


@njit(cache=True)
def try_move(t, s, size, j, e, m, w, unit=-1):
    """`size` people leave `s` together by edge `e` of transition `j`: leaving first (so a move within one site
    needs no extra room), then into the edge's target if it has room, else the redirect, else back where they
    were. A moving tracked unit (`unit`) is retired. Returns the edge taken, or -1 if they wait."""
    if size > w.budget[j]:  # first come, first served: nobody behind them passes today
        w.budget[j] = 0
        return -1
    dest = m.edge_target[e]
    take(m, w, s, size)
    if room(m, w, dest, s) < size and m.trans[j, T_REDIR] >= 0:
        dest, e = m.trans[j, T_REDIR], m.trans[j, T_REDIR_EDGE]
    if room(m, w, dest, s) < size:
        take(m, w, s, -size)
        return -1
    if unit >= 0:
        w.units[unit, U_ALIVE] = 0
    place(m, w, dest, size, t)
    w.flows[t, e] += size
    w.budget[j] -= size
    return e


@njit(cache=True)
def room(m, w, target, source):
    """People state `target` can take now from state `source` (-1: from outside): 0 if the state is closed, or
    its site is stopped, or closed and `source` is not in it."""
    if w.closed_state[target]:
        return np.int64(0)
    n = m.state_site[target]
    if n < 0:
        return BIG
    if w.stopped_site[n] or (w.closed_site[n] and (source < 0 or m.state_site[source] != n)):
        return np.int64(0)
    return max(w.cap[n] - w.occ[n], 0)


@njit(cache=True)
def group_dest(m, w, target, redir, size, source):
    """Where a whole group can go: the target, else the redirect, else nowhere (-1)."""
    if room(m, w, target, source) >= size:
        return target
    if redir >= 0 and room(m, w, redir, source) >= size:
        return redir
    return -1


@njit(cache=True)
def take(m, w, s, k):
    """`k` people step out of state `s` (negative: step back in)."""
    w.stock[s] -= k
    if m.state_site[s] >= 0:
        w.occ[m.state_site[s]] -= k
    if m.net_loc[s] >= 0:
        w.net_out[s] += k


@njit(cache=True)
def step_out(m, w, s, k):
    """`k` people of counted state `s` leave it before today's moves (an event takes them)."""
    take(m, w, s, k)
    w.n0[s] -= k


@njit(cache=True)
def place(m, w, dest, size, t):
    """Put `size` people into `dest` on day `t` (room already checked); in a tracked state they become one
    unit, with a drawn time in state."""
    w.stock[dest] += size
    if m.state_site[dest] >= 0:
        w.occ[m.state_site[dest]] += size
    if m.net_loc[dest] >= 0:
        w.net_in[dest] += size
    if m.tracked[dest]:
        k = w.count[N_UNITS]
        if k == w.units.shape[0]:
            w.count[FULL] |= FULL_UNITS
            return
        new_unit(m, w, k, dest, size, t)
        w.count[N_UNITS] = k + 1


@njit(cache=True)
def admit_people(m, w, dest, k, t, source):
    """Admit up to `k` people from `source` (-1: from outside; each a unit of one if `dest` is tracked).
    Returns how many got in."""
    got = min(k, room(m, w, dest, source))
    if got <= 0:
        return np.int64(0)
    if m.tracked[dest]:
        for _ in range(got):
            place(m, w, dest, 1, t)
            if w.count[FULL]:  # the unit table is full: this run is made again with a bigger one
                break
    else:
        place(m, w, dest, got, t)
    return got


@njit(cache=True)
def new_unit(m, w, i, s, size, entry):
    """Row `i` of the unit table: people entering tracked state `s`, and the first of its timed exits."""
    units = w.units
    units[i, U_STATE] = s
    units[i, U_SIZE] = size
    units[i, U_ENTRY] = entry
    units[i, U_ALIVE] = 1
    due = BIG
    duetr = -1
    for q in range(m.out_ptr[s], m.out_ptr[s + 1]):
        j = m.out_trans[q]
        if m.trans[j, T_IS_DUR]:
            d = entry + draw(m, w.g_dur, m.trans[j, T_DUR], w.pv[m.trans[j, T_DUR_A]], w.pv[m.trans[j, T_DUR_B]],
                             m.trans[j, T_DUR_EMP])
            if d < due:
                due = d
                duetr = j
    units[i, U_DUE] = due
    units[i, U_DUETR] = duetr


# --- end of day -------------------------------------------------------------------------------------------------


@njit(cache=True)
def record_day(t, m, w):
    """Drop units that left (keeping entry order), note the longest ongoing stay per state, record the day."""
    units, max_stay = w.units, w.max_stay
    kept = 0
    for i in range(w.count[N_UNITS]):
        if units[i, U_ALIVE]:
            if kept != i:
                for c in range(units.shape[1]):
                    units[kept, c] = units[i, c]
            s = units[kept, U_STATE]
            d = t - units[kept, U_ENTRY]
            if d > max_stay[t, s]:
                max_stay[t, s] = d
            kept += 1
    w.count[N_UNITS] = kept
    w.stocks[t] = w.stock
    w.closed_site_out[t] = w.closed_site
    w.closed_state_out[t] = w.closed_state
    w.stopped_site_out[t] = w.stopped_site
    w.params[t] = w.pv


@njit(cache=True)
def results(w):
    for q in range(w.count[N_PEND]):
        w.backlog[w.pend[q, 0]] += w.pend[q, 1]
    nu = w.count[N_UNITS]
    return (w.stocks, w.flows, w.arrived, w.closed_site_out, w.closed_state_out, w.rule_out, w.max_stay, w.params,
            w.stays[: w.count[N_STAYS]].copy(), w.units[:nu, :3].copy(), w.units[:nu, U_SIZE].copy(), w.backlog,
            w.stopped_site_out)


# --- draws ----------------------------------------------------------------------------------------------------


@njit(cache=True)
def draw(m, g, code, a, b, emp):
    """Whole days (or people) from a distribution with parameter values `a`, `b`. A continuous draw `x` is
    rounded down or up at random, up with probability of its fraction, so the mean is kept."""
    if code == FIXED:
        return max(np.int64(round(a)), 0)
    if code == EXPONENTIAL:
        return whole(g, g.exponential(a))
    if code == GAMMA:
        shape = (a / b) ** 2
        return whole(g, g.gamma(shape, b * b / a))
    if code == LOGNORMAL:
        return whole(g, a * math.exp(b * g.standard_normal()))
    if code == EMPIRICAL:
        u = g.random()
        lo, hi = m.emp_ptr[emp], m.emp_ptr[emp + 1]
        for k in range(lo, hi):
            if u < m.emp_cdf[k]:
                return m.emp_values[k]
        return m.emp_values[hi - 1]
    return np.int64(0)


@njit(cache=True)
def whole(g, x):
    """`x` (>= 0) to a whole number without bias: floor(x + U), U uniform, is floor(x) + 1 with probability
    x - floor(x)."""
    return np.int64(math.floor(x + g.random()))


@njit(cache=True)
def split_probs(m, w, j):
    """Probabilities of transition `j`'s targets into `w.probs`; `rest` takes what the others leave."""
    lo, hi = m.trans[j, T_EDGE_LO], m.trans[j, T_EDGE_HI]
    out = w.probs
    total = 0.0
    rest = -1
    for e in range(lo, hi):
        if m.edge_p[e] < 0:
            rest = e
            out[e - lo] = 0.0
        else:
            q = min(max(w.pv[m.edge_p[e]], 0.0), 1.0)
            out[e - lo] = q
            total += q
    if rest >= 0:
        out[rest - lo] = max(1.0 - total, 0.0)
        total = max(total, 1.0)
    if total <= 0.0:
        out[0] = 1.0
        total = 1.0
    for k in range(hi - lo):
        out[k] /= total


@njit(cache=True)
def multinomial(g, n, weights, size, total, out):
    """Split `n` among the first `size` categories in proportion to `weights` (summing to `total`) by
    successive binomials."""
    k_last = size - 1
    for k in range(k_last + 1):
        out[k] = 0
    rem_w = total
    for k in range(k_last + 1):
        if n <= 0:
            break
        w = weights[k]
        m = n if k == k_last or rem_w <= w else g.binomial(n, min(w / rem_w, 1.0))
        out[k] = m
        n -= m
        rem_w -= w


@njit(cache=True)
def pick(g, probs, n):
    """An index below `n` drawn with the given probabilities."""
    u = g.random()
    acc = 0.0
    for k in range(n):
        acc += probs[k]
        if u < acc:
            return k
    return n - 1
