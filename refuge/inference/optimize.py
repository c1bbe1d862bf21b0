"""Policy search (`refuge optimize`): the best values of a scenario's levers under constraints with a probability.

Each candidate (one value per lever, proposed by Optuna's TPE sampler, seeded) is run on the same `runs`
seeds (common random numbers, see `optimize_eval`). A constraint's probability is the share of those runs in
which its bound holds; a candidate is feasible when every constraint reaches its probability (Optuna sees
`required - achieved`, feasible at or below 0). With one lever and an objective that moves one way with it
(`cost`, or the lever itself), the search ends with a bisection between the best feasible value and the
nearest infeasible one, down to the lever's `step` (it assumes the probability moves one way with the lever;
the bisection's candidates are recorded as trials like the others). The answer is then run again on
`check_runs` fresh seeds the search never used, and its probabilities are given with 90% Wilson intervals.
Before that, a feasible answer is confirmed on `check_runs` seeds of its own, backing off to the safe side if it
fails there (`refuge.inference.optimize_confirm`: the best of many candidates on few runs is flattered by luck).

Resumable: trials are written to Optuna's journal file (`DIR/study.journal`, plain JSON lines, never pickle)
as they finish; the same command on the same DIR continues the search (finished trials are not run again).
Outputs in DIR: `trials.csv`, `result.json`, `optimize.png` and the spec (`spec.json`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cmp_to_key
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.inference.optimize_confirm import _monotone, _snap, _wants_small, confirm
from refuge.inference.optimize_eval import (
    FRESH_OFFSET,
    Evaluator,
    apply_levers,
    check_measures,
    check_spec,
    wilson,
)
from refuge.inference.optimize_journal import STUDY, _atomic, _journal, _step
from refuge.inference.optimize_spec import Measure, OptimizeSpec


@dataclass
class Candidate:
    """One evaluated policy: lever values, the objective, and each constraint's share of runs holding."""

    values: dict[str, float]
    objective: float
    probabilities: list[float]
    runs: int
    feasible: bool
    trial: int = -1

    def intervals(self) -> list[tuple[float, float]]:
        """90% Wilson interval of each constraint's probability."""
        return [wilson(round(p * self.runs), self.runs) for p in self.probabilities]


@dataclass
class OptimizeResult:
    """The search's answer: the best candidate, its re-check on fresh seeds, and every trial."""

    spec: OptimizeSpec
    scenario: str
    best: Candidate | None
    recheck: Candidate | None
    trials: list[Candidate] = field(default_factory=list)
    out: Path | None = None
    confirmations: int = 0  # candidates run on the confirmation seeds (`check_runs` runs each)

    def to_dict(self) -> dict:
        """The answer as plain data (what `result.json` holds)."""
        def cand(c: Candidate | None) -> dict | None:
            if c is None:
                return None
            return {"values": c.values, "objective": c.objective, "runs": c.runs, "feasible": c.feasible,
                    "trial": c.trial, "constraints": [
                        {"constraint": k.label(), "probability": p, "interval90": list(iv)}
                        for k, p, iv in zip(self.spec.constraints, c.probabilities, c.intervals())]}
        held = None
        if self.best is not None and self.recheck is not None:
            held = all(self.recheck.probabilities[i] >= lo - 1e-12 and self.recheck.probabilities[i] <= hi + 1e-12
                       for i, (lo, hi) in enumerate(self.best.intervals()))
        return {"scenario": self.scenario, "objective": self.spec.objective.label(), "trials": len(self.trials),
                "runs_per_trial": self.spec.runs, "confirmations": self.confirmations, "best": cand(self.best),
                "recheck": cand(self.recheck),
                "recheck_inside_search_interval": held,
                "recheck_feasible": None if self.recheck is None else self.recheck.feasible}


class _Search:
    """The pieces a search needs: spec, base scenario, evaluator, and what each measure's column is."""

    def __init__(self, spec: OptimizeSpec, base: Any, evaluator: Evaluator):
        self.spec, self.base, self.ev = spec, base, evaluator
        self.confirmations = 0
        t = spec.objective.target
        self.obj_col = len(spec.constraints) if isinstance(t, Measure) else None

    def objective_of(self, values: dict[str, float], cols: np.ndarray | None) -> float:
        t = self.spec.objective.target
        if t == "cost":
            return float(sum(lv.cost * values[lv.name] for lv in self.spec.levers))
        if isinstance(t, str):
            return float(values[t])
        return self.spec.objective.of_runs(cols[:, self.obj_col])

    def evaluate(self, values: dict[str, float], first_seed: int, runs: int) -> Candidate:
        sc = apply_levers(self.base, self.spec.levers, values)
        x = self.ev.values(sc, first_seed, runs)
        probs = [float(np.mean(k.holds(x[:, i]))) for i, k in enumerate(self.spec.constraints)]
        ok = all(p >= k.probability - 1e-12 for p, k in zip(probs, self.spec.constraints))
        return Candidate(dict(values), self.objective_of(values, x), probs, runs, ok)

    def better(self, a: Candidate, b: Candidate | None) -> bool:
        if b is None:
            return True
        if a.feasible != b.feasible:
            return a.feasible
        if not a.feasible:  # closest to feasible: the smallest worst shortfall
            return _shortfall(self.spec, a) < _shortfall(self.spec, b)
        sign = 1 if self.spec.objective.direction == "minimize" else -1
        return sign * a.objective < sign * b.objective


def _shortfall(spec: OptimizeSpec, c: Candidate) -> float:
    return max([k.probability - p for k, p in zip(spec.constraints, c.probabilities)] or [0.0])


def optimize(scenario: Any, spec: OptimizeSpec, out: str | Path | None = None, *, workers: int | None = 1,
             cluster: Any = None, progress: Any = None) -> Any:
    """Search the spec's levers on `scenario` (a name, path, Scenario or Model); see the module docstring. An
    `OptimizeResult`, or with the spec's `objectives` a `FrontResult` (`refuge.inference.optimize_front`)."""
    from refuge.results.simulate import as_model

    model = as_model(scenario)
    base = check_spec(model.scenario, spec)
    from refuge.model.compiler import compile_scenario

    measures = spec.measures
    check_measures(compile_scenario(base, model.origin), measures)
    evaluator = Evaluator(model.origin, measures, list(spec.drivers), workers=workers, cluster=cluster)
    folder = Path(out) if out is not None else None
    if spec.objectives is not None:  # a Pareto front
        from refuge.inference.optimize_front import FrontSearch, search_front
        from refuge.inference.optimize_front_out import write as write_front

        front = search_front(spec, model, FrontSearch(spec, base, evaluator), folder, progress)
        if folder is not None:
            write_front(front)
        return front
    search = _Search(spec, base, evaluator)
    study = _study(spec, model, folder)
    _run_trials(study, search, progress)
    if len(spec.levers) == 1 and _monotone(spec):
        _bisect(study, search, progress)
    trials = _candidates(study, spec)
    best = None
    for c in trials:
        if search.better(c, best):
            best = c
    recheck = None
    if best is not None and best.feasible:  # confirmed on seeds of its own: no winner's curse
        order = cmp_to_key(lambda a, b: -1 if search.better(a, b) else 1)
        ranked = sorted((c for c in trials if c.feasible), key=order)
        best = confirm(search, best, ranked, progress)
    if best is not None:
        recheck = search.evaluate(best.values, spec.seed + FRESH_OFFSET, spec.check_runs)
        recheck.trial = best.trial
    result = OptimizeResult(spec, model.scenario.name, best, recheck, trials, folder, search.confirmations)
    if folder is not None:
        write(result)
    return result


# --- Optuna ---------------------------------------------------------------------------------------------


def _study(spec: OptimizeSpec, model: Any, folder: Path | None):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _journal(spec, model, folder)
    sampler = optuna.samplers.TPESampler(seed=spec.seed, n_startup_trials=min(10, max(3, spec.trials // 4)))
    return optuna.create_study(study_name=STUDY, storage=storage, sampler=sampler, load_if_exists=True,
                               direction=spec.objective.direction)


def _distribution(lv):
    from optuna.distributions import FloatDistribution

    return FloatDistribution(lv.low, lv.high, log=lv.log, step=_step(lv))


def _shortfalls(spec: OptimizeSpec, c: Candidate) -> dict[str, float]:
    """Optuna's constraint values: required minus achieved probability (feasible at or below 0)."""
    return {f"c{i}": k.probability - p for i, (k, p) in enumerate(zip(spec.constraints, c.probabilities))}


def _record(study, search: _Search, trial, c: Candidate) -> None:
    trial.set_user_attr("probabilities", c.probabilities)
    trial.set_user_attr("feasible", c.feasible)
    for key, v in _shortfalls(search.spec, c).items():
        trial.set_constraint(key, v)


def _run_trials(study, search: _Search, progress: Any) -> None:
    import optuna

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE and not t.user_attrs.get("refine")]
    todo = search.spec.trials - len(done)

    def objective(trial) -> float:
        values = {lv.name: trial.suggest_float(lv.name, lv.low, lv.high, step=_step(lv), log=lv.log)
                  for lv in search.spec.levers}
        c = search.evaluate(values, search.spec.seed, search.spec.runs)
        _record(study, search, trial, c)
        if progress is not None:
            progress(trial.number, values, c)
        return c.objective

    if todo > 0:
        study.optimize(objective, n_trials=todo)


def _bisect(study, search: _Search, progress: Any) -> None:
    """One lever: close in on the boundary between feasible and infeasible values on the search's seeds."""
    import optuna

    lv = search.spec.levers[0]
    small = _wants_small(search.spec)
    tol = lv.step if lv.step else (lv.high - lv.low) / 1000
    for _ in range(40):
        seen = _candidates(study, search.spec)
        feas = [c.values[lv.name] for c in seen if c.feasible]
        if not feas:
            return
        edge = min(feas) if small else max(feas)
        infeas = [c.values[lv.name] for c in seen if not c.feasible and (c.values[lv.name] < edge if small
                                                                          else c.values[lv.name] > edge)]
        other = (max(infeas) if infeas else lv.low) if small else (min(infeas) if infeas else lv.high)
        if abs(edge - other) <= tol * (1 + 1e-9):
            return
        tried = {c.values[lv.name] for c in seen}
        mid = _snap(lv, (edge + other) / 2) if infeas else other
        if mid in tried:
            mid = _snap(lv, other + (tol if small else -tol)) if infeas else None
            if mid is None or mid in tried:
                return
        c = search.evaluate({lv.name: mid}, search.spec.seed, search.spec.runs)
        trial = optuna.trial.create_trial(
            params={lv.name: mid}, distributions={lv.name: _distribution(lv)}, value=c.objective,
            user_attrs={"probabilities": c.probabilities, "feasible": c.feasible, "refine": True},
            system_attrs={f"constraints:{k}": v for k, v in _shortfalls(search.spec, c).items()})
        study.add_trial(trial)
        if progress is not None:
            progress(len(seen), {lv.name: mid}, c)


def _candidates(study, spec: OptimizeSpec) -> list[Candidate]:
    import optuna

    out = []
    for t in study.trials:
        if t.state != optuna.trial.TrialState.COMPLETE or "probabilities" not in t.user_attrs:
            continue
        out.append(Candidate({k: float(v) for k, v in t.params.items()}, float(t.value),
                             list(t.user_attrs["probabilities"]), spec.runs, bool(t.user_attrs["feasible"]),
                             t.number))
    return out


# --- outputs --------------------------------------------------------------------------------------------


def trials_frame(result: OptimizeResult) -> Any:
    """One row per trial: lever values, objective, each constraint's probability, feasible."""
    import pandas as pd

    rows = []
    for c in result.trials:
        row = {"trial": c.trial, **c.values, "objective": c.objective, "feasible": c.feasible}
        for i, p in enumerate(c.probabilities):
            row[f"p{i + 1}"] = p
        rows.append(row)
    return pd.DataFrame(rows)


def write(result: OptimizeResult) -> None:
    """trials.csv, result.json and optimize.png in the result's folder (each written atomically)."""
    folder = result.out
    df = trials_frame(result)
    _atomic(folder / "trials.csv", df.to_csv(index=False))
    _atomic(folder / "result.json", json.dumps(result.to_dict(), indent=1))
    plot(result, folder / "optimize.png")


def plot(result: OptimizeResult, path: Path) -> Path:
    """Each trial's lever value (one lever) or objective (several) against its worst constraint probability."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = result.spec
    fig, ax = plt.subplots(figsize=(7, 4.2))
    one = len(spec.levers) == 1
    xs = [c.values[spec.levers[0].name] if one else c.objective for c in result.trials]
    ps = [min(c.probabilities) if c.probabilities else 1.0 for c in result.trials]
    colours = ["tab:green" if c.feasible else "tab:red" for c in result.trials]
    ax.scatter(xs, ps, c=colours, s=18, label="trials (green: feasible)")
    if spec.constraints:
        need = max(k.probability for k in spec.constraints)
        ax.axhline(need, color="grey", ls="--", lw=1, label=f"required probability {need:g}")
    if result.best is not None:
        bx = result.best.values[spec.levers[0].name] if one else result.best.objective
        ax.scatter([bx], [min(result.best.probabilities or [1.0])], marker="*", s=160, color="k", label="chosen")
        if result.recheck is not None and result.recheck.probabilities:
            i = int(np.argmin(result.recheck.probabilities))  # the worst constraint, with its own interval
            p, (lo, hi) = result.recheck.probabilities[i], result.recheck.intervals()[i]
            ax.errorbar([bx], [p], yerr=[[max(p - lo, 0.0)], [max(hi - p, 0.0)]], fmt="o", color="tab:blue", capsize=4,
                        label=f"re-check, {result.recheck.runs} fresh seeds (90%)")
    ax.set_xlabel(spec.levers[0].name if one else "objective")
    ax.set_ylabel("probability the constraints hold (worst)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(f"{result.scenario}: {spec.objective.label()}", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    from refuge.results.files import save_figure

    return save_figure(fig, path)


def summary_lines(result: OptimizeResult) -> list[str]:
    """What the command prints: the chosen policy, each constraint's probability, the re-check."""
    spec = result.spec
    lines = [f"{result.scenario}: {spec.objective.label()}; {len(result.trials)} trials of {spec.runs} runs each "
             "(common random numbers)"]
    if result.best is None:
        return lines + ["no candidate was evaluated"]
    b, r = result.best, result.recheck
    state = "feasible" if b.feasible else "NOT feasible: no candidate met every constraint; the closest"
    vals = ", ".join(f"{k} = {v:g}" for k, v in b.values.items())
    lines.append(f"chosen ({state}): {vals}; objective {b.objective:g}")
    for i, k in enumerate(spec.constraints):
        lo, hi = b.intervals()[i]
        line = f"  {k.label()}: {b.probabilities[i]:.2f} [{lo:.2f}, {hi:.2f}] in the search ({b.runs} runs)"
        if r is not None:
            rlo, rhi = r.intervals()[i]
            line += f"; {r.probabilities[i]:.2f} [{rlo:.2f}, {rhi:.2f}] on {r.runs} fresh seeds"
        lines.append(line)
    if r is not None and not math.isnan(r.objective):
        lines.append(f"  objective on the fresh seeds: {r.objective:g}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m refuge.inference.optimize [SCENARIO] --spec FILE [--out DIR] ...` (see the README)."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m refuge.inference.optimize", description="Policy search: the best "
                                 "levers under constraints with a probability (Optuna, common random numbers).")
    ap.add_argument("scenario", nargs="?", help="scenario YAML file or built-in name (default: the spec's)")
    ap.add_argument("--spec", required=True, help="the search: levers, objective, constraints (YAML)")
    ap.add_argument("--out", default="optimize", help="folder for the trials; the same command again continues")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--runs", type=int)
    ap.add_argument("--check-runs", type=int, dest="check_runs")
    ap.add_argument("--until", help="run to this date (YYYY-MM-DD)")
    ap.add_argument("--workers", type=int, default=None, help="local processes (default: one per core)")
    ap.add_argument("--cluster", default=None, help="a Dask scheduler address")
    ap.add_argument("--format", choices=("table", "json", "csv"), default="table")
    args = ap.parse_args(argv)
    try:
        return run_command(args)
    except RefugeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: finished trials are kept in {args.out}; the same command continues the search",
              file=sys.stderr)
        return 130


def run_command(args: Any) -> int:
    """Read the spec, apply the command's overrides, search, print (what `refuge optimize` runs)."""
    from refuge.inference.optimize_spec import parse_spec, read_spec

    spec = read_spec(args.spec)
    over = {k: getattr(args, k) for k in ("trials", "runs", "check_runs", "until") if getattr(args, k) is not None}
    if over:
        spec = parse_spec({**spec.model_dump(by_alias=True, exclude_none=True), **over}, str(args.spec))
    name = args.scenario or spec.scenario
    if name is None:
        raise RefugeError(f"{args.spec}: no scenario: give one as the first argument or as `scenario:` in the spec")

    def show(n: int, values: dict, c: Any) -> None:
        vals = ", ".join(f"{k} = {v:g}" for k, v in values.items())
        probs = ", ".join(f"{p:.2f}" for p in c.probabilities)
        obj = getattr(c, "objective", None)
        obj = f"{obj:g}" if obj is not None else ", ".join(f"{v:g}" for v in c.objectives)
        stage = "fresh check" if getattr(c, "objective", None) is None else "confirmation"
        print(f"{f'trial {n + 1}' if n >= 0 else f'{stage} ({c.runs} runs)'}: {vals}; objective "
              f"{obj}{'; probability ' + probs if probs else ''}{'' if c.feasible else ' (infeasible)'}", flush=True)

    result = optimize(name, spec, args.out, workers=args.workers, cluster=args.cluster,
                      progress=show if args.format == "table" else None)
    front = spec.objectives is not None
    if front:
        from refuge.inference import optimize_front_out as out
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=1))
    elif args.format == "csv":
        print((out.front_frame(result) if front else trials_frame(result)).to_csv(index=False), end="")
    elif front:
        print("\n".join(out.summary_lines(result)))
        print(f"trials, front, result and figure in {args.out}/ (trials.csv, front.csv, result.json, front.png)")
    else:
        print("\n".join(summary_lines(result)))
        print(f"trials, result and figure in {args.out}/ (trials.csv, result.json, optimize.png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
