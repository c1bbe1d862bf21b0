"""The reference engine: the daily semantics of `refuge.sim.day`, one record per person, in plain Python.

It exists to prove the fast engine exact in distribution (tests/test_reference_equivalence.py).
Every person has a record (current state, day of entry), also in states the fast engine only
counts; people in tracked states belong to a unit (one person, or a group that moves together)
that carries its drawn time in state. Stocks are counted from the person records each day.

It shares nothing with the Numba kernel but the compiled model arrays; its random draws come from
one NumPy Generator in whatever order is simplest, so runs match the fast engine in distribution,
not draw by draw. It is slow by design: use it on small scenarios.

`refuge.api.simulate_reference` makes a Run of it; `refuge.sim.invariants` lists what any run, of either
engine, must satisfy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from refuge.model.codes import (
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
    T_SRC,
)
from refuge.model.compiler import Model

NEVER = 1 << 60  # a due day that never comes, and the room of a site without capacity


class _Unit:
    """People in a tracked state who move together, with the day their time there is up."""

    __slots__ = ("state", "entry", "members", "due", "due_trans", "alive")

    def __init__(self, state: int, entry: int, members: np.ndarray, due: int, due_trans: int):
        self.state, self.entry, self.members = state, entry, members
        self.due, self.due_trans, self.alive = due, due_trans, True


def reference_results(m: Model, days: int, seed: int) -> dict[str, Any]:
    """One realisation by the person-by-person reference engine: the results of a run by name (as
    `refuge.sim.run.run_model` gives them)."""
    # A stream of its own, unrelated to the fast engine's streams for the same seed.
    g = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 0x5EF])))
    return _Reference(m, days, g).run()


def _empirical_tables(m: Model) -> list[tuple[list[int], list[float]]]:
    """(values, weights) of each empirical distribution, from the compiled cumulative tables."""
    out = []
    for k in range(len(m.emp_ptr) - 1):
        lo, hi = m.emp_ptr[k], m.emp_ptr[k + 1]
        out.append((m.emp_values[lo:hi].tolist(), np.diff(m.emp_cdf[lo:hi], prepend=0.0).tolist()))
    return out


class _Reference:
    # Plain Python lists and floats in the per-event paths: NumPy scalars are slow one at a time.
    def __init__(self, m: Model, days: int, g: np.random.Generator):
        self.m, self.days, self.g = m, days, g
        S, N, E, A = len(m.state_names), len(m.site_names), len(m.edge_names), m.arr.shape[0]
        self.tr = m.trans.tolist()
        self.edge_target = m.edge_target.tolist()
        self.state_site = m.state_site.tolist()
        self.tracked = m.tracked.tolist()
        self.exits = [[j for j in range(len(self.tr)) if self.tr[j][T_SRC] == s] for s in range(S)]
        self.rate_exits = [[j for j in ex if not self.tr[j][T_IS_DUR]] for ex in self.exits]
        self.site_states = [[s for s in range(S) if self.state_site[s] == n] for n in range(N)]
        self.empirical = _empirical_tables(m)
        # person records: state and day of entry into it
        self.p_state = np.zeros(256, np.int64)
        self.p_entry = np.zeros(256, np.int64)
        self.n = 0
        self.stock = [0] * S  # kept along with the records; checked against them every day
        self.units: list[_Unit] = []
        self.pending: list[tuple[int, int]] = []  # groups waiting to arrive: (arrival, size), oldest first
        self.backlog = [0] * A  # single people waiting to arrive
        self.pv = m.pbase[0].copy()
        self.p = self.pv.tolist()
        self.cap = [NEVER] * N
        self.closed_site = np.zeros(N, bool)  # closed to entry from outside the site
        self.stopped_site = np.zeros(N, bool)  # closed to every entry into its states
        self.budget = [NEVER] * len(self.tr)  # people a capped transition may still move this period
        self.closed_state = np.zeros(S, bool)
        self.shut_site, self.shut_state, self.stop_site = [False] * N, [False] * S, [False] * N
        self.rule_on = [False] * len(m.rule_names)
        self.rule_since = [0] * len(m.rule_names)
        self.stays: list[tuple[int, int, int, int]] = []
        self.uniforms: list[float] = []
        self.out = dict(
            stocks=np.zeros((days, S), np.int64), flows=np.zeros((days, E), np.int64),
            arrived=np.zeros((days, A), np.int64), closed_sites=np.zeros((days, N), bool),
            stopped_sites=np.zeros((days, N), bool),
            closed_states=np.zeros((days, S), bool), rules_active=np.zeros((days, len(m.rule_names)), bool),
            max_stay=np.zeros((days, S), np.int64), params=np.zeros((days, m.pbase.shape[1])))
        self.flows = self.out["flows"]
        self.network = None  # the route network, person by person (refuge.sim.mechanisms.network.reference)
        if m.net is not None:
            from refuge.sim.mechanisms.network.reference import NetReference

            self.network = NetReference(m.net, days)

    # --- the run ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        m = self.m
        for s in range(len(m.state_names)):
            for _ in range(max(int(round(self.p[m.initial_param[s]])), 0)):
                self._enter(self._new_people(1), s, -1)  # as if they came the day before the start
        for t in range(self.days):
            self._policies(t)
            self._today(t)
            self._arrivals(t)
            for s in range(len(m.state_names)):
                if not self.tracked[s]:
                    self._counted_state(s, t)
            self._tracked_units(t)
            if self.network is not None:
                self.network.day(t, self)
            self._record(t)
        alive = [u for u in self.units if u.alive]
        ongoing = np.array([[u.state, len(u.members), u.entry] for u in alive], np.int64).reshape(-1, 3)
        stays = np.array(self.stays, np.int64).reshape(-1, 4)
        backlog = np.array(self.backlog, np.int64)
        for a, size in self.pending:
            backlog[a] += size
        out = dict(stays=stays, ongoing=ongoing, ongoing_size=ongoing[:, 1].copy(), backlog=backlog, **self.out,
                   entered=None, net_change=None, spawned=None)
        if self.network is not None:
            out["entered"], out["net_change"], out["spawned"] = self.network.arrays(len(m.state_names))
        return out

    # --- 1. parameters, rules, closures -------------------------------------------------------
    def _policies(self, t: int) -> None:
        m, pv = self.m, self.pv
        pv[:] = m.pbase[t]
        self.closed_site[:] = m.closed_site_sched[t]
        self.stopped_site[:] = m.stopped_site_sched[t]
        self.closed_state[:] = m.closed_state_sched[t]
        for r in range(len(m.rule_names)):
            if not m.rule_start[r] <= t <= m.rule_end[r]:
                self.rule_on[r] = False
                continue
            members = m.rule_sig_idx[m.rule_sig_ptr[r]:m.rule_sig_ptr[r + 1]]
            if m.rule_sig[r] == SIG_FLOW:  # people moved over the window ending yesterday
                signal = self.flows[max(t - m.rule_window[r], 0):t][:, members].sum()
            else:  # people there at the end of yesterday
                signal = sum(self.stock[s] for s in members)
            above = pv[m.rule_above[r]]
            has_below = m.rule_below[r] >= 0
            below = pv[m.rule_below[r]] if has_below else above
            if not self.rule_on[r]:
                if signal >= above:
                    self.rule_on[r], self.rule_since[r] = True, t
            elif t - self.rule_since[r] >= m.rule_min_days[r]:
                if (has_below and signal <= below) or (not has_below and signal < above):
                    self.rule_on[r] = False
            if self.rule_on[r]:
                self._act(r)
            self.out["rules_active"][t, r] = self.rule_on[r]

    def _act(self, r: int) -> None:
        m, pv = self.m, self.pv
        for k in range(m.act_ptr[r], m.act_ptr[r + 1]):
            kind, target, value = m.act_kind[k], m.act_target[k], m.act_value[k]
            if kind == ACT_CLOSE_SITE:
                self.closed_site[target] = True
                self.stopped_site[target] |= value == 1  # a full stop
            elif kind == ACT_CLOSE_STATE:
                self.closed_state[target] = True
            elif kind == ACT_SET:
                pv[target] = pv[value]
            elif kind == ACT_MULTIPLY:
                pv[target] *= pv[value]

    def _today(self, t: int) -> None:
        """What holds all day once rules have acted: parameters, capacities, closures, rates and splits."""
        m, p = self.m, self.pv.tolist()
        self.p = p
        self.cap = [NEVER if c < 0 else math.floor(p[c] + 1e-9) for c in m.capacity_param.tolist()]
        self.shut_site, self.shut_state = self.closed_site.tolist(), self.closed_state.tolist()
        self.stop_site = self.stopped_site.tolist()
        for j, row in enumerate(self.tr):  # a capped transition's capacity, renewed at the start of its period
            if row[T_CAP] >= 0 and t % row[T_CAP_DAYS] == 0:
                self.budget[j] = max(math.floor(p[row[T_CAP]] + 1e-9), 0)
        self.rate = [0.0 if row[T_IS_DUR] else max(p[row[T_RATE]], 0.0) for row in self.tr]
        self.split = [self._split_probs(row) for row in self.tr]

    def _split_probs(self, row: list[int]) -> list[float]:
        """Probabilities of a split's edges: parameters clipped to [0, 1], `rest` takes what is left."""
        p = [-1.0 if q < 0 else min(max(self.p[q], 0.0), 1.0) for q in self.m.edge_p[row[T_EDGE_LO]:row[T_EDGE_HI]]]
        given = sum(x for x in p if x >= 0)
        p = [max(1.0 - given, 0.0) if x < 0 else x for x in p]
        return p if sum(p) > 0 else [1.0] + [0.0] * (len(p) - 1)

    # --- 2. arrivals ----------------------------------------------------------------------------
    def _arrivals(self, t: int) -> None:
        m = self.m
        waiting, self.pending = self.pending, []
        for a, size in waiting:  # groups turned away earlier go first, oldest first
            self._arrive_group(a, size, t)
        for a, row in enumerate(m.arr.tolist()):
            if not row[A_START] <= t <= row[A_END]:
                new = 0
            elif row[A_EXACT]:  # an event: exactly one group on its day
                new = 1
            else:
                new = int(self.g.poisson(max(self.p[row[A_RATE]], 0.0)))
            if row[A_GRP] < 0:
                k, self.backlog[a] = new + self.backlog[a], 0
                for _ in range(k):
                    if not self._admit_new(a, 1, t):
                        self.backlog[a] += 1
            else:
                for _ in range(new):
                    self._arrive_group(a, max(self._draw(row[A_GRP], row[A_GRP_A], row[A_GRP_B], row[A_GRP_EMP]),
                                              1), t)

    def _arrive_group(self, a: int, size: int, t: int) -> None:
        if not self._admit_new(a, size, t):
            self.pending.append((a, size))

    def _admit_new(self, a: int, size: int, t: int) -> bool:
        """New people (one, or a group) into the stream's target, else its redirect; False if neither has room.
        An event with a `from` state takes its group from there (as many as are there, if fewer)."""
        src = self.m.arr[a, A_FROM]
        taken = np.zeros(0, np.int64)
        if src >= 0:
            taken = self._here(np.flatnonzero(self.p_state[:self.n] == src), src, t)[:size]
            size = len(taken)
            if size == 0:
                return True  # nobody left there to take: the event lapses
            self._vacate(src, size)
        for dest in (self.m.arr[a, A_TARGET], self.m.arr[a, A_REDIR]):
            if dest >= 0 and self._room(dest, -1) >= size:
                self._enter(taken if src >= 0 else self._new_people(size), dest, t)
                self.out["arrived"][t, a] += size
                return True
        if src >= 0:
            self._vacate(src, -size)
        return False

    # --- 3. counted states ----------------------------------------------------------------------
    def _counted_state(self, s: int, t: int) -> None:
        """Each person there since before today leaves with prob 1-exp(-sum of rates), by an exit picked by rate."""
        exits = self.exits[s]
        rates = [self.rate[j] for j in exits]
        h = sum(rates)
        if h <= 0:
            return
        members = np.flatnonzero((self.p_state[:self.n] == s) & (self.p_entry[:self.n] < t))
        leavers = members[self.g.random(len(members)) < -math.expm1(-h)]
        if len(leavers) == 0:
            return
        choice = np.array([self._pick(rates) for _ in leavers], np.int64)
        for q, j in enumerate(exits):
            initiators = leavers[choice == q]
            if len(initiators) and self.tr[j][T_GRP] >= 0:
                self._groups_leave(s, j, members, initiators, t)
            elif len(initiators):
                self._people_leave(s, j, members, initiators, t)

    def _here(self, people: np.ndarray, s: int, t: int) -> np.ndarray:
        """Those of `people` who were in `s` at the start of the day and have not moved yet today."""
        return people[(self.p_state[people] == s) & (self.p_entry[people] < t)]

    def _groups_leave(self, s: int, j: int, members: np.ndarray, initiators: np.ndarray, t: int) -> None:
        """Each leaver sets off a group of min(size, people not yet moved today), themselves first if still here."""
        row = self.tr[j]
        for who in initiators:
            pool = self._here(members, s, t)
            if len(pool) == 0 or self.budget[j] <= 0:
                return
            size = min(max(self._draw(row[T_GRP], row[T_GRP_A], row[T_GRP_B], row[T_GRP_EMP]), 1), len(pool))
            group = self._gather(pool, self._here(np.array([who]), s, t), size)
            self._try_move(s, group, j, self._pick_edge(j), t)

    def _people_leave(self, s: int, j: int, members: np.ndarray, initiators: np.ndarray, t: int) -> None:
        """Leavers go one by one, each by its own split; one swept away in a group is replaced by another."""
        still = self._here(initiators, s, t)
        movers = still
        if len(still) < len(initiators):
            pool = self._here(members, s, t)
            movers = self._gather(pool, still, min(len(initiators), len(pool)))
        movers = movers[:max(self.budget[j], 0)]  # a processing capacity: the others wait
        edges = np.array([self._pick_edge(j) for _ in movers], np.int64)
        for e in range(self.tr[j][T_EDGE_LO], self.tr[j][T_EDGE_HI]):
            batch = movers[edges == e]
            if len(batch):
                self._batch_move(s, batch, j, e, t)

    def _gather(self, pool: np.ndarray, chosen: np.ndarray, size: int) -> np.ndarray:
        """`size` people of the pool: those already `chosen` (all in the pool), then others at random."""
        if size <= len(chosen):
            return chosen[:size]
        rest = pool[~np.isin(pool, chosen)] if len(chosen) else pool
        return np.concatenate([chosen, self.g.permutation(rest)[:size - len(chosen)]])

    def _batch_move(self, s: int, batch: np.ndarray, j: int, e: int, t: int) -> None:
        """People of a counted state taking the same edge: all leave, as many as fit enter, the rest try the
        redirect, the rest wait where they were."""
        row = self.tr[j]
        self._vacate(s, len(batch))
        left = list(batch)
        for dest, edge in ((self.edge_target[e], e), (row[T_REDIR], row[T_REDIR_EDGE])):
            while dest >= 0 and left and self._room(dest, s) >= 1:
                self._enter(np.array([left.pop(0)]), dest, t)
                self.flows[t, edge] += 1
                self.budget[j] -= 1
        self._vacate(s, -len(left))

    # --- 4. tracked units -----------------------------------------------------------------------
    def _tracked_units(self, t: int) -> None:
        """Units in order of entry; those entering today (appended as we go) move only if their time is zero."""
        rates = [[self.rate[j] for j in ex] for ex in self.rate_exits]
        leave_p = [-math.expm1(-sum(r)) for r in rates]
        u_rand = self.g.random(len(self.units)).tolist()  # one for each unit already here: does a rate exit fire?
        i = 0
        while i < len(self.units):
            u = self.units[i]
            if u.alive:
                moved = u.due <= t and u.due_trans >= 0 and self._fire(u, u.due_trans, t)
                if not moved and u.entry < t and u_rand[i] < leave_p[u.state]:
                    self._fire(u, self.rate_exits[u.state][self._pick(rates[u.state])], t)
            i += 1
        self.units = [u for u in self.units if u.alive]

    def _fire(self, u: _Unit, j: int, t: int) -> bool:
        if not self._try_move(u.state, u.members, j, self._pick_edge(j), t):
            return False
        u.alive = False
        self.stays.append((u.state, u.entry, t, len(u.members)))
        return True

    # --- moving people --------------------------------------------------------------------------
    def _try_move(self, s: int, people: np.ndarray, j: int, e: int, t: int) -> bool:
        """People leave `s` together by edge `e` of transition `j`: leaving first (so a move within one
        site needs no extra room), then into the edge's target, else the redirect, else back where they were."""
        row = self.tr[j]
        k = len(people)
        if k > self.budget[j]:  # first come, first served: nobody behind them passes today
            self.budget[j] = 0
            return False
        self._vacate(s, k)
        for dest, edge in ((self.edge_target[e], e), (row[T_REDIR], row[T_REDIR_EDGE])):
            if dest >= 0 and self._room(dest, s) >= k:
                self._enter(people, dest, t)
                self.flows[t, edge] += k
                self.budget[j] -= k
                return True
        self._vacate(s, -k)
        return False

    def _vacate(self, s: int, k: int) -> None:
        """`k` people step out of `s` (their records follow when they enter elsewhere); negative: step back."""
        self.stock[s] -= k

    def _enter(self, people: np.ndarray, dest: int, t: int) -> None:
        """Put people into `dest` as of day `t`; in a tracked state they form one unit with a drawn time there."""
        self.p_state[people] = dest
        self.p_entry[people] = t
        self.stock[dest] += len(people)
        if self.tracked[dest]:
            due, due_trans = NEVER, -1
            for j in self.exits[dest]:
                row = self.tr[j]
                if row[T_IS_DUR]:
                    d = t + self._draw(row[T_DUR], row[T_DUR_A], row[T_DUR_B], row[T_DUR_EMP])
                    if d < due:
                        due, due_trans = d, j
            self.units.append(_Unit(dest, t, people, due, due_trans))

    def _new_people(self, k: int) -> np.ndarray:
        while self.n + k > len(self.p_state):
            self.p_state = np.concatenate([self.p_state, np.zeros_like(self.p_state)])
            self.p_entry = np.concatenate([self.p_entry, np.zeros_like(self.p_entry)])
        ids = np.arange(self.n, self.n + k)
        self.p_state[ids] = -1
        self.n += k
        return ids

    def _room(self, s: int, source: int) -> int:
        """Room in state `s` for people from state `source` (-1: from outside)."""
        if self.shut_state[s]:
            return 0
        n = self.state_site[s]
        if n < 0:
            return NEVER
        if self.stop_site[n] or (self.shut_site[n] and (source < 0 or self.state_site[source] != n)):
            return 0
        return max(self.cap[n] - sum(self.stock[x] for x in self.site_states[n]), 0)

    # --- draws ----------------------------------------------------------------------------------
    def _uniform(self) -> float:
        if not self.uniforms:
            self.uniforms = self.g.random(512).tolist()
        return self.uniforms.pop()

    def _pick(self, weights: list[float]) -> int:
        """An index with probability proportional to its weight."""
        if len(weights) == 1:
            return 0
        u = self._uniform() * sum(weights)
        for k, w in enumerate(weights):
            u -= w
            if u < 0:
                return k
        return max(k for k, w in enumerate(weights) if w > 0)

    def _pick_edge(self, j: int) -> int:
        return self.tr[j][T_EDGE_LO] + self._pick(self.split[j])

    def _draw(self, code: int, a: int, b: int, emp: int) -> int:
        """Whole days (or people) from a distribution with parameters in force now; a continuous draw is
        rounded down or up at random, up with probability of its fraction (the mean is kept)."""
        g, pa, pb = self.g, self.p[a], self.p[b]
        if code == FIXED:
            return max(int(round(pa)), 0)
        if code == EXPONENTIAL:
            x = g.exponential(pa)
        elif code == GAMMA:  # from mean and sd
            x = g.gamma((pa / pb) ** 2, pb * pb / pa)
        elif code == LOGNORMAL:  # from median and sigma of the log
            x = pa * math.exp(pb * g.standard_normal())
        elif code == EMPIRICAL:
            values, weights = self.empirical[emp]
            return values[self._pick(weights)]
        else:
            raise ValueError(f"unknown distribution code {code}")
        whole = math.floor(x)
        return whole + (1 if self._uniform() < x - whole else 0)

    # --- end of day ----------------------------------------------------------------------------
    def _record(self, t: int) -> None:
        m, o = self.m, self.out
        states = self.p_state[:self.n]
        counted = np.bincount(states, minlength=len(m.state_names))
        assert counted.tolist() == self.stock, "reference engine lost track of its own people"
        o["stocks"][t] = counted
        in_tracked = m.tracked[states]
        np.maximum.at(o["max_stay"][t], states[in_tracked], t - self.p_entry[:self.n][in_tracked])
        o["closed_sites"][t] = self.closed_site
        o["stopped_sites"][t] = self.stopped_site
        o["closed_states"][t] = self.closed_state
        o["params"][t] = self.pv
