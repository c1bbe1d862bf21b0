"""Global sensitivity analysis: which uncertain parameters drive an output (Morris or Sobol, via SALib).

Inputs are the parameters with a `prior`. SALib samples the unit hypercube and
each coordinate goes through its prior's quantile function, so an effect means
"moving the parameter across its prior", comparable between parameters in
different units. Every parameter point runs the same `replicates` seeds (common
random numbers: the differences between points are the parameters', not
chance's) and the output is their mean.

Outputs are named on the command line:

    peak:PLACE        highest daily number of people in a state or site
    mean:PLACE        mean daily number of people in a state or site
    end:PLACE         people there on the last day
    wait:PLACE        mean completed stay (days) of people who left a tracked state, or a site (from entering
                      it to leaving it, across its states: `refuge.results.site_time`)
    longest:PLACE     longest stay (days) of anyone there, over the whole period
    arrivals[:NAME]   people admitted per year (by all arrival streams, or one)
    flow:TRANSITION   people moved per year along a transition (or `transition->target`)
    evidence:ID       the measure of an evidence entry (also just ID)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError, suggest
from refuge.model.compiler import Model
from refuge.scenario import Scenario

KINDS = ("peak", "mean", "end", "wait", "longest", "arrivals", "flow", "evidence")
METHODS = ("morris", "sobol")


# --- outputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One scalar outcome of a run."""

    text: str
    kind: str
    name: str = ""

    def value(self, run: Any) -> float:
        """This output's value in one run."""
        m = run.model
        if self.kind in ("peak", "mean", "end"):
            series = run.stock_of([self.name])
            return float({"peak": series.max, "mean": series.mean, "end": lambda: series[-1]}[self.kind]())
        if self.kind == "wait" and len(m.states_of([self.name])) > 1:  # a site: days from entering it to leaving
            from refuge.results.site_time import mean_completed

            return mean_completed(run, np.isin(np.arange(len(m.state_names)), m.states_of([self.name])), 0, run.days)
        if self.kind == "wait":
            _, length, people = run.completed_stays([self.name])
            return float((length * people).sum() / people.sum()) if people.sum() > 0 else math.nan
        if self.kind == "longest":
            states = m.states_of([self.name])
            return float(run.max_stay[:, states].max()) if states else math.nan
        per_year = 365.25 / run.days
        if self.kind == "arrivals":
            cols = [m.arrival_names.index(self.name)] if self.name else list(range(len(m.arrival_names)))
            return float(run.arrived[:, cols].sum()) * per_year
        if self.kind == "flow":
            return float(run.flow_of([self.name]).sum()) * per_year
        from refuge.evidence.measures import measure

        return measure(run, next(f for f in m.evidence if f["id"] == self.name))


def parse_output(text: str, model: Any) -> Output:
    """`kind:name` -> Output, checked against the model; a RefugeError naming --output otherwise."""
    kind, _, name = text.partition(":")
    evidence = [f["id"] for f in model.evidence]
    if kind not in KINDS and not name and text in evidence:
        kind, name = "evidence", text
    if kind not in KINDS:
        raise RefugeError(f"--output: expected KIND:NAME with KIND one of {', '.join(KINDS)} (or an evidence id); "
                          f"found {text!r}{suggest(kind, KINDS + tuple(evidence))}")
    places = model.state_names + model.site_names
    options = {"arrivals": model.arrival_names, "flow": model.transition_names + model.edge_names,
               "evidence": evidence}.get(kind, places)
    if kind == "arrivals" and not name:
        return Output(text, kind)
    if name not in options:
        raise RefugeError(f"--output {text}: expected {kind}:NAME with NAME one of "
                          f"{', '.join(options) or '(none in this scenario)'}; found {name!r}{suggest(name, options)}")
    if kind in ("wait", "longest") and not any(model.tracked[s] for s in model.states_of([name])):
        raise RefugeError(f"--output {text}: `{name}` records no stays (no duration-based exit and no "
                          "`track_stays: true`); try peak:, mean: or end:")
    return Output(text, kind, name)


# --- running the design ----------------------------------------------------------------------------


class _Evaluator:
    """Parameter point -> mean of each output over the replicate seeds (picklable, sent once per chunk)."""

    def __init__(self, sim, outputs: list[Output], seeds: list[int]):
        self.sim, self.outputs, self.seeds = sim, outputs, seeds

    def __call__(self, values: dict[str, float]) -> list[float] | str:
        from refuge.errors import ScenarioError
        from refuge.results.simulate import simulate

        try:
            model = self.sim.model_for(values)
        except ScenarioError as exc:
            return str(exc)  # an invalid combination of prior values: reported by `analyse`
        rows = []
        for s in self.seeds:
            run = simulate(model, seed=s)
            rows.append([o.value(run) for o in self.outputs])
        with np.errstate(all="ignore"):
            return np.nanmean(np.array(rows, float), axis=0).tolist() if rows else []


@dataclass
class Sensitivity:
    """Indices per output and parameter, the design that produced them, and what was run."""

    method: str
    outputs: list[Output]
    parameters: list[str]
    table: Any  # DataFrame: output, parameter, rank, importance, importance_conf, method-specific indices
    samples: Any  # DataFrame: one row per parameter point: parameter values, then outputs
    runs: int
    meta: dict = field(default_factory=dict)

    def ranking(self, output: str) -> list[str]:
        """Parameters from most to least influential on one output."""
        t = self.table[self.table.output == output].sort_values("rank")
        return t.parameter.tolist()


def analyse(scenario: Scenario | Model | str | Path, outputs: list[str], method: str = "morris",
            samples: int | None = None,
            replicates: int = 4, seed: int = 0, workers: int | None = 1, cluster: str | None = None,
            progress: bool = False) -> Sensitivity:
    """Rank the uncertain parameters by their effect on each output.

    `samples`: Morris trajectories (default 20) or the Sobol base sample (a power of 2, default 256;
    the design is samples × (parameters + 2) points). Each point runs `replicates` seeds. `scenario`: a
    Scenario, a compiled Model, a path or a built-in name.
    """
    from refuge.experiments.ensemble import map_runs, resolve_scenario
    from refuge.inference.simulator import Simulator, uncertain_parameters

    scenario = resolve_scenario(scenario)[0]

    if method not in METHODS:
        raise RefugeError(f"--method: expected one of {', '.join(METHODS)}; found {method!r}")
    if replicates < 1:
        raise RefugeError(f"--replicates: expected a whole number >= 1; found {replicates}")
    uncertain = uncertain_parameters(scenario)
    if len(uncertain) < 2 and method == "sobol":
        raise RefugeError(f"{scenario.name}: Sobol indices need at least two parameters with a prior")
    sim = Simulator(scenario, uncertain)
    outs = [parse_output(t, sim.base) for t in outputs]
    if not outs:
        raise RefugeError("--output: name at least one output, e.g. peak:PLACE or arrivals")
    d = len(uncertain)
    problem = {"num_vars": d, "names": [u.name for u in uncertain], "bounds": [[0.0, 1.0]] * d}
    unit = _design(problem, method, samples, seed)
    points = [{u.name: float(u.ppf(x[k])) for k, u in enumerate(uncertain)} for x in unit]
    evaluator = _Evaluator(sim, outs, [seed + j for j in range(replicates)])
    label = f"{scenario.name}: {len(points)} points × {replicates} runs" if progress else False
    results = map_runs(functools.partial(_evaluate, evaluator), points, workers=workers, cluster=cluster,
                       progress=label)
    _check_valid(results, points, scenario.name)
    y = np.array(results, float).reshape(len(points), len(outs))
    table = _indices(problem, method, unit, y, outs, seed)
    runs = len(points) * replicates
    meta = {"scenario": scenario.name, "scenario_digest": sim.base.digest, "method": method,
            "samples": _samples(method, samples), "replicates": replicates, "seed": seed,
            "outputs": [o.text for o in outs], "parameters": problem["names"],
            "priors": {u.name: u.describe() for u in uncertain}, "runs": runs}
    return Sensitivity(method, outs, problem["names"], table, _design_frame(points, outs, y), runs, meta)


def _design_frame(points: list[dict], outs: list[Output], y: np.ndarray):
    """One row per parameter point: its parameter values, then each output (mean over the replicates)."""
    import pandas as pd

    design = pd.DataFrame(points)
    for k, o in enumerate(outs):
        design[o.text] = y[:, k]
    return design


def _evaluate(evaluator: _Evaluator, values: dict[str, float]) -> list[float] | str:
    return evaluator(values)


def _check_valid(results: list, points: list[dict], name: str) -> None:
    """Morris and Sobol need every point of their design: an invalid one stops the analysis."""
    bad = [r for r in results if isinstance(r, str)]
    if bad:
        raise RefugeError(f"{name}: {len(bad)} of {len(points)} points of the design make the scenario invalid; "
                          f"the first:\n{bad[0]}\nSensitivity designs need every combination of prior values to "
                          "be valid: narrow the priors so that they cannot conflict")


def _samples(method: str, samples: int | None) -> int:
    if samples is None:
        return 20 if method == "morris" else 256
    if samples < 2:
        raise RefugeError(f"--samples: expected a whole number >= 2; found {samples}")
    if method == "sobol":
        return 2 ** math.ceil(math.log2(samples))  # Sobol sequences keep their balance at powers of 2
    return int(samples)


def _design(problem: dict, method: str, samples: int | None, seed: int) -> np.ndarray:
    n = _samples(method, samples)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=4, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def _indices(problem: dict, method: str, unit: np.ndarray, y: np.ndarray, outs: list[Output], seed: int):
    """One row per (output, parameter): the method's indices, a common `importance` and its rank."""
    import pandas as pd

    frames = []
    for k, o in enumerate(outs):
        col = y[:, k]
        if not np.all(np.isfinite(col)):
            raise RefugeError(f"--output {o.text}: undefined in {int((~np.isfinite(col)).sum())} of {len(col)} "
                              "parameter points (e.g. a wait where nobody left); choose another output")
        if method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(problem, unit, col, num_levels=4, seed=seed)
            df = pd.DataFrame({"mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"], "mu": res["mu"],
                               "sigma": res["sigma"]})
            df["importance"], df["importance_conf"] = df.mu_star, df.mu_star_conf
        else:
            from SALib.analyze import sobol

            res = sobol.analyze(problem, col, calc_second_order=False, seed=seed)
            df = pd.DataFrame({"S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]})
            df["importance"], df["importance_conf"] = df.ST, df.ST_conf
        df.insert(0, "parameter", problem["names"])
        df.insert(0, "output", o.text)
        df["rank"] = df.importance.rank(ascending=False, method="first").astype(int)
        frames.append(df.sort_values("rank"))
    return pd.concat(frames, ignore_index=True)


# --- files and plots -------------------------------------------------------------------------------


def write_outputs(result: Sensitivity, out: str | Path) -> list[Path]:
    """sensitivity.csv (indices), sensitivity_samples.csv (the design), sensitivity.png, sensitivity.json."""
    import json

    from refuge.results.files import atomic_write, write_frame

    out = Path(out)
    files = [write_frame(result.table, out / "sensitivity.csv"),
             write_frame(result.samples, out / "sensitivity_samples.csv"),
             plot(result, out / "sensitivity.png")]
    meta_path = out / "sensitivity.json"
    atomic_write(meta_path, lambda p: p.write_text(json.dumps(result.meta, indent=2), encoding="utf-8"))
    return files + [meta_path]


def plot(result: Sensitivity, path: str | Path) -> Path:
    """One panel per output: parameters by importance (Morris μ* or Sobol total index), with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from refuge.results.files import save_figure

    k = len(result.outputs)
    cols = min(k, 2)
    rows = math.ceil(k / cols)
    height = 0.9 + 0.35 * len(result.parameters)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, height * rows), squeeze=False)
    xlabel = "Morris μ* (mean |effect| across the prior)" if result.method == "morris" else "Sobol total index"
    for ax, o in zip(axes.flat, result.outputs):
        t = result.table[result.table.output == o.text].sort_values("rank", ascending=False)
        ax.barh(t.parameter, t.importance, xerr=t.importance_conf, color="#4477aa", alpha=0.85,
                error_kw={"lw": 1, "capsize": 2})
        ax.set_title(o.text, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_xlim(left=0)
    for ax in list(axes.flat)[k:]:
        ax.set_visible(False)
    return save_figure(fig, path)
