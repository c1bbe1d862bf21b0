"""The fast engine is exact in distribution: it matches the person-by-person reference engine.

For each small scenario, a few hundred replicates of each engine (fixed seeds, so the outcome is
deterministic) are reduced to per-run figures: stocks of every state on three days and on average, total flow
along every edge, completed stays in every tracked state (mean and quartiles), days each rule is
on and each site or state is closed, arrivals and people still waiting. Each figure is compared by
a two-sample Kolmogorov-Smirnov test; the threshold is Bonferroni-corrected so the chance of any
false alarm over a whole scenario is at most FAMILY_ALPHA. The test is not vacuous: the same
comparison rejects the reference run with a modestly changed parameter.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from refuge.api import load, simulate, simulate_reference
from refuge.model.compiler import T_CAP, T_SRC
from refuge.scenario import Empirical, Exponential, Fixed, Gamma, Lognormal, Redirect

SCENARIOS = Path(__file__).parent / "scenarios"
NAMES = ("ref_mission", "ref_camp", "ref_chain", "ref_sweep", "ref_office", "ref_order", "ref_queue")
REPS = 300
FAMILY_ALPHA = 0.01


@cache
def model(name: str, **values: float):
    m = load(SCENARIOS / f"{name}.yaml")
    if values:
        from refuge.model.compiler import compile_scenario

        m = compile_scenario(m.scenario.with_values(values))
    return m


@cache
def figures(name: str, engine: str, reps: int = REPS, **values: float) -> dict[str, np.ndarray]:
    """Per-run figures of `reps` replicates: {figure name: array over runs}."""
    sim = simulate if engine == "fast" else simulate_reference
    seeds = range(reps) if engine == "fast" else range(10_000, 10_000 + reps)
    rows = [run_figures(sim(model(name, **values), seed=s)) for s in seeds]
    return {k: np.array([r[k] for r in rows], float) for k in rows[0]}


def run_figures(run) -> dict[str, float]:
    m = run.model
    out: dict[str, float] = {}
    for day in (run.days // 4, run.days // 2, run.days - 1):
        for s, state in enumerate(m.state_names):
            out[f"stock of {state} on day {day}"] = run.stocks[day, s]
    for s, state in enumerate(m.state_names):
        out[f"mean stock of {state} over the run"] = run.stocks[:, s].mean()
    for e, edge in enumerate(m.edge_names):
        out[f"flow {edge} (edge {e})"] = run.flows[:, e].sum()
    for s in np.flatnonzero(m.tracked):
        state = m.state_names[s]
        _, days, people = run.completed_stays([state])
        per_person = np.repeat(days, people)
        for label, value in (("mean", np.mean), ("q25", lambda x: np.percentile(x, 25)),
                             ("q75", lambda x: np.percentile(x, 75))):
            out[f"{label} completed stay in {state}"] = value(per_person) if len(per_person) else np.nan
        out[f"longest ongoing stay in {state} at the end"] = run.max_stay[-1, s]
    for r, rule in enumerate(m.rule_names):
        out[f"days rule {rule} is on"] = run.rules_active[:, r].sum()
    for n, site in enumerate(m.site_names):
        out[f"days site {site} is closed"] = run.closed_sites[:, n].sum()
    for s, state in enumerate(m.state_names):
        out[f"days state {state} is closed"] = run.closed_states[:, s].sum()
    for a, stream in enumerate(m.arrival_names):
        out[f"arrived by {stream}"] = run.arrived[:, a].sum()
        out[f"still waiting to arrive by {stream}"] = run.backlog[a]
    return out


def differences(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> tuple[list[str], int]:
    """Figures whose two samples differ at the Bonferroni-corrected level, and how many were compared."""
    from scipy.stats import ks_2samp

    tested = {}
    for key in a:
        x, y = a[key][~np.isnan(a[key])], b[key][~np.isnan(b[key])]
        if len(x) < 20 or len(y) < 20:
            continue
        if np.ptp(x) == 0 and np.ptp(y) == 0 and x[0] == y[0]:
            continue  # the same constant in both: no test could reject it
        tested[key] = (ks_2samp(x, y, method="asymp").pvalue, x.mean(), y.mean())
    level = FAMILY_ALPHA / max(len(tested), 1)
    bad = [f"{k}: p={p:.2g} (means {mx:.3g} vs {my:.3g})" for k, (p, mx, my) in tested.items() if p < level]
    return bad, len(tested)


@pytest.mark.parametrize("name", NAMES)
def test_fast_engine_matches_the_reference_in_distribution(name):
    bad, n = differences(figures(name, "fast"), figures(name, "reference"))
    assert n >= 30, f"only {n} figures compared"
    assert not bad, f"{len(bad)} of {n} figures differ between engines:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("name, change, moved", [
    ("ref_mission", {"success": 0.5}, "flow attempt->"),  # entries succeed 50% of the time, not 60%
    ("ref_camp", {"settle_p": 0.7}, "flow stay->"),  # 70% settle after their stay, not 80%, until the step
])
def test_the_comparison_detects_a_modest_change(name, change, moved):
    # Half the replicates for the changed reference: enough to see the change, and quicker.
    bad, _ = differences(figures(name, "fast"), figures(name, "reference", REPS // 2, **change))
    assert any(k.startswith(moved) for k in bad), bad


def test_the_scenarios_together_exercise_every_feature():
    scenarios = [model(n).scenario for n in NAMES]
    trans = [t for sc in scenarios for t in sc.transitions]
    durations = {type(t.duration) for t in trans if t.duration is not None}
    assert durations == {Fixed, Exponential, Gamma, Lognormal, Empirical}
    assert any(isinstance(t.duration, Fixed) and t.duration.value == 0 for t in trans), "same-day pass-through"
    assert any(t.group_size for t in trans) and any(a.group_size for sc in scenarios for a in sc.arrivals)
    splits = [sp for t in trans for sp in t.split or []]
    assert any(sp.p == "rest" for sp in splits) and any(isinstance(sp.p, str) and sp.p != "rest" for sp in splits)
    assert any(isinstance(t.when_blocked, Redirect) for t in trans) and any(t.when_blocked == "wait" for t in trans)
    assert any(a.period for sc in scenarios for a in sc.arrivals)
    assert {s.interpolation for sc in scenarios for s in sc.schedules} == {"step", "linear"}
    rules = [r for sc in scenarios for r in sc.rules]
    assert any(r.signal.flow for r in rules) and any(r.signal.occupancy for r in rules)
    assert all(r.below is not None for r in rules), "hysteresis"
    kinds = {k for r in rules for a in r.actions for k in ("set", "multiply", "close") if getattr(a, k)}
    assert kinds == {"set", "multiply", "close"}
    assert any(st.closed for sc in scenarios for st in sc.states) and any(si.closed for sc in scenarios
                                                                           for si in sc.sites)
    capacities = [t.capacity for t in trans if t.capacity is not None]
    assert any(isinstance(c, (int, float, str)) for c in capacities), "a daily processing capacity"
    assert any(getattr(c, "days", 1) > 1 for c in capacities), "a processing capacity per period"
    assert any(t.capacity is not None and t.group_size is not None for t in trans), "a capacity on groups"
    assert any(a.full_stop for r in rules for a in r.actions), "a rule's full stop"
    models = [model(n) for n in NAMES]
    assert any(m.trans[j, T_CAP] >= 0 and m.tracked[m.trans[j, T_SRC]] for m in models
               for j in range(len(m.transition_names))), "a capacity out of a tracked state"
    assert any(m.state_site[m.trans[j, T_SRC]] >= 0 and m.state_site[m.trans[j, T_SRC]] ==
               m.state_site[m.edge_target[e]] and m.closed_site_sched[:, m.state_site[m.edge_target[e]]].any()
               for m in models for e in range(len(m.edge_names)) for j in [m.edge_trans[e]]), \
        "a move between two states of a site that closes"
    assert all((~m.tracked).any() and m.tracked.any() for m in models), "counted and tracked states in each"
    assert any((np.bincount(m.state_site[m.state_site >= 0]) >= 2).any() for m in models), "a shared site"
    assert any(m.pbase[0, m.initial_param[s]] > 0 for m in models for s in np.flatnonzero(m.tracked)), \
        "initial stock in a tracked state"


@pytest.mark.parametrize("name", NAMES)
def test_mechanisms_actually_happen_in_the_runs(name):
    # A feature present in a file but never triggered would be compared vacuously.
    fig = figures(name, "fast")
    for key, values in fig.items():
        if key.startswith("days rule"):
            assert 0 < np.mean(values > 0) < 1 or np.ptp(values) > 0, f"{key} never varies"
    unused = [k for k in fig if k.startswith("flow") and fig[k].max() == 0]
    assert not unused, "edges (split branches, redirects) never taken"
