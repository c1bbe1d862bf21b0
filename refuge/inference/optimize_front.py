"""A Pareto front of policies (`refuge optimize` with `objectives:`): e.g. cost against the time to clear.

A spec with two or more `objectives` (each `minimize` or `maximize`: `cost`, a lever, or a measure: its mean
over the runs, or with `probability: p` the value reached in a share p of the runs) asks for the policies no
other policy beats on every objective at once. Every candidate runs on the same `runs` seeds (common random
numbers, as in the single-objective search), and must meet the spec's constraints (if any) with their
probability to count. Candidates come from Optuna: with one lever, an even grid of `trials` values over its
range (one lever's front is a curve, and a grid draws it evenly); with several, Optuna's multi-objective TPE
sampler (seeded), told each constraint's shortfall.

The front is the feasible candidates that no other feasible candidate dominates on the search's seeds. Each of
its points is then run again on `check_runs` fresh seeds no search used: an objective reached "with
probability p" is checked as the share of the fresh runs reaching the value the search claimed, with its 90%
Wilson interval, and each constraint's probability likewise. A point held when no fresh share falls under the
bottom of the 90% interval of what the search claimed (the value reached in 90% of 40 runs is reached in 36 of
them, [0.80, 0.95]); the claims are those of `runs` runs each, so they are as loose as that interval says: the
best of many candidates on few runs is flattered by luck, and the fresh seeds show by how much.

Resumable: trials go to Optuna's journal (`DIR/study.journal`), each fresh check to `DIR/front_checks.json` as
it finishes; the same command on the same DIR runs only what is missing. Outputs: `trials.csv`, `front.csv`,
`result.json`, `front.png`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.inference.optimize_eval import FRESH_OFFSET, apply_levers, wilson
from refuge.inference.optimize_spec import Measure, Objective, OptimizeSpec

CHECKS = "front_checks.json"


@dataclass
class Point:
    """One evaluated policy: its objectives, each constraint's share of runs holding, and per objective the 90%
    range of its values over the runs (None for cost and levers)."""

    values: dict[str, float]
    objectives: list[float]
    probabilities: list[float]
    runs: int
    feasible: bool
    spread: list[tuple[float, float] | None] = field(default_factory=list)
    trial: int = -1

    def to_dict(self, spec: OptimizeSpec) -> dict:
        """The point as plain data, with the 90% Wilson interval of every probability."""
        return {"values": self.values, "trial": self.trial, "runs": self.runs, "feasible": self.feasible,
                "objectives": [{"objective": o.label(), "value": v, "range90": None if s is None else list(s)}
                               for o, v, s in zip(spec.objectives, self.objectives, self.spread)],
                "constraints": [{"constraint": k.label(), "probability": p,
                                 "interval90": list(wilson(round(p * self.runs), self.runs))}
                                for k, p in zip(spec.constraints, self.probabilities)]}


@dataclass
class Check:
    """A front point on fresh seeds: its objectives there, and the share of the fresh runs reaching each value
    the search claimed with a probability (None for other objectives), and each constraint's share."""

    point: Point
    reach: list[float | None]

    def intervals(self) -> list[tuple[float, float] | None]:
        """Each fresh share's 90% Wilson interval over the point's runs (None where no probability was claimed)."""
        n = self.point.runs
        return [None if r is None else wilson(round(r * n), n) for r in self.reach]

    def held(self, spec: OptimizeSpec, claimed: Point) -> bool:
        """Every probability the search claimed for the point is borne out by the fresh seeds: the share of fresh
        runs reaching it at least the bottom of the claim's 90% interval in the search (an objective's claim is
        the share of the search's runs at or beyond its value; a constraint's, its probability there)."""
        n, m = claimed.runs, self.point.runs
        got = [(claims_share(o, claimed.runs), r) for o, r in zip(spec.objectives, self.reach) if r is not None]
        got += list(zip(claimed.probabilities, self.point.probabilities))
        return all(fresh >= wilson(round(want * n), n)[0] - 1e-12 for want, fresh in got) and m > 0


def claims_share(o: Objective, runs: int) -> float:
    """The share of a search's `runs` at or beyond an objective's value reached with `o.probability`."""
    return math.ceil(o.probability * runs - 1e-9) / runs


@dataclass
class FrontResult:
    """The front (on the search's seeds, best first by the first objective), its fresh checks, every trial."""

    spec: OptimizeSpec
    scenario: str
    trials: list[Point]
    front: list[Point]
    checks: list[Check]
    out: Path | None = None

    def to_dict(self) -> dict:
        """What `result.json` holds."""
        spec = self.spec
        return {"scenario": self.scenario, "objectives": [o.label() for o in spec.objectives],
                "constraints": [k.label() for k in spec.constraints], "trials": len(self.trials),
                "runs_per_trial": spec.runs, "check_runs": spec.check_runs,
                "front": [{**p.to_dict(spec), "recheck": _check_dict(spec, c, p)}
                          for p, c in zip(self.front, self.checks)],
                "held_on_fresh_seeds": sum(c.held(spec, p) for p, c in zip(self.front, self.checks))}


def _check_dict(spec: OptimizeSpec, c: Check, claimed: Point) -> dict:
    d = c.point.to_dict(spec)
    for o, r, iv in zip(d["objectives"], c.reach, c.intervals()):
        if r is not None:
            o["share_reaching_claim"], o["interval90"] = r, list(iv)
    d["held"] = c.held(spec, claimed)
    return d


class FrontSearch:
    """Evaluates candidates for a front: the spec, the base scenario and an `Evaluator` of `spec.measures`."""

    def __init__(self, spec: OptimizeSpec, base: Any, evaluator: Any):
        self.spec, self.base, self.ev = spec, base, evaluator
        cols, n = [], len(spec.constraints)
        for o in spec.objectives:
            cols.append(n if isinstance(o.target, Measure) else None)
            n += isinstance(o.target, Measure)
        self.cols = cols

    def runs_of(self, values: dict[str, float], first_seed: int, runs: int) -> tuple[Point, np.ndarray]:
        """The point and the (runs, measures) values behind it."""
        x = self.ev.values(apply_levers(self.base, self.spec.levers, values), first_seed, runs)
        spec = self.spec
        probs = [float(np.mean(k.holds(x[:, i]))) for i, k in enumerate(spec.constraints)]
        ok = all(p >= k.probability - 1e-12 for p, k in zip(probs, spec.constraints))
        objs, spread = [], []
        for o, col in zip(spec.objectives, self.cols):
            if col is None:
                t = o.target
                objs.append(float(sum(lv.cost * values[lv.name] for lv in spec.levers) if t == "cost"
                                  else values[t]))
                spread.append(None)
            else:
                objs.append(o.of_runs(x[:, col]))
                lo, hi = np.quantile(x[:, col], [0.05, 0.95])
                spread.append((float(lo), float(hi)))
        return Point(dict(values), objs, probs, runs, ok, spread), x

    def check(self, p: Point) -> Check:
        """The point on `check_runs` fresh seeds, and how often the fresh runs reach what it claimed."""
        fresh, x = self.runs_of(p.values, self.spec.seed + FRESH_OFFSET, self.spec.check_runs)
        fresh.trial = p.trial
        reach: list[float | None] = []
        for o, col, claim in zip(self.spec.objectives, self.cols, p.objectives):
            if col is None or o.probability is None:
                reach.append(None)
                continue
            v = x[:, col]
            reach.append(float(np.mean(v <= claim if o.direction == "minimize" else v >= claim)))
        return Check(fresh, reach)


def dominates(a: list[float], b: list[float], objectives: list[Objective]) -> bool:
    """a is at least as good as b on every objective and better on one."""
    signs = [1.0 if o.direction == "minimize" else -1.0 for o in objectives]
    ga = [s * v for s, v in zip(signs, a)]
    gb = [s * v for s, v in zip(signs, b)]
    return all(x <= y for x, y in zip(ga, gb)) and any(x < y for x, y in zip(ga, gb))


def pareto(points: list[Point], objectives: list[Objective]) -> list[Point]:
    """The feasible points no other feasible point dominates (one of each set of equal objectives), sorted by
    the first objective."""
    feas = [p for p in points if p.feasible]
    out: list[Point] = []
    for p in feas:
        if any(dominates(q.objectives, p.objectives, objectives) for q in feas):
            continue
        if any(q.objectives == p.objectives for q in out):
            continue
        out.append(p)
    sign = 1.0 if objectives[0].direction == "minimize" else -1.0
    return sorted(out, key=lambda p: (sign * p.objectives[0], p.trial))


def search_front(spec: OptimizeSpec, model: Any, search: FrontSearch, folder: Path | None,
                 progress: Any = None) -> FrontResult:
    """Run the trials (resuming a journal in `folder`), pick the front, check it on fresh seeds (the files:
    `refuge.inference.optimize_front_out.write`)."""
    study = _study(spec, model, folder)
    _run_trials(study, search, progress)
    trials = _points(study, spec)
    front = pareto(trials, spec.objectives)
    done = _read_checks(folder, spec) if folder is not None else {}
    checks = []
    for p in front:
        key = _key(p.values)
        c = done.get(key)
        if c is None:
            c = search.check(p)
            done[key] = c
            if folder is not None:
                _write_checks(folder, spec, done)
            if progress is not None:
                progress(-1, p.values, c.point)
        checks.append(c)
    return FrontResult(spec, model.scenario.name, trials, front, checks, folder)


# --- Optuna ---------------------------------------------------------------------------------------------


def _study(spec: OptimizeSpec, model: Any, folder: Path | None):
    import optuna

    from refuge.inference.optimize_journal import STUDY, _journal

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _journal(spec, model, folder)
    directions = [o.direction for o in spec.objectives]
    if len(spec.levers) == 1:
        sampler = optuna.samplers.GridSampler({spec.levers[0].name: grid(spec)}, seed=spec.seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=spec.seed, n_startup_trials=min(10, max(3, spec.trials // 4)))
    return optuna.create_study(study_name=STUDY, storage=storage, sampler=sampler, load_if_exists=True,
                               directions=directions)


def grid(spec: OptimizeSpec) -> list[float]:
    """One lever's values for the front: `trials` of them evenly over its range (on its log scale if `log`),
    snapped to its step; fewer where the step allows fewer."""
    lv = spec.levers[0]
    n = max(spec.trials, 2)
    if lv.log:
        return [float(lv.low * (lv.high / lv.low) ** (i / (n - 1))) for i in range(n)]
    return sorted({_snap(lv, lv.low + (lv.high - lv.low) * i / (n - 1)) for i in range(n)})


def _snap(lv: Any, x: float) -> float:
    if lv.step:
        return float(min(lv.high, max(lv.low, lv.low + round((x - lv.low) / lv.step) * lv.step)))
    return float(x)


def _run_trials(study: Any, search: FrontSearch, progress: Any) -> None:
    import optuna

    spec = search.spec
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    todo = spec.trials - len(done)
    if len(spec.levers) == 1:
        todo = min(todo, len(grid(spec)) - len(done))  # a grid has as many trials as values

    def objective(trial: Any) -> list[float]:
        lv0 = spec.levers[0]
        if len(spec.levers) == 1:  # the grid's value (a categorical the grid sampler proposes)
            values = {lv0.name: trial.suggest_float(lv0.name, lv0.low, lv0.high, log=lv0.log)}
        else:
            from refuge.inference.optimize_journal import _step

            values = {lv.name: trial.suggest_float(lv.name, lv.low, lv.high, step=_step(lv), log=lv.log)
                      for lv in spec.levers}
        p, _ = search.runs_of(values, spec.seed, spec.runs)
        trial.set_user_attr("probabilities", p.probabilities)
        trial.set_user_attr("feasible", p.feasible)
        trial.set_user_attr("spread", [None if s is None else list(s) for s in p.spread])
        for i, (k, v) in enumerate(zip(spec.constraints, p.probabilities)):
            trial.set_constraint(f"c{i}", k.probability - v)
        if progress is not None:
            progress(trial.number, values, p)
        return p.objectives

    if todo > 0:
        study.optimize(objective, n_trials=todo)


def _points(study: Any, spec: OptimizeSpec) -> list[Point]:
    import optuna

    out = []
    for t in study.trials:
        if t.state != optuna.trial.TrialState.COMPLETE or "probabilities" not in t.user_attrs:
            continue
        spread = [None if s is None else (float(s[0]), float(s[1])) for s in t.user_attrs.get("spread", [])]
        out.append(Point({k: float(v) for k, v in t.params.items()}, [float(v) for v in t.values],
                         list(t.user_attrs["probabilities"]), spec.runs, bool(t.user_attrs["feasible"]), spread,
                         t.number))
    return out


# --- the fresh checks, kept as they finish --------------------------------------------------------------


def _key(values: dict[str, float]) -> str:
    return json.dumps({k: values[k] for k in sorted(values)})


def _read_checks(folder: Path, spec: OptimizeSpec) -> dict[str, Check]:
    path = folder / CHECKS
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        if data.get("check_runs") != spec.check_runs:
            return {}  # another length of re-check: run again
        out = {}
        for key, d in data["checks"].items():
            spread = [None if s is None else (float(s[0]), float(s[1])) for s in d["spread"]]
            p = Point({k: float(v) for k, v in d["values"].items()}, [float(v) for v in d["objectives"]],
                      [float(v) for v in d["probabilities"]], int(d["runs"]), bool(d["feasible"]), spread,
                      int(d["trial"]))
            reach = [None if r is None else float(r) for r in d["reach"]]
            if len(p.objectives) != len(spec.objectives) or len(reach) != len(spec.objectives):
                raise ValueError("objectives")
            out[key] = Check(p, reach)
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RefugeError(f"{path}: damaged ({exc.__class__.__name__}: {exc}); delete it to check the front "
                          "again") from None


def _write_checks(folder: Path, spec: OptimizeSpec, checks: dict[str, Check]) -> None:
    data = {"check_runs": spec.check_runs, "checks": {
        key: {"values": c.point.values, "objectives": c.point.objectives, "probabilities": c.point.probabilities,
              "runs": c.point.runs, "feasible": c.point.feasible, "trial": c.point.trial,
              "spread": [None if s is None else list(s) for s in c.point.spread], "reach": c.reach}
        for key, c in checks.items()}}
    tmp = folder / (CHECKS + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(folder / CHECKS)
