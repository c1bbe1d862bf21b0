"""What a worker of `refuge app` does: simulate runs of the page's scenario (as changed, each run perhaps with its
own parameter values, e.g. a posterior draw) and reduce each to what the page draws."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.present.app_words import page_error

# --- what a worker does ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    scenario: Any
    origin: str
    key: str  # digest of the changed scenario and the rules switched off
    rules_off: tuple[str, ...]
    step: int
    seed: int = 0  # the first run's seed: run `seed + r` takes `values[r]`
    values: tuple[tuple[tuple[str, float], ...], ...] = ()  # per run: its parameter values (a posterior draw)


_MODELS: dict[str, Any] = {}


@dataclass
class _Compiled:
    """A compiled model and what reducing its runs needs, made once per worker and scenario."""

    model: Any
    year: np.ndarray  # per day: index of its calendar year
    totals: list[dict]  # the outcomes that are totals, shown per year


def _compiled(spec: _Spec) -> _Compiled:
    from refuge.evidence.outcomes import yearly_outcomes
    from refuge.model.compiler import compile_scenario

    c = _MODELS.get(spec.key)
    if c is None:
        m = _switch_off(compile_scenario(spec.scenario, spec.origin), spec.rules_off)
        years = np.asarray(m.dates.year)
        c = _Compiled(model=m, year=np.searchsorted(np.unique(years), years), totals=yearly_outcomes(m))
        if len(_MODELS) >= 16:
            _MODELS.clear()
        _MODELS[spec.key] = c
    return c


def _switch_off(m, rules_off: tuple[str, ...]):
    """The compiled model with these rules off (a rule outside its period is never evaluated)."""
    if rules_off:
        idx = [m.rule_names.index(r) for r in rules_off]
        m.rule_start, m.rule_end = m.rule_start.copy(), m.rule_end.copy()
        m.rule_start[idx], m.rule_end[idx] = m.days, -1
    return m


def _model(spec: _Spec):
    return _compiled(spec).model


def _run_model(spec: _Spec, c: _Compiled, seed: int):
    """The model run `seed` simulates: the compiled scenario, or, when each run has its own values (posterior
    draws), the scenario with them (compiled, so every draw is checked as a file would be)."""
    from refuge.errors import ScenarioError
    from refuge.model.compiler import compile_scenario

    if not spec.values:
        return c.model
    try:
        m = compile_scenario(spec.scenario.with_values(dict(spec.values[seed - spec.seed])), spec.origin)
    except ScenarioError as exc:  # a plain message crosses the process boundary intact
        raise RefugeError(str(page_error(spec.scenario, exc))) from None
    return _switch_off(m, spec.rules_off)


def _years(c: _Compiled, run) -> np.ndarray:
    """(years, total outcomes) for one run, as `refuge.evidence.outcomes.outcomes_by_year` counts them,
    without rebuilding the calendar for every run."""
    from refuge.evidence.outcomes import _daily_total

    n = int(c.year.max()) + 1
    year = c.year[: run.days]
    out = np.zeros((n, len(c.totals)))
    for j, o in enumerate(c.totals):
        out[:, j] = np.bincount(year, weights=_daily_total(run, o).astype(np.float64), minlength=n)
    return out


def _runs(spec: _Spec, seeds: list[int]) -> list[dict]:
    """Simulate and reduce each run to what the page draws: sampled stocks and occupancy, people moved by each
    transition in each `step`-day window, outcomes, evidence measures, per-year and per-site figures."""
    from refuge.evidence.check import site_matrix, stay_matrix
    from refuge.evidence.measures import measure_all
    from refuge.evidence.outcomes import outcomes
    from refuge.results.simulate import simulate

    cpu = time.process_time()
    c = _compiled(spec)
    m = c.model
    by_transition = np.zeros((len(m.edge_names), len(m.transition_names)))
    by_transition[np.arange(len(m.edge_names)), m.edge_trans] = 1
    windows = np.arange(0, m.days, spec.step)
    out = []
    for seed in seeds:
        run = simulate(_run_model(spec, c, seed), seed=seed)
        moved = run.flows @ by_transition
        out.append({"stocks": run.stocks[::spec.step].astype(np.int32),
                    "flows": (np.add.reduceat(moved, windows[windows < run.days], axis=0) if len(moved)
                              else np.zeros((0, moved.shape[1]))).astype(np.int32),
                    "sites": run.site_occupancy[::spec.step].astype(np.int32),
                    "outcomes": np.array(list(outcomes(run).values()), float),
                    "evidence": np.asarray(measure_all(run), float),
                    "years": _years(c, run), "sites_table": site_matrix(run),
                    "stays_table": stay_matrix(run)})
    out[0]["cpu"] = time.process_time() - cpu  # the worker's CPU time for these runs (benchmarks report it)
    return out
