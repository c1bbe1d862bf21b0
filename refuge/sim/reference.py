"""The reference engine: the daily semantics of `refuge.sim.day`, one record per person, in plain Python.

It exists to prove the fast engine exact in distribution (tests/test_reference_equivalence.py).
Every person has a record (current state, day of entry), also in states the fast engine only
counts; people in tracked states belong to a unit (one person, or a group that moves together)
that carries its drawn time in state. Stocks are counted from the person records each day.

It shares nothing with the Numba kernel but the compiled model arrays and the generator of uniforms: each
decision draws from its own stream, as in the fast engine (`refuge.sim.streams.Streams`, the plain-Python
twin, keyed by another seed key than the fast engine's), but person by person and in whatever order is
simplest, and every variate by inversion of its distribution (the fast engine uses rejection methods for
large means), so runs match the fast engine in distribution, not draw by draw. It is slow by design: use it
on small scenarios.

`refuge.api.simulate_reference` makes a Run of it; `refuge.sim.invariants` lists what any run, of either
engine, must satisfy.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from refuge.model.codes import (
    EMPIRICAL,
    EXPONENTIAL,
    FIXED,
    GAMMA,
    LOGNORMAL,
    T_DUR,
    T_DUR_A,
    T_DUR_B,
    T_DUR_EMP,
    T_EDGE_HI,
    T_EDGE_LO,
    T_IS_DUR,
    T_RATE,
    T_REDIR,
    T_REDIR_EDGE,
    T_SRC,
)
from refuge.model.compiler import Model
from refuge.sim.layout import DERIVED
from refuge.sim.mechanisms.arrivals import reference_arrivals
from refuge.sim.mechanisms.counted import reference_counted
from refuge.sim.mechanisms.drift import drifted_table
from refuge.sim.mechanisms.network.reference import NetReference
from refuge.sim.mechanisms.parameters import reference_values
from refuge.sim.mechanisms.queues import reference_budgets, reference_idle
from refuge.sim.mechanisms.rules import reference_rules
from refuge.sim.mechanisms.sites import NEVER, reference_capacities, reference_closures
from refuge.sim.mechanisms.tracked.step import reference_tracked
from refuge.sim.streams import (
    DURATION,
    REFERENCE_SALT,
    SPLIT,
    Streams,
    dec_arr,
    dec_state,
    dec_trans,
    seed_key,
    stream_base,
)

_NORMAL = NormalDist()


class _Unit:
    """People in a tracked state who move together, with the day their time there is up."""

    __slots__ = ("state", "entry", "members", "due", "due_trans", "alive")

    def __init__(self, state: int, entry: int, members: np.ndarray, due: int, due_trans: int):
        self.state, self.entry, self.members = state, entry, members
        self.due, self.due_trans, self.alive = due, due_trans, True


def reference_results(m: Model, days: int, seed: int) -> dict[str, Any]:
    """One realisation by the person-by-person reference engine: the results of a run by name (as
    `refuge.sim.run.run_model` gives them)."""
    # Streams of its own, unrelated to the fast engine's streams for the same seed.
    rng = Streams(stream_base(m), seed_key(seed, REFERENCE_SALT))
    g = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 0x5EF])))  # the route network's
    return _Reference(m, days, rng, g, drifted_table(m, seed)).run()


def _empirical_tables(m: Model) -> list[tuple[list[int], list[float]]]:
    """(values, weights) of each empirical distribution, from the compiled cumulative tables."""
    out = []
    for k in range(len(m.emp_ptr) - 1):
        lo, hi = m.emp_ptr[k], m.emp_ptr[k + 1]
        out.append((m.emp_values[lo:hi].tolist(), np.diff(m.emp_cdf[lo:hi], prepend=0.0).tolist()))
    return out


class _Reference:
    # Plain Python lists and floats in the per-event paths: NumPy scalars are slow one at a time.
    def __init__(self, m: Model, days: int, rng: Streams, g: np.random.Generator,
                 pbase: np.ndarray | None = None):
        self.m, self.days, self.rng, self.g = m, days, rng, g
        self.pbase = m.pbase if pbase is None else pbase  # the run's own table when a driver drifts
        self.dec_state, self.dec_trans, self.dec_arr = (dec_state(m).tolist(), dec_trans(m).tolist(),
                                                        dec_arr(m).tolist())
        S, N, E, A = len(m.state_names), len(m.site_names), len(m.edge_names), m.arr.shape[0]
        self.tr = m.trans.tolist()
        self.edge_target = m.edge_target.tolist()
        self.state_site = m.state_site.tolist()
        self.tracked = m.tracked.tolist()
        self.queued = m.queued.tolist()  # queues: their people are units of one (people served one by one)
        self.whole = [bool(t.whole) for t in m.scenario.transitions]
        self.exits = [[j for j in range(len(self.tr)) if self.tr[j][T_SRC] == s] for s in range(S)]
        self.rate_exits = [[j for j in ex if not self.tr[j][T_IS_DUR]] for ex in self.exits]
        self.site_states = [[s for s in range(S) if self.state_site[s] == n] for n in range(N)]
        self.empirical = _empirical_tables(m)
        self.arrays: dict[str, Any] = {}  # arrays the mechanisms make from the model (`array`)
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
        self.jam = [False] * len(self.tr)
        self.closed_state = np.zeros(S, bool)
        self.shut_site, self.shut_state, self.stop_site = [False] * N, [False] * S, [False] * N
        self.rule_on = [False] * len(m.rule_names)
        self.rule_since = [0] * len(m.rule_names)
        self.stays: list[tuple[int, int, int, int]] = []
        self.out = dict(
            stocks=np.zeros((days, S), np.int64), flows=np.zeros((days, E), np.int64),
            arrived=np.zeros((days, A), np.int64), closed_sites=np.zeros((days, N), bool),
            stopped_sites=np.zeros((days, N), bool),
            closed_states=np.zeros((days, S), bool), rules_active=np.zeros((days, len(m.rule_names)), bool),
            max_stay=np.zeros((days, S), np.int64), params=np.zeros((days, m.pbase.shape[1])),
            idle=np.zeros((days, len(self.tr)), np.int64))
        self.flows = self.out["flows"]
        self.network = None  # the route network, person by person (refuge.sim.mechanisms.network.reference)
        if m.net is not None:
            self.network = NetReference(m.net, days)

    def array(self, name: str) -> Any:
        """A model array the engine reads (`refuge.sim.layout.Spec`): the model's own, or one a mechanism makes
        from it (its declaration's `derive`), made once."""
        if name not in self.arrays:
            self.arrays[name] = DERIVED[name](self.m) if name in DERIVED else getattr(self.m, name)
        return self.arrays[name]

    # --- the run ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        m = self.m
        self.rng.day(-1)
        for s in range(len(m.state_names)):
            for _ in range(max(int(round(self.p[m.initial_param[s]])), 0)):
                self.enter(self.new_people(1), s, -1)  # as if they came the day before the start
        for t in range(self.days):  # the order of refuge.sim.day
            self.rng.day(t)
            reference_values(self, t)  # 1
            reference_closures(self, t)
            reference_rules(self, t)
            self.p = self.pv.tolist()
            reference_capacities(self, t)
            reference_budgets(self, t)
            self.rates_and_splits()
            reference_arrivals(self, t)  # 2
            reference_counted(self, t)  # 3
            reference_tracked(self, t)  # 4
            reference_idle(self, t)
            if self.network is not None:  # 7
                self.network.day(t, self)
            self.record(t)  # 8
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

    # --- what holds all day once rules have acted ----------------------------------------------
    def rates_and_splits(self) -> None:
        """Today's rate of each constant-rate transition and split of each transition."""
        self.rate = [0.0 if row[T_IS_DUR] else max(self.p[row[T_RATE]], 0.0) for row in self.tr]
        self.split = [self.split_probs(row) for row in self.tr]

    def split_probs(self, row: list[int]) -> list[float]:
        """Probabilities of a split's edges: parameters clipped to [0, 1], `rest` takes what is left."""
        p = [-1.0 if q < 0 else min(max(self.p[q], 0.0), 1.0) for q in self.m.edge_p[row[T_EDGE_LO]:row[T_EDGE_HI]]]
        given = sum(x for x in p if x >= 0)
        p = [max(1.0 - given, 0.0) if x < 0 else x for x in p]
        return p if sum(p) > 0 else [1.0] + [0.0] * (len(p) - 1)

    # --- people of a state who have not moved yet today ---------------------------------------
    def here(self, people: np.ndarray, s: int, t: int) -> np.ndarray:
        """Those of `people` who were in `s` at the start of the day and have not moved yet today."""
        return people[(self.p_state[people] == s) & (self.p_entry[people] < t)]

    def gather(self, pool: np.ndarray, chosen: np.ndarray, size: int, d: int) -> np.ndarray:
        """`size` people of the pool: those already `chosen` (all in the pool), then others at random (by the
        uniforms of decision `d`)."""
        if size <= len(chosen):
            return chosen[:size]
        rest = pool[~np.isin(pool, chosen)] if len(chosen) else pool
        order = np.argsort(self.rng.uniforms(d, len(rest)), kind="stable")  # a random order of them
        return np.concatenate([chosen, rest[order[:size - len(chosen)]]])

    # --- moving people --------------------------------------------------------------------------
    def try_move(self, s: int, people: np.ndarray, j: int, e: int, t: int) -> bool:
        """People leave `s` together by edge `e` of transition `j`: leaving first (so a move within one
        site needs no extra room), then into the edge's target, else the redirect, else back where they were."""
        row = self.tr[j]
        k = len(people)
        if k > self.budget[j]:  # first come, first served: nobody behind them passes today
            self.jam[j] = self.jam[j] or self.budget[j] > 0  # a group kept whole did not fit in what was left
            self.budget[j] = 0
            return False
        self.vacate(s, k)
        for dest, edge in ((self.edge_target[e], e), (row[T_REDIR], row[T_REDIR_EDGE])):
            if dest >= 0 and self.room(dest, s) >= k:
                self.enter(people, dest, t)
                self.flows[t, edge] += k
                self.budget[j] -= k
                return True
        self.vacate(s, -k)
        return False

    def vacate(self, s: int, k: int) -> None:
        """`k` people step out of `s` (their records follow when they enter elsewhere); negative: step back."""
        self.stock[s] -= k

    def enter(self, people: np.ndarray, dest: int, t: int) -> None:
        """Put people into `dest` as of day `t`; in a tracked state they form one unit with a drawn time there
        (in a queue, each person is a unit)."""
        self.p_state[people] = dest
        self.p_entry[people] = t
        self.stock[dest] += len(people)
        if not self.tracked[dest]:
            return
        for unit in ([people[k:k + 1] for k in range(len(people))] if self.queued[dest] else [people]):
            due, due_trans = NEVER, -1
            for j in self.exits[dest]:
                row = self.tr[j]
                if row[T_IS_DUR]:
                    d = t + self.draw(row[T_DUR], row[T_DUR_A], row[T_DUR_B], row[T_DUR_EMP],
                                      self.dec_trans[j][DURATION])
                    if d < due:
                        due, due_trans = d, j
            self.units.append(_Unit(dest, t, unit, due, due_trans))

    def new_people(self, k: int) -> np.ndarray:
        while self.n + k > len(self.p_state):
            self.p_state = np.concatenate([self.p_state, np.zeros_like(self.p_state)])
            self.p_entry = np.concatenate([self.p_entry, np.zeros_like(self.p_entry)])
        ids = np.arange(self.n, self.n + k)
        self.p_state[ids] = -1
        self.n += k
        return ids

    def room(self, s: int, source: int) -> int:
        """Room in state `s` for people from state `source` (-1: from outside)."""
        if self.shut_state[s]:
            return 0
        n = self.state_site[s]
        if n < 0:
            return NEVER
        if self.stop_site[n] or (self.shut_site[n] and (source < 0 or self.state_site[source] != n)):
            return 0
        return max(self.cap[n] - sum(self.stock[x] for x in self.site_states[n]), 0)

    # --- draws: each from the stream of the decision that draws (its row `d`), by inversion ------------------
    def uniform(self, d: int) -> float:
        return self.rng.uniform(d)

    def pick(self, weights: list[float], d: int) -> int:
        """An index with probability proportional to its weight."""
        if len(weights) == 1:
            return 0
        u = self.rng.uniform(d) * sum(weights)
        for k, w in enumerate(weights):
            u -= w
            if u < 0:
                return k
        return max(k for k, w in enumerate(weights) if w > 0)

    def pick_edge(self, j: int) -> int:
        return self.tr[j][T_EDGE_LO] + self.pick(self.split[j], self.dec_trans[j][SPLIT])

    def poisson(self, lam: float, d: int) -> int:
        """Poisson(lam) by inversion (a mean above 500 as a sum of Poissons of at most 500, whose first
        probability exp(-mean) does not underflow)."""
        k = 0
        while lam > 0:
            part = min(lam, 500.0)
            lam -= part
            u, pk, n = self.rng.uniform(d), math.exp(-part), 0
            while u > pk and n < 100_000:
                u -= pk
                n += 1
                pk *= part / n
            k += n
        return k

    def draw(self, code: int, a: int, b: int, emp: int, d: int) -> int:
        """Whole days (or people) from a distribution with parameters in force now, by inversion of its
        distribution function; a continuous draw is rounded down or up at random, up with probability of its
        fraction (the mean is kept)."""
        pa, pb = self.p[a], self.p[b]
        if code == FIXED:
            return max(int(round(pa)), 0)
        u = self.rng.uniform(d)
        if code == EXPONENTIAL:
            x = -pa * math.log(u)
        elif code == GAMMA:  # from mean and sd
            from scipy.special import gammaincinv  # the reference only: lazily

            x = float(gammaincinv((pa / pb) ** 2, u)) * pb * pb / pa
        elif code == LOGNORMAL:  # from median and sigma of the log
            x = pa * math.exp(pb * _NORMAL.inv_cdf(u))
        elif code == EMPIRICAL:
            values, weights = self.empirical[emp]
            return values[self.pick(weights, d)]
        else:
            raise ValueError(f"unknown distribution code {code}")
        whole = math.floor(x)
        return whole + (1 if self.rng.uniform(d) < x - whole else 0)

    # --- end of day ----------------------------------------------------------------------------
    def record(self, t: int) -> None:
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
