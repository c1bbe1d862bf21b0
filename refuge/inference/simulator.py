"""What calibration and sensitivity analysis evaluate: uncertain parameters, one simulation per draw, the distance.

Uncertain parameters are those with a `prior`. ABC-SMC moves them on their prior's CDF
scale (every prior becomes uniform on [0, 1]). A draw is simulated once with its own seed
and scored by the root mean square of the facts' misses (`refuge.evidence.measures.miss`:
0 when a bound holds, else how far outside it falls, relative to the bound's scale).
A draw that makes the scenario invalid is rejected (distance infinite).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from refuge.errors import RefugeError
from refuge.model.compiler import Model, compile_scenario
from refuge.scenario import Prior, Scenario


@dataclass(frozen=True)
class Uncertain:
    """A parameter with a prior.

    ABC-SMC works on the internal coordinate u = F(x), F the prior's CDF: every
    parameter has a uniform prior on [0, 1], whatever its distribution and units
    (rates of 1e-7 next to stocks of 1e5), so one kernel width rule fits all and the
    prior density is the same at every proposal.
    """

    name: str
    prior: Prior
    default: float

    @property
    def log(self) -> bool:
        """Whether the prior is log-uniform (plots use a log axis)."""
        return self.prior.dist == "loguniform"

    def to_value(self, internal: float) -> float:
        """The parameter's value for an internal coordinate in [0, 1] (the prior's quantile)."""
        return float(self.ppf(internal))

    def to_internal(self, value: float) -> float:
        """The internal coordinate in [0, 1] of a parameter value (the prior's CDF)."""
        return float(self.dist().cdf(value))

    def ppf(self, u: Any) -> Any:
        """Quantiles of the prior: the unit interval onto the parameter's range."""
        p = self.prior
        u = np.clip(u, 1e-12, 1 - 1e-12)
        if p.dist == "uniform":
            return p.low + u * (p.high - p.low)
        if p.dist == "loguniform":
            return 10 ** (np.log10(p.low) + u * (np.log10(p.high) - np.log10(p.low)))
        return self.dist().ppf(u)

    def dist(self) -> Any:
        """The prior as a frozen scipy distribution, in the parameter's own units."""
        from scipy import stats

        p = self.prior
        if p.dist == "uniform":
            return stats.uniform(p.low, p.high - p.low)
        if p.dist == "loguniform":
            return stats.loguniform(p.low, p.high)
        if p.low is None and p.high is None:
            return stats.norm(p.mean, p.sd)
        lo = -np.inf if p.low is None else (p.low - p.mean) / p.sd
        hi = np.inf if p.high is None else (p.high - p.mean) / p.sd
        return stats.truncnorm(lo, hi, loc=p.mean, scale=p.sd)

    def rv(self) -> Any:
        """The prior of the internal coordinate, for pyabc: uniform on [0, 1] for every prior."""
        import pyabc

        return pyabc.RV("uniform", 0.0, 1.0)

    def describe(self) -> str:
        """The prior for people, e.g. `uniform(0.3, 0.9)`."""
        p = self.prior
        if p.dist in ("uniform", "loguniform"):
            return f"{p.dist}({p.low:g}, {p.high:g})"
        cut = "" if p.low is None and p.high is None else f" in [{_g(p.low)}, {_g(p.high)}]"
        return f"normal({p.mean:g}, sd {p.sd:g}){cut}"


def _g(x: float | None) -> str:
    return "-inf" if x is None else f"{x:g}"


def uncertain_parameters(scenario: Scenario, origin: str = "") -> list[Uncertain]:
    """The scenario's parameters that carry a prior, in declaration order."""
    out = [Uncertain(n, p.prior, p.value) for n, p in scenario.parameters.items() if p.prior is not None]
    if not out:
        raise RefugeError(f"{origin or scenario.name}: no parameter has a `prior` (parameters.<name>.prior); "
                          "calibration and sensitivity analysis need at least one uncertain parameter")
    return out


# --- one simulation for a parameter draw -----------------------------------------------------


_COMPILED: dict[str, Model] = {}


class Simulator:
    """Parameter values -> evidence values of one run. Picklable: shipped once to each worker.

    Every draw is compiled, so it is checked like a scenario file (a rule's `below` above
    its `above`, splits over 1, ...): compiling costs about a tenth of a flagship run, and
    patching the compiled table instead would let such draws through unchecked.
    """

    def __init__(self, scenario: Scenario, uncertain: list[Uncertain]):
        self.scenario = scenario
        self.uncertain = uncertain
        self.base = compile_scenario(scenario)
        self.facts = self.base.evidence

    def __getstate__(self) -> dict:
        # Ship the scenario, not its compiled arrays; a worker compiles the base once.
        return {"scenario": self.scenario, "uncertain": self.uncertain, "digest": self.base.digest}

    def __setstate__(self, state: dict) -> None:
        base = _COMPILED.get(state["digest"])
        if base is None:
            while len(_COMPILED) >= 4:
                _COMPILED.pop(next(iter(_COMPILED)))
            base = _COMPILED[state["digest"]] = compile_scenario(state["scenario"])
        self.scenario, self.uncertain, self.base = state["scenario"], state["uncertain"], base
        self.facts = base.evidence

    def model_for(self, values: dict[str, float]) -> Model:
        """The compiled model with these parameter values."""
        return compile_scenario(self.scenario.with_values(values)) if values else self.base

    def measure(self, values: dict[str, float], seed: int) -> np.ndarray:
        """The evidence measures of one run with these parameter values and seed."""
        return self.observe(values, seed)[0]

    def observe(self, values: dict[str, float], seed: int) -> tuple[np.ndarray, np.ndarray]:
        """One run's evidence values and its values at every series data point (see `series_points`)."""
        from refuge.evidence.measures import measure_all
        from refuge.results.simulate import simulate

        run = simulate(self.model_for(values), seed=seed)
        return measure_all(run), series_values(run)

    def __call__(self, internal: dict) -> dict:
        # pyabc's model: the seed comes from the global generator, which the sampler seeds per candidate.
        from refuge.errors import ScenarioError

        values = {u.name: u.to_value(internal[u.name]) for u in self.uncertain}
        seed = int(np.random.randint(0, 2**31 - 1))
        try:
            facts, points = self.observe(values, seed)
            return {"facts": facts, "series": points, "invalid": 0.0}
        except ScenarioError:  # e.g. a rule's `below` drawn above its `above`: outside the valid prior
            return {"facts": np.full(len(self.facts), np.nan),
                    "series": np.full(len(series_points(self.base)), np.nan), "invalid": 1.0}


def series_points(model: Model) -> list[dict]:
    """Every dated data point of the model's time-series evidence, as an `about` fact for the distance:
    id `SERIES@DATE`, the observed value, and the day it speaks of (for a flow, its period's last day)."""
    out = []
    for s in model.series:
        for k in s["obs"]:
            day = int(s["grid"][k])
            date = model.start + dt.timedelta(days=day)
            out.append({"id": f"{s['id']}@{date}", "series": s["id"], "day": day, "date": date,
                        "kind": "series", "bound": "about", "value": float(s["data"][k]), "tolerance": 0.0,
                        "low": None, "high": None, "required": False})
    return out


def series_values(run: Any) -> np.ndarray:
    """A run's values at the data points of `series_points`, in the same order."""
    from refuge.evidence.series import simulate_series

    vals = [simulate_series(run, s)[s["obs"]] for s in run.model.series]
    return np.concatenate(vals) if vals else np.zeros(0)


class BoundDistance:
    """Root mean square of the facts' misses; 0 when every bound holds. `exclude`: ids left out.

    Each data point of a time series (`points`, from `series_points`) is read as "about the observed value,
    within `tolerance`" (relative): its miss is how far the run's value falls outside that band, relative to
    the value. The squared distance is `(1 - series_weight)` x the mean squared miss of the facts plus
    `series_weight` x that of the series points (when both are there): a handful of yearly totals then
    counts as much as dozens of one-line facts. `weights` (one per fact) scale the facts' misses: with
    `weights_by_reach(model)`, a one-off count that even the best rate matches in a minority of runs
    pulls the parameters in proportion to that share (`refuge.evidence.scores`).
    """

    def __init__(self, facts: list[dict], exclude: tuple[str, ...] = (), points: list[dict] | None = None,
                 tolerance: float = 0.1, weights: list[float] | None = None, series_weight: float = 0.5):
        self.facts = facts
        self.use = [f["id"] not in exclude for f in facts]
        self.points = [p | {"tolerance": tolerance} for p in (points or [])]
        self.use_points = [p["id"] not in exclude and p["series"] not in exclude for p in self.points]
        self.weights = list(weights) if weights is not None else [1.0] * len(facts)
        self.series_weight = series_weight

    def __call__(self, x: dict, x_0: dict | None = None) -> float:
        from refuge.evidence.measures import miss

        if x.get("invalid"):
            return math.inf
        facts = [(w * miss(f, v)) ** 2 for f, v, u, w in zip(self.facts, x["facts"], self.use, self.weights) if u]
        points = [miss(p, v) ** 2 for p, v, u in zip(self.points, x.get("series", ()), self.use_points) if u]
        if facts and points:
            w = self.series_weight
            return float(np.sqrt((1 - w) * np.mean(facts) + w * np.mean(points)))
        both = facts + points
        return float(np.sqrt(np.mean(both))) if both else 0.0


def weights_by_reach(model: Model) -> list[float]:
    """Per fact, the best share of runs any rate could give its bound (1 but for two-sided bounds on counts)."""
    from refuge.evidence.scores import reference_share

    return [reference_share(model, f) for f in model.evidence]


def excluded_facts(facts: list[dict], patterns: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Fact ids matching the patterns (ids or shell-style wildcards); a pattern matching none is an error."""
    from fnmatch import fnmatchcase

    from refuge.errors import suggest

    ids = [f["id"] for f in facts]
    out = []
    for pat in patterns:
        hits = [i for i in ids if fnmatchcase(i, pat)]
        if not hits:
            raise RefugeError(f"--exclude: expected the id of an evidence entry (or a pattern like `japan-*`); "
                              f"found `{pat}`{suggest(pat, ids)}")
        out += [h for h in hits if h not in out]
    if len(out) == len(ids):
        raise RefugeError("--exclude: leaves no evidence to calibrate against")
    return tuple(out)


def fact_centres(facts: list[dict]) -> np.ndarray:
    """A representative observed value per fact (the bound's value, or a range's midpoint)."""
    return np.array([(f["low"] + f["high"]) / 2 if f["bound"] == "range" else f["value"] for f in facts], float)


# --- where simulations run -----------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _loads(blob: bytes):
    import cloudpickle

    return cloudpickle.loads(blob)


def _call_blob(blob: bytes, task):
    return _loads(blob)(task)


def run_tasks(fn: Callable, tasks: list, workers: int | None = 1, cluster: str | None = None) -> list:
    """`[fn(t) for t in tasks]` on the ensemble backends (`refuge.ensemble.map_runs`), in task order.

    `fn` may be a closure (pyabc's are): it travels as cloudpickle bytes, unpacked once per worker.
    """
    import cloudpickle

    from refuge.experiments.ensemble import map_runs

    if (workers or 0) == 1 and cluster is None:
        return [fn(t) for t in tasks]
    return map_runs(functools.partial(_call_blob, cloudpickle.dumps(fn)), tasks, workers=workers, cluster=cluster)
