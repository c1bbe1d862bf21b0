"""Compile a Scenario into a Model: indices, parameter tables and lookup arrays.

Compilation is where every name is resolved and every cross-field error is
found, before any simulation runs. The engine sees only the arrays built here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from refuge.errors import Problem, ScenarioError, suggest
from refuge.model.outcomes import compile_outcomes

if TYPE_CHECKING:
    pass
from refuge.model.codes import *  # noqa: F403 (the codes are part of the compiler's public names)
from refuge.model.codes import (
    A_COLUMNS,
    A_RATE,
    A_TARGET,
    EMPIRICAL,
    EXPONENTIAL,
    FIXED,
    GAMMA,
    LOGNORMAL,
    NONE,
    T_CAP,
    T_COLS,
    T_DUR,
    T_IS_DUR,
    T_SRC,
)
from refuge.model.evidence import compile_evidence, compile_series
from refuge.model.loops import instant_loops
from refuge.model.model import Model
from refuge.model.rules import Action, compile_rules
from refuge.model.schedules import compile_schedules
from refuge.model.titles import title_problems
from refuge.scenario import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Period,
    Redirect,
    Scenario,
    Throughput,
)
from refuge.scenario.extend import added_fields, tracks_source


class _Compiler:
    def __init__(self, sc: Scenario, origin: str):
        self.sc = sc
        self.origin = origin
        self.problems: list[Problem] = []
        self._where: dict[int, tuple[list[str], int, dict[str, int]]] = {}  # `name`'s lookups, by list
        self.states = [s.name for s in sc.states]
        self.sites = [s.name for s in sc.sites]
        self.trans = [t.name for t in sc.transitions]
        self.arrivals = [a.name for a in sc.arrivals] + [e.name for e in sc.events]
        self.pnames = list(sc.parameters)
        self.pdefault = [p.value for p in sc.parameters.values()]
        self.T = sc.days
        self.emp_values: list[int] = []
        self.emp_cdf: list[float] = []
        self.emp_ptr: list[int] = [0]
        self.uses: list[tuple[int, str, str, bool]] = []  # (slot, field path, role, first day only): see ranges.py
        self.actions: list[Action] = []
        self.lo: np.ndarray | None = None  # each slot's lowest and highest value over the run (ranges.py)
        self.hi: np.ndarray | None = None

    # -- helpers ----------------------------------------------------------------------
    def err(self, path: str, expected: str, found: Any) -> None:
        self.problems.append(Problem(path, expected, str(found)))

    def param(self, value: Any, path: str, role: str = "value", day0: bool = False) -> int:
        """Index of a parameter slot for a number or a parameter name, used with a meaning (`ranges.ROLES`)."""
        if isinstance(value, str):
            if value not in self.pnames:
                self.err(path, "a number or a parameter name", f"`{value}`{suggest(value, self.pnames)}")
                return 0 if self.pnames else self._const(0.0)
            idx = self.pnames.index(value)
        else:
            idx = self._const(float(value))
        self.uses.append((idx, path, role, day0))
        return idx

    def _const(self, v: float) -> int:
        self.pnames.append(f"_const{len(self.pnames)}")
        self.pdefault.append(v)
        return len(self.pnames) - 1

    def value(self, idx: int) -> float:
        return self.pdefault[idx]

    def name(self, kind: str, value: str, options: list[str], path: str) -> int:
        got = self._where.get(id(options))
        if got is None or got[0] is not options or got[1] != len(options):  # (a network's thousands of names)
            got = (options, len(options), {})
            for i, n in enumerate(options):
                got[2].setdefault(n, i)
            self._where[id(options)] = got
        if value in got[2]:
            return got[2][value]
        self.err(path, f"the name of a {kind}", f"`{value}`{suggest(value, options)}")
        return -1

    def dayof(self, d: dt.date, path: str) -> int:
        day = (d - self.sc.start).days
        if not 0 <= day < self.T:
            self.err(path, f"a date within the scenario period {self.sc.start}..{self.sc.end}", d)
        return day

    def period_days(self, p: Period | None, path: str) -> tuple[int, int]:
        if p is None:
            return 0, self.T - 1
        return self.dayof(p.start, f"{path}.from"), self.dayof(p.end, f"{path}.to")

    def dist(self, d: Distribution | None, path: str, group: bool = False) -> tuple[int, int, int, int]:
        """(code, param a, param b, empirical table) for a duration (or, `group`, a group size) distribution."""
        if d is None:
            return NONE, 0, 0, NONE
        size, mean = ("group size", "mean group size") if group else ("days", "positive days")
        if isinstance(d, Fixed):
            return FIXED, self.param(d.value, f"{path}.value", size), 0, NONE
        if isinstance(d, Exponential):
            return EXPONENTIAL, self.param(d.mean, f"{path}.mean", mean), 0, NONE
        if isinstance(d, Gamma):
            return GAMMA, self.param(d.mean, f"{path}.mean", mean), self.param(d.sd, f"{path}.sd", mean), NONE
        if isinstance(d, Lognormal):
            return (LOGNORMAL, self.param(d.median, f"{path}.median", mean),
                    self.param(d.sigma, f"{path}.sigma", "group sigma" if group else "sigma"), NONE)
        assert isinstance(d, Empirical)
        from refuge.model.ranges import role

        most = role(size).high
        if max(d.values) > most:
            self.err(f"{path}.values", f"whole numbers of at most {most:,.0f} ({role(size).what})", max(d.values))
        w = np.asarray(d.weights, float)
        self.emp_values += list(d.values)
        self.emp_cdf += list(np.cumsum(w) / w.sum())
        self.emp_ptr.append(len(self.emp_values))
        return EMPIRICAL, 0, 0, len(self.emp_ptr) - 2

    def may_be_zero(self, code: int, a: int, emp: int, b: int = 0) -> bool:
        """Could this duration be zero days, on any day, whatever the rules do? (A fixed value rounds.)"""
        lo = self.lo if self.lo is not None else np.array(self.pdefault)
        hi = self.hi if self.hi is not None else np.array(self.pdefault)
        if code == FIXED:
            return not lo[a] > 0.5  # rounds to 0 days (or is not a number)
        if code == GAMMA:
            return not (lo[a] / hi[b]) ** 2 > 1e-3  # a shape so small that draws underflow to 0
        if code == EMPIRICAL:
            return 0 in self.emp_values[self.emp_ptr[emp]:self.emp_ptr[emp + 1]]
        return False

    # -- the whole scenario --------------------------------------------------------------
    def compile(self) -> Model:
        from refuge.model.ranges import ceilings, check_group_draws, check_ranges, check_sizes

        sc = self.sc
        check_sizes(sc, self.origin)
        self._unique()
        state_site, initial_param, capacity_param = self._states_and_sites()
        trans, edges = self._transitions()
        tracked = self._tracked(trans)
        queued = self._queued(trans, tracked)
        for i, st in enumerate(sc.states):
            if tracked[i] and not queued[i]:
                self.uses.append((int(initial_param[i]), f"states[{i}].initial", "tracked people", True))
        arr = self._arrivals()
        for i, row in enumerate(arr):
            if row[A_TARGET] >= 0 and tracked[row[A_TARGET]] and not queued[row[A_TARGET]]:
                self.uses.append((row[A_RATE], f"arrivals[{i}].rate", "tracked arrival rate", False))
        arr += self._events(tracked)
        rules = compile_rules(self, edges)
        self._initial_capacity(state_site, initial_param, capacity_param)
        evidence = compile_evidence(self, edges)
        series = compile_series(self, edges)
        from refuge.model.network import compile_network

        net = compile_network(self)
        outcomes = compile_outcomes(self, edges)
        self._sources_cited()
        pbase = compile_schedules(self)
        self.lo, self.hi = check_ranges(self, pbase)
        self.initial_slots = [int(x) for x in initial_param]
        self.arrival_rate_slots = [row[A_RATE] for row in arr]
        check_group_draws(self, trans, self.lo, self.hi)
        instant_loops(self, trans, edges)

        if self.problems:
            raise ScenarioError(self.origin, self.problems)
        edge_names, edge_trans, edge_target, edge_p, edge_redir = zip(*edges) if edges else ((),) * 5
        out_ptr, out_trans = self._exits(trans)
        return Model(
            scenario=sc, origin=self.origin, start=sc.start, days=self.T,
            state_names=self.states, state_kinds=[s.kind for s in sc.states], site_names=self.sites,
            transition_names=self.trans, edge_names=list(edge_names), arrival_names=self.arrivals,
            rule_names=[r.name for r in sc.rules], param_names=self.pnames, n_named_params=len(sc.parameters),
            state_site=state_site, tracked=tracked, queued=queued, initial_param=initial_param, out_ptr=out_ptr,
            out_trans=out_trans, capacity_param=capacity_param, **self._closures(),
            trans=np.array(trans, np.int64).reshape(len(trans), T_COLS),
            edge_trans=np.array(edge_trans, np.int64), edge_target=np.array(edge_target, np.int64),
            edge_p=np.array(edge_p, np.int64), edge_is_redirect=np.array(edge_redir, np.bool_),
            emp_ptr=np.array(self.emp_ptr, np.int64), emp_values=np.array(self.emp_values, np.int64),
            emp_cdf=np.array(self.emp_cdf, np.float64), arr=np.array(arr, np.int64).reshape(len(arr), A_COLUMNS),
            pbase=pbase, pceil=ceilings(self, pbase.shape[1]), evidence=evidence, series=series, outcomes=outcomes,
            net=net, digest=scenario_digest(sc),
            **rules,
        )

    def _states_and_sites(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each state's site and the parameter slot of its initial people; each site's capacity slot."""
        sc = self.sc
        state_site = np.full(len(self.states), -1, np.int64)
        for i, st in enumerate(sc.states):
            if st.site is not None:
                state_site[i] = self.name("site", st.site, self.sites, f"states[{i}].site")
        initial_param = np.array([self.param(st.initial, f"states[{i}].initial", "people", True)
                                  for i, st in enumerate(sc.states)], np.int64)
        capacity_param = np.array([NONE if s.capacity is None else
                                   self.param(s.capacity, f"sites[{i}].capacity", "capacity")
                                   for i, s in enumerate(sc.sites)], np.int64)
        return state_site, initial_param, capacity_param

    def _closures(self) -> dict[str, np.ndarray]:
        """Days each site is closed (to entry from outside; a full stop) and each state is closed, by schedule."""
        sc = self.sc
        closed_site = np.zeros((self.T, len(sc.sites)), np.bool_)
        stopped_site = np.zeros((self.T, len(sc.sites)), np.bool_)
        for i, s in enumerate(sc.sites):
            for k, p in enumerate(s.closed):
                a, b = self.period_days(p, f"sites[{i}].closed[{k}]")
                closed_site[max(a, 0):b + 1, i] = True
                stopped_site[max(a, 0):b + 1, i] |= p.full_stop
        closed_state = np.zeros((self.T, len(self.states)), np.bool_)
        for i, st in enumerate(sc.states):
            for k, p in enumerate(st.closed):
                a, b = self.period_days(p, f"states[{i}].closed[{k}]")
                closed_state[max(a, 0):b + 1, i] = True
        return {"closed_site_sched": closed_site, "stopped_site_sched": stopped_site,
                "closed_state_sched": closed_state}

    def _tracked(self, trans: list[list[int]]) -> np.ndarray:
        """States whose people are kept one by one: stays recorded, an exit after a time in state, or a mechanism
        that needs each person's day of entry (`refuge.scenario.extend.tracks_source`: a service order, say)."""
        sc = self.sc
        tracked = np.array([st.track_stays for st in sc.states], np.bool_)
        for row, t in zip(trans, sc.transitions):
            if row[T_IS_DUR] or (tracks_source(t) and row[T_SRC] >= 0):
                tracked[row[T_SRC]] = True
        for j, t in enumerate(sc.transitions):
            src = trans[j][T_SRC]
            if t.group_size is not None and src >= 0 and tracked[src]:
                self.err(f"transitions[{j}].group_size", "group_size only on transitions out of a state whose exits "
                         "are all constant rates (people there are counted, not tracked)", f"state `{t.source}`")
        return tracked

    def _queued(self, trans: list[list[int]], tracked: np.ndarray) -> np.ndarray:
        """Queues: tracked states whose timed exits all take a fixed number of days, one of them at a processing
        capacity that does not keep groups whole. Everyone who entered such a state on the same day is due on the
        same day, so the engine keeps its people as counts per day of entry (refuge.sim.mechanisms.tracked.cohorts),
        and a queue of a million costs what a queue of a thousand does."""
        capped = np.zeros(len(tracked), np.bool_)
        other = np.zeros(len(tracked), np.bool_)  # a timed exit that is not a fixed number of days, or keeps groups
        for row, t in zip(trans, self.sc.transitions):
            s = row[T_SRC]
            if s < 0 or not row[T_IS_DUR]:
                continue
            if row[T_DUR] != FIXED or t.whole:
                other[s] = True
            elif row[T_CAP] >= 0:
                capped[s] = True
        return tracked & capped & ~other

    def _exits(self, trans: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The exits of each state: out_trans[out_ptr[s]:out_ptr[s+1]], in declaration order."""
        out_ptr = np.zeros(len(self.states) + 1, np.int64)
        for row in trans:
            if row[T_SRC] >= 0:
                out_ptr[row[T_SRC] + 1] += 1
        order = sorted(range(len(trans)), key=lambda j: trans[j][T_SRC])
        return np.cumsum(out_ptr), np.array(order, np.int64)

    def _sources_cited(self) -> None:
        """Every `ref` names an entry of `sources:`."""
        for path, src in self.sc.cited():
            if src.ref is not None and src.ref not in self.sc.sources:
                self.err(f"{path}.ref", "the key of an entry of `sources:`",
                         f"`{src.ref}`{suggest(src.ref, self.sc.sources)}")

    def _unique(self) -> None:
        for what, names in (("states", self.states), ("sites", self.sites), ("transitions", self.trans),
                            ("arrivals", [a.name for a in self.sc.arrivals]),
                            ("rules", [r.name for r in self.sc.rules]),
                            ("evidence", [e.id for e in self.sc.evidence])):
            seen: set[str] = set()
            for i, n in enumerate(names):
                if n in seen:
                    self.err(f"{what}[{i}].name", "a name not used before in " + what, f"`{n}` again")
                seen.add(n)
        taken = {a.name for a in self.sc.arrivals}
        for i, ev in enumerate(self.sc.events):
            if ev.name in taken:
                self.err(f"events[{i}].name", "a name not used before by an arrival or event", f"`{ev.name}` again")
            taken.add(ev.name)
        clash = set(self.states) & set(self.sites)
        for n in sorted(clash):
            self.err("sites", "site names distinct from state names", f"`{n}` is both")
        self.problems += title_problems(self.sc)

    def _transitions(self) -> tuple[list[list[int]], list[tuple]]:
        rows: list[list[int]] = []
        edges: list[tuple] = []
        for j, t in enumerate(self.sc.transitions):
            path = f"transitions[{j}]"
            src = self.name("state", t.source, self.states, f"{path}.from")
            if t.rate is not None:
                is_dur, rate = 0, self.param(t.rate, f"{path}.rate", "rate")
                dur = (NONE, 0, 0, NONE)
            else:
                is_dur, rate = 1, 0
                dur = self.dist(t.duration, f"{path}.duration")
            grp = self.dist(t.group_size, f"{path}.group_size", group=True)
            lo = len(edges)
            if t.to is not None:
                tgt = self.name("state", t.to, self.states, f"{path}.to")
                edges.append((f"{t.name}->{t.to}", j, tgt, NONE, False))
            else:
                fixed_sum, rests = 0.0, 0
                for k, sp in enumerate(t.split or []):
                    tgt = self.name("state", sp.to, self.states, f"{path}.split[{k}].to")
                    if sp.p == "rest":
                        rests += 1
                        p = NONE
                    else:
                        p = self.param(sp.p, f"{path}.split[{k}].p", "probability")
                        fixed_sum += self.value(p)
                    edges.append((f"{t.name}->{sp.to}", j, tgt, p, False))
                if rests > 1:
                    self.err(f"{path}.split", "at most one target with p: rest", f"{rests}")
                elif rests == 0 and abs(fixed_sum - 1) > 1e-9:
                    self.err(f"{path}.split", "probabilities that sum to 1 (or one `p: rest`)", f"sum {fixed_sum:g}")
                elif rests == 1 and fixed_sum > 1 + 1e-9:
                    self.err(f"{path}.split", "probabilities that sum to at most 1 besides `rest`",
                             f"sum {fixed_sum:g}")
            hi = len(edges)
            redir, redir_edge = NONE, NONE
            if isinstance(t.when_blocked, Redirect):
                redir = self.name("state", t.when_blocked.redirect, self.states, f"{path}.when_blocked.redirect")
                redir_edge = len(edges)
                edges.append((f"{t.name}->{t.when_blocked.redirect}", j, redir, NONE, True))
            cap, cap_days = NONE, 1
            if t.capacity is not None:
                if isinstance(t.capacity, Throughput):
                    cap, cap_days = self.param(t.capacity.people, f"{path}.capacity.people", "served"), t.capacity.days
                else:
                    cap = self.param(t.capacity, f"{path}.capacity", "served")
            rows.append([src, is_dur, rate, *dur, *grp, redir, redir_edge, lo, hi, cap, cap_days])
        return rows, edges

    def _arrivals(self) -> list[list[int]]:
        rows = []
        for i, a in enumerate(self.sc.arrivals):
            path = f"arrivals[{i}]"
            tgt = self.name("state", a.to, self.states, f"{path}.to")
            rate = self.param(a.rate, f"{path}.rate", "arrival rate" if a.group_size is None else
                              "group arrival rate")
            grp = self.dist(a.group_size, f"{path}.group_size", group=True)
            d0, d1 = self.period_days(a.period, f"{path}.period")
            redir = NONE
            if isinstance(a.when_blocked, Redirect):
                redir = self.name("state", a.when_blocked.redirect, self.states, f"{path}.when_blocked.redirect")
            rows.append([tgt, rate, *grp, d0, d1, redir, 0, NONE])
        return rows

    def _events(self, tracked: np.ndarray) -> list[list[int]]:
        """Each event as an arrival row that brings exactly one group of its size on its day."""
        rows = []
        for i, ev in enumerate(self.sc.events):
            path = f"events[{i}]"
            tgt = self._event_target(ev.to, f"{path}.to")
            size = self.param(ev.size, f"{path}.size", "group size")
            day = self.dayof(ev.date, f"{path}.date")
            src = NONE
            if ev.source_state is not None:
                src = self.name("state", ev.source_state, self.states, f"{path}.from")
                if src >= 0 and tracked[src]:
                    self.err(f"{path}.from", "a counted state (all its exits constant rates), whose people can be "
                             "taken as a group", f"`{ev.source_state}`, whose people are tracked one by one")
            redir = NONE
            if isinstance(ev.when_blocked, Redirect):
                redir = self.name("state", ev.when_blocked.redirect, self.states, f"{path}.when_blocked.redirect")
            rows.append([tgt, size, FIXED, size, 0, NONE, day, day, redir, 1, src])
        self._inputs_not_evidence()
        return rows

    def _event_target(self, name: str, path: str) -> int:
        if name in self.states:
            return self.states.index(name)
        if name in self.sites:
            inside = [i for i, st in enumerate(self.sc.states) if st.site == name]
            if len(inside) == 1:
                return inside[0]
            self.err(path, "a state, or a site with exactly one state", f"site `{name}` with {len(inside)} states")
            return NONE
        return self.name("state or site", name, self.states + self.sites, path)

    def _inputs_not_evidence(self) -> None:
        """A fact replayed as an event is an input; citing it as evidence too would count it twice."""
        for i, ev in enumerate(self.sc.events):
            cited = [s.model_dump() for s in ev.all_sources()]
            for k, fact in enumerate(self.sc.evidence):
                if fact.source.model_dump() in cited:
                    self.err(f"events[{i}].source", "a fact that is not also cited as evidence (a fact is an input "
                             "or evidence, never both: drop the evidence entry or the event)",
                             f"event `{ev.name}` replays the fact of evidence[{k}] `{fact.id}` "
                             f"({fact.source.key}: {fact.source.fact})")

    def edge_refs(self, names: list[str], path: str, edges: list[tuple]) -> list[int]:
        out = []
        edge_names = [e[0] for e in edges]
        for k, n in enumerate(names):
            if n in self.trans:
                out += [e for e, row in enumerate(edges) if row[1] == self.trans.index(n)]
            elif n in edge_names:
                out += [e for e, name in enumerate(edge_names) if name == n]
            else:
                self.err(f"{path}[{k}]", "a transition or `transition->target`",
                         f"`{n}`{suggest(n, self.trans + edge_names)}")
        return out


    def _initial_capacity(self, state_site, initial_param, capacity_param) -> None:
        for n, site in enumerate(self.sc.sites):
            if capacity_param[n] == NONE:
                continue
            cap = self.value(capacity_param[n])
            held = sum(self.value(initial_param[s]) for s in range(len(self.states)) if state_site[s] == n)
            if held > cap:
                self.err(f"sites[{n}].capacity", f"room for the {held:g} people its states hold at the start", cap)


def compile_scenario(sc: Scenario, origin: str | None = None) -> Model:
    """Resolve every reference of a validated scenario; raise ScenarioError listing all problems.

    Series files not yet read (a scenario parsed from a mapping) are read relative to `origin` when it is a
    file, else to the working directory.
    """
    from refuge.scenario.series import needs_files

    if needs_files(sc):
        from pathlib import Path

        from refuge.scenario.series import attach_series

        base = Path(origin).parent if origin and Path(origin).is_file() else Path.cwd()
        sc, problems = attach_series(sc, base)
        if problems:
            raise ScenarioError(origin or sc.name, problems)
    return _Compiler(sc, origin or sc.name).compile()


def scenario_digest(sc: Scenario) -> str:
    """A short hash of a scenario's content: equal digests, the same scenario (experiments compare them)."""
    data = sc.model_dump(mode="json", by_alias=True)
    for x in [*data.get("transitions", []), *data.get("states", []), *data.get("sites", [])]:
        for field in (*added_fields(), "label"):  # fields added since: left out when not used, so digests stay put
            if not x.get(field, True):
                x.pop(field)
    if not data.get("drift"):
        data.pop("drift", None)
    for field in ("locations_file", "routes_file"):  # (read into the lists by then; added since)
        (data.get("network") or {}).pop(field, None)
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
