"""Evaluating one candidate policy of a search: the scenario with its levers set, run on an ensemble.

Every candidate runs on the same seeds (`seed`, `seed + 1`, ...): refuge gives each random decision its own
stream keyed by name, so candidates share their random numbers (common random numbers) and differ by their
policy, not by their luck. The answer is re-checked on seeds the search never used (from `FRESH_OFFSET`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.inference.optimize_spec import Driver, Lever, Measure, OptimizeSpec
from refuge.scenario import Scenario, Schedule, SchedulePoint

FRESH_OFFSET = 1_000_003  # the re-check's first seed is seed + FRESH_OFFSET: never one of the search's
CHUNK = 8  # runs a task: a worker compiles the candidate once per chunk


def wilson(k: int, n: int, z: float = 1.6449) -> tuple[float, float]:
    """A 90% (by default) Wilson interval for a share k/n."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def check_spec(scenario: Scenario, spec: OptimizeSpec) -> Scenario:
    """The scenario every candidate starts from (`until`, `set`), after checking the spec's names against it."""
    problems = []
    for i, lv in enumerate(spec.levers):
        for p in lv.parameters:
            if p not in scenario.parameters:
                problems.append(f"levers[{i}].parameters: expected a parameter of {scenario.name}; found {p}")
        if lv.start is not None and not scenario.start <= lv.start <= (spec.until or scenario.end):
            problems.append(f"levers[{i}].from: expected a date inside the run; found {lv.start}")
    for i, d in enumerate(spec.drivers):
        if d.parameter not in scenario.parameters:
            problems.append(f"drivers[{i}].parameter: expected a parameter of {scenario.name}; found {d.parameter}")
    for k in spec.set:
        if k not in scenario.parameters:
            problems.append(f"set: expected a parameter of {scenario.name}; found {k}")
    if problems:
        raise RefugeError("optimisation spec: " + "; ".join(problems))
    base = scenario.with_values(spec.set) if spec.set else scenario
    if spec.until is not None:
        if spec.until <= base.start:
            raise RefugeError(f"until: expected a date after the scenario's start ({base.start}); found {spec.until}")
        base = base.model_copy(update={"end": spec.until})
    return base


def apply_levers(base: Scenario, levers: list[Lever], values: dict[str, float]) -> Scenario:
    """The scenario with each lever's value given to its parameters (from its date, or throughout)."""
    params = dict(base.parameters)
    schedules = list(base.schedules)
    for lv in levers:
        x = float(values[lv.name])
        for name in lv.parameters:
            if lv.start is None or lv.start <= base.start:
                params[name] = params[name].model_copy(update={"value": x})
                schedules = [s for s in schedules if s.parameter != name]
                continue
            found = False
            for i, s in enumerate(schedules):
                if s.parameter == name:
                    kept = [p for p in s.points if p.date < lv.start]
                    schedules[i] = s.model_copy(update={
                        "points": kept + [SchedulePoint(date=lv.start, value=x)],
                        "interpolation": "step"})
                    found = True
            if not found:
                schedules.append(Schedule(parameter=name, points=[SchedulePoint(date=lv.start, value=x)],
                                          assumption=True))
    return base.model_copy(update={"parameters": params, "schedules": schedules})


def _level_before(sc: Scenario, name: str, date: dt.date) -> float:
    """The parameter's value in force the day before `date` (its last schedule point before it, if a number)."""
    value = sc.parameters[name].value
    for s in sc.schedules:
        if s.parameter == name:
            before = [p for p in s.points if p.date < date]
            if before:
                v = before[-1].value
                value = sc.parameters[v].value if isinstance(v, str) else float(v)
    return float(value)


def with_drivers(sc: Scenario, drivers: list[Driver], seed: int) -> Scenario:
    """The scenario with each driver's walk for this run's seed as schedule points from its date."""
    import zlib

    schedules = list(sc.schedules)
    for d in drivers:
        rng = np.random.default_rng([int(seed), zlib.crc32(d.parameter.encode())])
        start = d.value if d.value is not None else _level_before(sc, d.parameter, d.start)
        n = max(1, (sc.end - d.start).days // d.every + 1)
        levels = start * np.exp(np.concatenate([[0.0], np.cumsum(rng.normal(0.0, d.sd, n - 1))]))
        points = [SchedulePoint(date=d.start + dt.timedelta(days=k * d.every), value=float(v))
                  for k, v in enumerate(levels)]
        kept = [s for s in schedules if s.parameter != d.parameter]
        old = [s for s in schedules if s.parameter == d.parameter]
        earlier = [p for s in old for p in s.points if p.date < d.start]
        kept.append(Schedule(parameter=d.parameter, points=earlier + points, assumption=True))
        schedules = kept
    return sc.model_copy(update={"schedules": schedules})


def _day(model: Any, date: dt.date | None, default: int) -> int:
    if date is None:
        return default
    return min(max((date - model.scenario.start).days, 0), model.days - 1)


def measure_run(run: Any, m: Measure) -> float:
    """One measure's value in one run."""
    model = run.model
    d0, d1 = _day(model, m.start, 0), _day(model, m.to, run.days - 1)
    if m.stock is not None:
        return float(run.stock_of(m.stock)[_day(model, m.date, run.days - 1)])
    if m.peak is not None:
        return float(run.stock_of(m.peak)[d0:d1 + 1].max())
    if m.flow is not None:
        return float(run.flow_of(m.flow)[d0:d1 + 1].sum())
    if m.clear is not None:  # days from `from` to the first day at or below `below`; never: to the end plus one
        hit = np.flatnonzero(run.stock_of(m.clear)[d0:d1 + 1] <= m.below)
        return float(hit[0] if hit.size else d1 - d0 + 1)
    names = model.site_names if m.room == "all" else m.room
    occ = run.site_occupancy
    cap_idx = model.capacity_param
    worst = 0.0
    for name in names:
        n = model.site_names.index(name)
        if cap_idx[n] < 0:
            continue
        cap = run.params[d0:d1 + 1, cap_idx[n]]
        share = occ[d0:d1 + 1, n] / np.maximum(cap, 1e-9)
        worst = max(worst, float(share.max()))
    return worst


def check_measures(model: Any, measures: list[Measure]) -> None:
    """Every name a measure uses exists in the compiled model (one line naming the bad one)."""
    for m in measures:
        if m.room is not None:
            bad = [] if m.room == "all" else [n for n in m.room if n not in model.site_names]
            if bad:
                raise RefugeError(f"measure room: expected sites of the scenario; found {', '.join(bad)}")
            continue
        names = m.stock or m.peak or m.flow or m.clear
        if m.flow is not None:
            try:
                model.edges_of(names)
            except (RefugeError, ValueError) as exc:
                raise RefugeError(f"measure {m.label()}: expected transitions of the scenario ({exc})") from None
            continue
        bad = [n for n in names if n not in model.state_names and n not in model.site_names]
        if bad:
            raise RefugeError(f"measure {m.label()}: expected states or sites of the scenario; found "
                              f"{', '.join(bad)}")


_COMPILED: dict[str, Any] = {}


def _run_chunk(scenario: Scenario, origin: str, measures: list[Measure], drivers: list[Driver],
               seeds: list[int]) -> np.ndarray:
    """(runs, measures) for the seeds of one chunk (a top-level function: it runs in worker processes)."""
    from refuge.model.compiler import compile_scenario
    from refuge.results.simulate import simulate

    model = None
    if not drivers:
        key = scenario.model_dump_json()
        model = _COMPILED.get(key)
        if model is None:
            _COMPILED.clear()
            model = _COMPILED[key] = compile_scenario(scenario, origin)
    out = np.empty((len(seeds), len(measures)))
    for i, s in enumerate(seeds):
        m = model if model is not None else compile_scenario(with_drivers(scenario, drivers, s), origin)
        run = simulate(m, seed=int(s))
        out[i] = [measure_run(run, m) for m in measures]
    return out


@dataclass
class Evaluator:
    """Runs candidates: `values(scenario)` -> (runs, measures), on local processes or a Dask cluster."""

    origin: str
    measures: list[Measure]
    drivers: list[Driver] = field(default_factory=list)
    workers: int | None = 1
    cluster: Any = None

    def values(self, scenario: Scenario, first_seed: int, runs: int) -> np.ndarray:
        """(runs, measures): the measures in runs with seeds first_seed, first_seed + 1, ..."""
        from refuge.experiments.ensemble import map_runs

        seeds = list(range(first_seed, first_seed + runs))
        chunks = [seeds[i:i + CHUNK] for i in range(0, runs, CHUNK)]
        fn = partial(_run_chunk, scenario, self.origin, self.measures, self.drivers)
        if self.workers == 1 and self.cluster is None:
            parts = [fn(c) for c in chunks]
        else:
            parts = map_runs(fn, chunks, workers=self.workers, cluster=self.cluster)
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, len(self.measures)))
