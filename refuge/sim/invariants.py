"""What every run, of either engine, must satisfy: nobody created or lost, stocks that follow the flows, no site
over its capacity, no entry into a closed site or state, no transition over its processing capacity, stays that
add up. `check_invariants(run)` raises listing every one a run breaks (the tests call it on their runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from refuge.model.codes import A_FROM, A_REDIR, A_TARGET, T_CAP, T_CAP_DAYS, T_SRC

if TYPE_CHECKING:
    from refuge.results.run import Run


def invariant_problems(run: Run) -> list[str]:
    """What is wrong with a run (empty when it is sound): people created or lost, stocks that do not follow
    the flows, a site filled over its capacity, entry into a closed site or state, a transition over its
    processing capacity, stays that do not add up."""
    problems: list[str] = []
    for check in (_conservation, _stock_balance, _capacity, _closures, _processing, _stays):
        problems += check(run)
    return problems


def check_invariants(run: Run) -> None:
    """Raise AssertionError listing every invariant the run breaks."""
    problems = invariant_problems(run)
    if problems:
        head = f"{run.engine} run, seed {run.seed}, scenario {run.model.scenario.name}:"
        raise AssertionError("\n  ".join([head] + problems[:20]))


def _initial(run: Run) -> np.ndarray:
    m = run.model
    return np.array([max(int(round(m.pbase[0, p])), 0) for p in m.initial_param], np.int64)


def _conservation(run: Run) -> list[str]:
    total = run.stocks.sum(axis=1)
    outside = run.model.arr[:, A_FROM] < 0 if run.model.arr.shape[0] else np.zeros(0, bool)
    expected = _initial(run).sum() + np.cumsum(run.arrived[:, outside].sum(axis=1))
    if run.spawned is not None:
        expected = expected + np.cumsum(run.spawned)
    bad = np.flatnonzero(total != expected)
    out = [f"day {d}: {total[d]} people in the system, expected {expected[d]} (initial + arrived)" for d in bad[:5]]
    if (run.stocks < 0).any() or (run.flows < 0).any() or (run.arrived < 0).any():
        out.append("negative stocks, flows or arrivals")
    return out


def _stock_balance(run: Run) -> list[str]:
    """Per state, day by day: change in stock = people in - people out (+ arrivals). An arrival stream with a
    redirect may put people in either state, so those states are balanced together."""
    m = run.model
    S = len(m.state_names)
    src = m.trans[m.edge_trans, T_SRC]
    inflow = np.zeros((run.days, S), np.int64)
    outflow = np.zeros((run.days, S), np.int64)
    for e in range(len(m.edge_names)):
        inflow[:, m.edge_target[e]] += run.flows[:, e]
        outflow[:, src[e]] += run.flows[:, e]
    group = list(range(S))

    def root(s: int) -> int:
        while group[s] != s:
            s = group[s]
        return s

    arrivals_into = np.zeros((run.days, S), np.int64)
    for a in range(m.arr.shape[0]):
        target, redirect = m.arr[a, A_TARGET], m.arr[a, A_REDIR]
        if redirect >= 0:
            group[root(redirect)] = root(target)
        arrivals_into[:, target] += run.arrived[:, a]
        if m.arr[a, A_FROM] >= 0:
            arrivals_into[:, m.arr[a, A_FROM]] -= run.arrived[:, a]
    roots = np.array([root(s) for s in range(S)])
    change = np.diff(run.stocks, axis=0, prepend=_initial(run)[None, :])
    net = inflow - outflow + arrivals_into
    if run.net_change is not None:  # route network: moves between locations and spawning
        net = net + run.net_change
    out = []
    for r in np.unique(roots):
        members = roots == r
        bad = np.flatnonzero(change[:, members].sum(axis=1) != net[:, members].sum(axis=1))
        names = "+".join(np.array(m.state_names)[members])
        out += [f"day {d}: stock of {names} changed by {change[d, members].sum()}, flows say "
                f"{net[d, members].sum()}" for d in bad[:3]]
    return out


def _capacity(run: Run) -> list[str]:
    """Nobody enters a full site: occupancy stays within the capacity in force that day, unless the capacity
    fell below people already there (then it cannot grow)."""
    m = run.model
    occ = run.site_occupancy
    before = np.vstack([[sum(_initial(run)[s] for s in range(len(m.state_names)) if m.state_site[s] == n)
                         for n in range(len(m.site_names))], occ[:-1]]) if len(m.site_names) else occ
    out = []
    for n, c in enumerate(m.capacity_param):
        if c < 0:
            continue
        cap = np.floor(run.params[:, c] + 1e-9)
        bad = np.flatnonzero((occ[:, n] > cap) & (occ[:, n] > before[:, n]))
        out += [f"day {d}: site {m.site_names[n]} holds {occ[d, n]} over its capacity {cap[d]:g}" for d in bad[:3]]
    return out


def _closures(run: Run) -> list[str]:
    """No arrival into a closed state or site; no flow into a closed state, into a stopped site (a full stop),
    or into a closed site from outside it (moves between a closed site's own states go on)."""
    m = run.model
    S = len(m.state_names)
    stopped = run.stopped_sites if run.stopped_sites is not None else np.zeros_like(run.closed_sites)
    shut = run.closed_states.copy()  # closed to everybody
    shut_outside = run.closed_states.copy()  # closed to people from outside the state's site
    for s in range(S):
        if m.state_site[s] >= 0:
            shut[:, s] |= stopped[:, m.state_site[s]]
            shut_outside[:, s] |= run.closed_sites[:, m.state_site[s]]
    src = m.trans[m.edge_trans, T_SRC]
    out = []
    for e in range(len(m.edge_names)):
        target = m.edge_target[e]
        inside = m.state_site[target] >= 0 and m.state_site[src[e]] == m.state_site[target]
        closed = shut[:, target] if inside else shut_outside[:, target]
        bad = np.flatnonzero(closed & (run.flows[:, e] > 0))
        out += [f"day {d}: {run.flows[d, e]} moved by {m.edge_names[e]} into a closed state" for d in bad[:3]]
    for a in range(m.arr.shape[0]):
        target, redirect = m.arr[a, A_TARGET], m.arr[a, A_REDIR]
        blocked = shut_outside[:, target] & (shut_outside[:, redirect] if redirect >= 0 else True)
        bad = np.flatnonzero(blocked & (run.arrived[:, a] > 0))
        out += [f"day {d}: {run.arrived[d, a]} arrived by {m.arrival_names[a]} into a closed state" for d in bad[:3]]
    if (run.closed_sites < m.closed_site_sched[:run.days]).any() or (
            run.closed_states < m.closed_state_sched[:run.days]).any() or (
            stopped < m.stopped_site_sched[:run.days]).any():
        out.append("a site or state open on a day its schedule closes it")
    return out


def _processing(run: Run) -> list[str]:
    """A transition with a processing capacity moves no more people in a period than its capacity."""
    m = run.model
    out = []
    for j, name in enumerate(m.transition_names):
        c, days = m.trans[j, T_CAP], m.trans[j, T_CAP_DAYS]
        if c < 0:
            continue
        moved = run.flows[:, m.edge_trans == j].sum(axis=1)
        for start in range(0, run.days, days):
            cap = max(np.floor(run.params[start, c] + 1e-9), 0)
            if moved[start:start + days].sum() > cap:
                out.append(f"days {start}-{start + days - 1}: {moved[start:start + days].sum()} moved by {name}, "
                           f"over its capacity {cap:g}")
                break
    return out


def _stays(run: Run) -> list[str]:
    """In tracked states, completed stays leave on the days and in the numbers the flows say, and the units
    still there at the end are the final stocks."""
    m = run.model
    src = m.trans[m.edge_trans, T_SRC]
    out = []
    for s in np.flatnonzero(m.tracked):
        leaving = run.flows[:, src == s].sum(axis=1)
        mine = run.stays[run.stays[:, 0] == s]
        recorded = np.bincount(mine[:, 2], weights=mine[:, 3], minlength=run.days)[:run.days]
        bad = np.flatnonzero(recorded != leaving)
        out += [f"day {d}: {m.state_names[s]} completed stays of {recorded[d]:g} people, flows out {leaving[d]}"
                for d in bad[:3]]
        if (mine[:, 2] < mine[:, 1]).any():
            out.append(f"{m.state_names[s]}: a stay ending before it began")
        still = run.ongoing_size[run.ongoing[:, 0] == s].sum()
        if still != run.stocks[-1, s]:
            out.append(f"{m.state_names[s]}: {still} people in ongoing stays, final stock {run.stocks[-1, s]}")
    return out
