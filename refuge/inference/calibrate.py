"""Calibration: infer a scenario's uncertain parameters from its evidence (ABC-SMC, via pyabc).

The data are the evidence bounds. A parameter draw is simulated once with its own
seed and scored by the root mean square of the facts' misses
(`refuge.evidence.miss`: 0 when a bound holds, else how far outside it falls,
relative to the bound's scale). ABC-SMC lowers the acceptance threshold from
generation to generation; at threshold 0 a draw is accepted exactly when its run
satisfies every bound, so the posterior is prior × P(every bound holds | parameters).

Uncertain parameters are those with a `prior`. ABC-SMC moves them on their prior's
CDF scale (every prior becomes uniform on [0, 1]) with a box kernel folded at the
cube's faces, which keeps the importance weights even with tens of parameters
(see `_transition_class`). A draw that makes the scenario invalid is rejected.

Reproducible and resumable. Candidate `i` of generation `t` is simulated with
a seed derived from (seed, t, i), and a generation keeps the first N accepted
candidates in index order, so the posterior is the same whatever the number of
workers or the backend. Each finished generation is committed to pyabc's
SQLite history; candidates of an unfinished generation are appended to
`pending/` as they finish. Calling `calibrate` again on the same experiment
directory continues where it stopped and reuses those simulations.

Experiment directory: calibration.db (pyabc history), pending/, calibration.json
(scenario digest, refuge version, settings, generations, diagnosis), posterior.parquet
(particles with weights), posterior_summary.csv, posterior_predictive.csv,
marginals.png, and predictive/ — an ensemble store of runs drawn from the
posterior, which `refuge report` turns into the HTML report.
"""

from __future__ import annotations

import functools
import json
import math
import os
import pickle
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from refuge.errors import RefugeError
from refuge.model.compiler import Model, compile_scenario
from refuge.scenario import Prior, Scenario

DB_NAME = "calibration.db"
META_NAME = "calibration.json"
POSTERIOR_NAME = "posterior.parquet"
SUMMARY_NAME = "posterior_summary.csv"
PREDICTIVE_NAME = "posterior_predictive.csv"
MARGINALS_NAME = "marginals.png"
PREDICTIVE_DIR = "predictive"
LEVEL = 0.90
# The threshold of generation 0: every draw whose scenario is valid is accepted (distance finite),
# a draw that makes the scenario invalid (distance infinite) is not.
PRIOR_THRESHOLD = float(np.finfo(float).max)


# --- uncertain parameters -------------------------------------------------------------------


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
        return self.prior.dist == "loguniform"

    def to_value(self, internal: float) -> float:
        return float(self.ppf(internal))

    def to_internal(self, value: float) -> float:
        return float(self.dist().cdf(value))

    def ppf(self, u):
        """Quantiles of the prior: the unit interval onto the parameter's range."""
        p = self.prior
        u = np.clip(u, 1e-12, 1 - 1e-12)
        if p.dist == "uniform":
            return p.low + u * (p.high - p.low)
        if p.dist == "loguniform":
            return 10 ** (np.log10(p.low) + u * (np.log10(p.high) - np.log10(p.low)))
        return self.dist().ppf(u)

    def dist(self):
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

    def rv(self):
        """The prior of the internal coordinate, for pyabc: uniform on [0, 1] for every prior."""
        import pyabc

        return pyabc.RV("uniform", 0.0, 1.0)

    def describe(self) -> str:
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
        return compile_scenario(self.scenario.with_values(values)) if values else self.base

    def measure(self, values: dict[str, float], seed: int) -> np.ndarray:
        from refuge.api import simulate
        from refuge.evidence.measures import measure_all

        return measure_all(simulate(self.model_for(values), seed=seed))

    def __call__(self, internal: dict) -> dict:
        # pyabc's model: the seed comes from the global generator, which the sampler seeds per candidate.
        from refuge.errors import ScenarioError

        values = {u.name: u.to_value(internal[u.name]) for u in self.uncertain}
        seed = int(np.random.randint(0, 2**31 - 1))
        try:
            return {"facts": self.measure(values, seed), "invalid": 0.0}
        except ScenarioError:  # e.g. a rule's `below` drawn above its `above`: outside the valid prior
            return {"facts": np.full(len(self.facts), np.nan), "invalid": 1.0}


class BoundDistance:
    """Root mean square of the facts' misses; 0 when every bound holds. `exclude`: ids left out."""

    def __init__(self, facts: list[dict], exclude: tuple[str, ...] = ()):
        self.facts = facts
        self.use = [f["id"] not in exclude for f in facts]

    def __call__(self, x: dict, x_0: dict | None = None) -> float:
        from refuge.evidence.measures import miss

        if x.get("invalid"):
            return math.inf
        misses = [miss(f, v) ** 2 for f, v, u in zip(self.facts, x["facts"], self.use) if u]
        return float(np.sqrt(np.mean(misses))) if misses else 0.0


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


# --- the sampler: ordered acceptance, seeded candidates, pending store ---------------------------


def candidate_seed(seed: int, t: int, i: int) -> int:
    return int(np.random.SeedSequence([int(seed), t + 2, int(i)]).generate_state(1)[0])


class _SeededCandidates:
    """Runs pyabc's `simulate_one` for one candidate index, under that candidate's own seed."""

    def __init__(self, simulate_one, seed: int, t: int):
        self.simulate_one, self.seed, self.t = simulate_one, seed, t

    def __call__(self, i: int):
        s = candidate_seed(self.seed, self.t, i)
        with _LOCK:  # the global generators are per process; threads of one worker take turns
            np.random.seed(s)
            random.seed(s)
            return self.simulate_one()


_LOCK = threading.Lock()


class Pending:
    """Candidates already simulated in the generation under way, appended to a file as they finish."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, t: int) -> Path:
        return self.folder / f"generation-{t}.pkl"

    def load(self, t: int, key: tuple) -> dict[int, Any]:
        """Candidates of generation `t` simulated under the same key; drop any other generation's leftovers."""
        if self.folder.exists():
            for p in self.folder.glob("generation-*.pkl"):
                if p != self.path(t):
                    p.unlink()
        found: dict[int, Any] = {}
        p = self.path(t)
        if not p.exists():
            return found
        with p.open("rb") as fh:
            try:
                if pickle.load(fh) != key:
                    raise EOFError
                while True:
                    found.update(pickle.load(fh))
            except (EOFError, pickle.UnpicklingError, AttributeError, ValueError):
                pass  # a record cut short by an interruption ends the usable part
        if not found:
            p.unlink(missing_ok=True)
        return found

    def append(self, t: int, key: tuple, particles: dict[int, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        p = self.path(t)
        new = not p.exists()
        with p.open("ab") as fh:
            if new:
                pickle.dump(key, fh)
            pickle.dump(particles, fh)
            fh.flush()
            os.fsync(fh.fileno())


@functools.cache
def _sampler_class():
    from pyabc.sampler import Sampler

    class OrderedSampler(Sampler):
        """Batches of seeded candidates; keeps the first n accepted in index order.

        `nr_evaluations_` is the number of candidates up to the n-th accepted one,
        so the counts pyabc stores (and its budget) do not depend on batch sizes.
        """

        def __init__(self, seed: int, pending: Pending, workers: int | None = 1, cluster: str | None = None,
                     progress: Callable | None = None):
            super().__init__()
            self.seed, self.pending, self.progress = seed, pending, progress
            self.workers, self.cluster = workers, cluster
            self.rate = 0.5
            self.simulations = 0
            self.reused = 0

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                    ana_vars=None):
            eps = float(ana_vars.eps(t)) if ana_vars is not None and t >= 0 else PRIOR_THRESHOLD
            if ana_vars is not None and np.isfinite(ana_vars.max_total_nr_simulations):
                max_eval = min(max_eval, ana_vars.max_total_nr_simulations - ana_vars.prev_total_nr_simulations)
            key = (t, n, round(eps, 12), self.seed)
            done = self.pending.load(t, key) if t >= 0 else {}
            self.reused += len(done)
            candidates = _SeededCandidates(simulate_one, self.seed, t)
            order, accepted, nxt = [], 0, 0
            while accepted < n and nxt < max_eval:
                size = int(min(max(math.ceil((n - accepted) / max(self.rate, 0.02) * 1.1), 8), max_eval - nxt))
                batch = list(range(nxt, nxt + size))
                todo = [i for i in batch if i not in done]
                fresh = dict(zip(todo, run_tasks(candidates, todo, self.workers, self.cluster)))
                if fresh and t >= 0:
                    self.pending.append(t, key, fresh)
                self.simulations += len(fresh)
                done.update(fresh)
                for i in batch:
                    if accepted < n:
                        order.append(i)
                        accepted += bool(done[i].accepted)
                nxt += size
                self._report(t, accepted, n, len(order), eps)
            sample = self._create_empty_sample()
            for i in order:
                sample.append(done[i])
            self.nr_evaluations_ = len(order)
            if accepted < n:
                sample.ok = False
            else:
                self.rate = accepted / max(len(order), 1)
            return sample

        def _report(self, t, accepted, n, evaluated, eps):
            if self.progress is not None:
                self.progress({"event": "batch", "generation": t, "accepted": accepted, "population": n,
                               "evaluated": evaluated, "epsilon": eps, "simulations": self.simulations})

    return OrderedSampler


KERNEL_WIDTH = 0.75  # box half-width, in standard deviations of the last population


@functools.cache
def _transition_class():
    from pyabc.parameters import Parameter
    from pyabc.transition import Transition

    class FoldedBoxTransition(Transition):
        """Pick a particle of the last population, move each coordinate uniformly within ±h, fold into [0, 1].

        pyabc weighs each proposal by prior density / proposal density. A Gaussian kernel's
        density varies over its own draws by a factor exp(-χ²/2): with tens of parameters
        the weights spread over orders of magnitude and the population collapses onto a few
        particles. Here the prior is flat on the unit cube and each box is flat, and the
        particle to move is picked uniformly (the last weights only tell how the previous
        target was reached; the next target, prior × [distance <= threshold], does not
        depend on them), so where boxes do not overlap every weight is equal. Folding at
        the cube's faces keeps every proposal inside the prior; the density counts the
        folded images.
        """

        def __init__(self, width: float = KERNEL_WIDTH):
            self.width = width

        def fit(self, X, w) -> None:
            self._X_arr = X.to_numpy(float)[np.asarray(w) > 0]
            self.h = np.clip(self.width * self._X_arr.std(axis=0), 1e-4, 1.0)

        def rvs_single(self) -> Parameter:
            x = self._X_arr[np.random.randint(len(self._X_arr))]
            return Parameter(dict(zip(self.X.columns, _fold(x + np.random.uniform(-self.h, self.h)))))

        def pdf(self, x):
            if isinstance(x, Parameter) or not hasattr(x, "columns"):
                return self._pdf(np.array([x[k] for k in self.X.columns], float))
            return np.array([self._pdf(row) for row in x[self.X.columns].to_numpy(float)])

        def _pdf(self, x: np.ndarray) -> float:
            P, h = self._X_arr, self.h
            images = (np.abs(x - P) <= h).astype(float) + (np.abs(-x - P) <= h) + (np.abs(2 - x - P) <= h)
            with np.errstate(divide="ignore"):
                log_k = np.log(images).sum(axis=1) - np.log(2 * h).sum()
            return float(np.exp(np.logaddexp.reduce(log_k) - np.log(len(P))))

    return FoldedBoxTransition


def _fold(y: np.ndarray) -> np.ndarray:
    """Reflect values in [-1, 2] into [0, 1] at the faces of the unit cube."""
    y = np.where(y < 0, -y, y)
    return np.where(y > 1, 2 - y, y)


# --- settings and the experiment's metadata -----------------------------------------------------


@dataclass
class Settings:
    """ABC-SMC settings. The defaults calibrate the flagship (47 parameters, 43 facts) in about
    six minutes on two cores (benchmarks/bench_calibrate.py)."""

    population: int = 150
    budget: int = 12000
    generations: int = 12
    min_acceptance: float = 0.02
    seed: int = 0
    exclude: tuple[str, ...] = ()  # evidence ids (or patterns) measured and reported but left out of the distance

    def fingerprint(self) -> dict:
        """What must not change when a calibration is continued (the rest are stopping rules)."""
        return {"population": self.population, "seed": self.seed, "exclude": list(self.exclude)}


@dataclass
class Calibration:
    """A finished (or stopped) calibration: where it lives and what it found."""

    experiment: Path
    scenario: Scenario
    uncertain: list[Uncertain]
    posterior: Any  # DataFrame: one column per parameter (own units), weight, distance
    generations: Any  # DataFrame: generation, epsilon, samples, seconds
    summary: Any = None
    predictive: Any = None
    diagnosis: list[dict] = field(default_factory=list)
    simulations: int = 0
    reused: int = 0
    stopped: str = ""
    predictive_runs: int = 0


def _db_url(experiment: Path) -> str:
    return "sqlite:///" + str((experiment / DB_NAME).resolve())


def read_meta(experiment: Path) -> dict:
    p = Path(experiment) / META_NAME
    if not p.exists():
        raise RefugeError(f"{experiment}: not a calibration experiment (no {META_NAME})")
    return json.loads(p.read_text(encoding="utf-8"))


def _write_meta(experiment: Path, meta: dict) -> None:
    from refuge.results.files import atomic_write

    atomic_write(experiment / META_NAME, lambda p: p.write_text(json.dumps(meta, indent=2, default=str),
                                                                   encoding="utf-8"))


def _check_continuation(experiment: Path, digest: str, settings: Settings) -> int | None:
    """The pyabc run id to continue, or None for a new calibration; refuse a mismatched one."""
    if not (experiment / DB_NAME).exists():
        return None
    try:
        meta = read_meta(experiment)
    except RefugeError:
        raise RefugeError(f"{experiment}: holds {DB_NAME} but no {META_NAME}; use --restart or another --out") \
            from None
    if meta.get("scenario_digest") != digest:
        raise RefugeError(f"{experiment}: calibrated against another version of the scenario "
                          f"(digest {meta.get('scenario_digest')}, now {digest}); use --restart or another --out")
    before = meta.get("fingerprint", {})
    changed = [f"{k} {before.get(k)} -> {v}" for k, v in settings.fingerprint().items() if before.get(k) != v]
    if changed:
        raise RefugeError(f"{experiment}: a calibration with other settings is stored ({', '.join(changed)}); "
                          "keep them to continue, or use --restart")
    return int(meta["run_id"])


# --- the calibration ----------------------------------------------------------------------------


def calibrate(scenario: Scenario, experiment: str | Path, settings: Settings | None = None, *,
              workers: int | None = 1, cluster: str | None = None, restart: bool = False,
              progress: Callable[[dict], None] | None = None, predictive_runs: int = 200,
              origin: str = "") -> Calibration:
    """Run (or continue) ABC-SMC for the scenario's uncertain parameters; write the posterior and its tables.

    `workers` local processes (None: one per core) or a Dask `cluster` address run the simulations.
    Calling it again on the same `experiment` continues a stopped or interrupted calibration;
    `restart` discards what is stored instead.
    """
    settings = settings or Settings()
    experiment = Path(experiment)
    experiment.mkdir(parents=True, exist_ok=True)
    uncertain = uncertain_parameters(scenario)
    if not scenario.evidence:
        raise RefugeError(f"{scenario.name}: no `evidence` entries to calibrate against")
    sim = Simulator(scenario, uncertain)
    excluded = excluded_facts(sim.facts, settings.exclude)
    sim.measure({u.name: u.default for u in uncertain}, 0)  # a scenario that cannot run fails here, not in a worker
    if restart:
        _clear(experiment)
    run_id = _check_continuation(experiment, sim.base.digest, settings)
    sampler = _sampler_class()(settings.seed, Pending(experiment / "pending"), workers, cluster, progress)
    abc = _abc(sim, settings, sampler, continued=run_id is not None)
    meta = _meta(scenario, sim.base.digest, uncertain, settings, workers, cluster) | {"excluded": list(excluded)}
    if run_id is None:
        history = abc.new(_db_url(experiment), {"facts": fact_centres(sim.facts)},
                          meta_info={"scenario": scenario.name, "digest": sim.base.digest})
        run_id = history.id
        _write_meta(experiment, meta | {"run_id": run_id, "status": "running"})
    else:
        history = abc.load(_db_url(experiment), run_id)
    left = settings.generations - (history.max_t + 1)
    if left > 0 and history.total_nr_simulations < settings.budget and not _every_fact_held(history):
        with np.errstate(invalid="ignore", over="ignore"):  # pyabc subtracts thresholds; the first is huge
            abc.run(max_nr_populations=left, max_total_nr_simulations=settings.budget,
                    min_acceptance_rate=settings.min_acceptance)
    Pending(experiment / "pending").load(history.max_t + 1, ())  # drops leftovers of committed generations
    from refuge.results.files import write_frame

    if history.max_t < 0:
        raise RefugeError(f"{experiment}: the budget ran out before the first generation finished; "
                          "raise --budget and run the same command again to continue")
    cal = _collect(experiment, scenario, uncertain, history, settings)
    cal.simulations, cal.reused = sampler.simulations, sampler.reused
    cal.summary = posterior_table(cal.posterior, uncertain)
    write_frame(cal.posterior, experiment / POSTERIOR_NAME)  # the predictive runs draw from it
    cal.predictive = posterior_predictive(cal, predictive_runs, seed=settings.seed + 1, workers=workers,
                                          cluster=cluster, origin=origin)
    cal.predictive_runs = predictive_runs
    cal.diagnosis = diagnose(cal, history, sim.facts, excluded)
    write_outputs(cal, meta | {"run_id": run_id, "status": "done"})
    return cal


def _every_fact_held(history) -> bool:
    """The last generation was accepted at threshold 0: nothing left to refine."""
    return history.max_t >= 0 and float(history.get_all_populations().epsilon.iloc[-1]) <= 0


def _clear(experiment: Path) -> None:
    import shutil

    for name in (DB_NAME, META_NAME):
        (experiment / name).unlink(missing_ok=True)
    shutil.rmtree(experiment / "pending", ignore_errors=True)


def _abc(sim: Simulator, settings: Settings, sampler, continued: bool):
    import logging

    import pyabc

    # Raw weights here are 1 / proposal density, tiny in many dimensions; only their ratios matter.
    logging.getLogger("ABC.Population").setLevel(logging.ERROR)

    np.random.seed(settings.seed)  # pyabc draws from the global generator outside the sampler too
    # A new calibration starts from the prior (threshold infinity); a continued one from the last
    # stored generation's distances, exactly as the uninterrupted run would have.
    eps = pyabc.QuantileEpsilon(initial_epsilon="from_sample" if continued else PRIOR_THRESHOLD, alpha=0.5)
    prior = pyabc.Distribution(**{u.name: u.rv() for u in sim.uncertain})
    distance = BoundDistance(sim.facts, excluded_facts(sim.facts, settings.exclude))
    return pyabc.ABCSMC(sim, prior, distance, population_size=settings.population,
                        sampler=sampler, eps=eps, transitions=_transition_class()())


def _meta(scenario: Scenario, digest: str, uncertain: list[Uncertain], settings: Settings, workers, cluster) -> dict:
    import pyabc

    return {"scenario": scenario.name, "scenario_title": scenario.title, "scenario_digest": digest,
            "refuge_version": _version(),
            "method": f"ABC-SMC (pyabc {pyabc.__version__}); distance: RMS of the evidence misses",
            "parameters": [u.name for u in uncertain], "fingerprint": settings.fingerprint(),
            "settings": vars(settings) | {"workers": workers, "cluster": cluster}}


def _version() -> str:
    from refuge import __version__

    return __version__


def _collect(experiment: Path, scenario: Scenario, uncertain: list[Uncertain], history, settings: Settings):
    import pandas as pd

    pop = history.get_population(history.max_t)
    rows = [{u.name: u.to_value(p.parameter[u.name]) for u in uncertain} | {"weight": p.weight,
                                                                              "distance": p.distance}
            for p in pop.particles]
    post = pd.DataFrame(rows)
    post["weight"] /= post["weight"].sum()
    gens = history.get_all_populations()
    gens = gens[gens.t >= 0].rename(columns={"t": "generation"})[["generation", "epsilon", "samples",
                                                                    "wall_time"]].reset_index(drop=True)
    gens.loc[gens.epsilon >= PRIOR_THRESHOLD, "epsilon"] = math.inf
    stopped = _why_stopped(gens, history, settings)
    return Calibration(experiment, scenario, uncertain, post, gens, stopped=stopped)


def _why_stopped(gens, history, settings: Settings) -> str:
    last = gens.iloc[-1]
    if last.epsilon <= 0:
        return "every fact held in the accepted runs (threshold 0)"
    if len(gens) >= settings.generations:
        return f"reached {settings.generations} generations"
    if history.total_nr_simulations >= settings.budget:
        return f"used the budget of {settings.budget:,} simulations"
    return f"acceptance fell below {settings.min_acceptance:g} (or the budget ran out within a generation)"


# --- tables ----------------------------------------------------------------------------------


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(x)
    x, w = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(qs, cum, x)


def posterior_table(posterior, uncertain: list[Uncertain], level: float = LEVEL):
    """Per parameter: prior, its central interval, the posterior median and central interval."""
    import pandas as pd

    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for u in uncertain:
        d = u.dist()
        q = weighted_quantiles(posterior[u.name].to_numpy(), posterior["weight"].to_numpy(), [0.5, lo, hi])
        plo, phi = d.ppf([lo, hi])
        rows.append({"parameter": u.name, "prior": u.describe(), "default": u.default,
                     "prior_low": plo, "prior_high": phi, "median": q[0], "low": q[1], "high": q[2],
                     "narrowing": 1 - (q[2] - q[1]) / (phi - plo) if phi > plo else math.nan})
    return pd.DataFrame(rows)


def read_posterior(experiment: str | Path):
    """The stored posterior particles: one column per parameter (own units), weight, distance."""
    import pandas as pd

    path = Path(experiment) / POSTERIOR_NAME
    if not path.exists():
        raise RefugeError(f"{experiment}: no {POSTERIOR_NAME}; run `refuge calibrate SCENARIO --out {experiment}` "
                          "first")
    return pd.read_parquet(path)


def sample_posterior(experiment: str | Path, n: int, seed: int = 0) -> list[dict]:
    """`n` parameter sets drawn from a stored posterior (weighted, with replacement).

    Draw `k` depends only on (seed, k): asking for more draws keeps the first ones.
    """
    post = read_posterior(experiment)
    return _resample(post, [c for c in post.columns if c not in ("weight", "distance")], n, seed)


def posterior_predictive(cal: Calibration, n: int = 200, seed: int = 1, workers: int | None = 1,
                         cluster: str | None = None, origin: str = ""):
    """Run `n` posterior draws into the experiment store EXPERIMENT/predictive; return its evidence table.

    The store is an ordinary ensemble (variant `posterior`), so `refuge report EXPERIMENT/predictive`
    shows every output with bands under posterior uncertainty, and the calibration beside it.
    """
    import shutil

    store = cal.experiment / PREDICTIVE_DIR
    shutil.rmtree(store, ignore_errors=True)  # derived from the posterior, which may have moved on
    exp = run_posterior_ensemble(cal.scenario, origin or cal.scenario.name, cal.experiment, n, seed, store,
                                 workers, cluster)
    return exp.evidence("posterior")


def _resample(post, names: list[str], n: int, seed: int) -> list[dict]:
    cum = np.cumsum(post["weight"].to_numpy(float))
    u = [np.random.default_rng([int(seed), k]).random() * cum[-1] for k in range(n)]
    idx = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
    return [{k: float(post[k].iat[i]) for k in names} for i in idx]


# --- which facts the posterior cannot reach, and why ----------------------------------------------


def diagnose(cal: Calibration, history, facts: list[dict], excluded: tuple[str, ...] = ()) -> list[dict]:
    """For each fact holding in under half the posterior runs: prior reach, tension, noise."""
    from refuge.evidence.measures import holds

    pred = cal.predictive
    prior_vals = _facts_of(history, 0)
    ok_prior = np.array([[holds(f, x) for f, x in zip(facts, row)] for row in prior_vals], bool)
    out = []
    for k, f in enumerate(facts):
        share = float(pred.share_holding.iat[k])
        if share >= 0.5:
            continue
        item = {"id": f["id"], "share_holding": share, "prior_share": float(ok_prior[:, k].mean())}
        col = prior_vals[:, k]
        col = col[~np.isnan(col)]
        item["prior_range"] = [float(np.quantile(col, 0.05)), float(np.quantile(col, 0.95))] if col.size else []
        item["reason"] = _reason(k, f, item, ok_prior, pred)
        if f["id"] in excluded:
            item["reason"] = "left out of the calibration's distance (--exclude); " + item["reason"]
        out.append(item)
    return out


def _facts_of(history, t: int) -> np.ndarray:
    pop = history.get_population(t)
    return np.array([p.sum_stat["facts"] for p in pop.particles], float)


def _reason(k: int, fact: dict, item: dict, ok_prior: np.ndarray, pred) -> str:
    from refuge.evidence.measures import bound_text

    bound = bound_text(fact)
    rng = item["prior_range"]
    where = f"{rng[0]:,.4g}–{rng[1]:,.4g}" if rng else "undefined"
    if _exact_incident(fact):
        days = fact["days"][1] - fact["days"][0] + 1
        return (f"an exact count of people moved in {days} day{'s' if days > 1 else ''} (bound {bound}): the model "
                "draws how many groups move each day at random, so even at the best rate the count comes out "
                "exactly right in a minority of runs (one event happens with probability at most 1/e ≈ 37%); "
                "only a scheduled, certain event or a looser bound (about, range) could hold in half of them")
    if item["prior_share"] == 0:
        return (f"never holds across the prior (5–95% of prior runs: {where}; bound {bound}): the uncertain "
                "parameters cannot move it there, so a fixed number or the model's structure limits it")
    with_it = ok_prior[ok_prior[:, k]]
    if len(with_it) >= 10:
        others = [(with_it[:, j].mean() - ok_prior[:, j].mean(), j) for j in range(ok_prior.shape[1]) if j != k]
        drop, j = min(others) if others else (0.0, -1)
        if j >= 0 and drop < -0.2:
            return (f"holds in {item['prior_share']:.0%} of prior runs, but in those `{pred.id.iat[j]}` holds "
                    f"{-drop:.0%} less often (of runs): the two facts pull the parameters in opposite directions")
    return (f"reachable (holds in {item['prior_share']:.0%} of prior runs) but the posterior runs spread over "
            f"{pred.low.iat[k]:,.4g}–{pred.high.iat[k]:,.4g} against the bound {bound}: run-to-run chance, or "
            "other facts the same parameters must also meet, make it miss often")


def _exact_incident(fact: dict) -> bool:
    """An exact count of movements over a week or less: a one-off incident in the news."""
    if fact["bound"] != "exact" or fact["kind"] not in ("flow", "arrivals"):
        return False
    d0, d1 = fact["days"]
    return d1 - d0 < 7


# --- files and plots -----------------------------------------------------------------------------


def write_outputs(cal: Calibration, meta: dict) -> None:
    from refuge.results.files import write_frame

    e = cal.experiment
    write_frame(cal.summary, e / SUMMARY_NAME)
    write_frame(cal.predictive, e / PREDICTIVE_NAME)
    plot_marginals(cal.posterior, cal.uncertain, e / MARGINALS_NAME)
    gens = [{"generation": int(r.generation), "epsilon": float(r.epsilon) if r.epsilon < PRIOR_THRESHOLD else None,
             "samples": int(r.samples), "seconds": float(r.wall_time)} for r in cal.generations.itertuples()]
    meta = meta | {"generations": gens, "stopped": cal.stopped, "diagnosis": cal.diagnosis,
                   "files": {"posterior": POSTERIOR_NAME, "summary": SUMMARY_NAME, "predictive": PREDICTIVE_NAME,
                             "marginals": MARGINALS_NAME, "predictive_runs": PREDICTIVE_DIR}}
    _write_meta(e, meta)


def plot_marginals(posterior, uncertain: list[Uncertain], path: str | Path, truth: dict | None = None) -> Path:
    """One panel per parameter: posterior histogram (weighted) over the prior density; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from refuge.results.files import save_figure

    k = len(uncertain)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, u in zip(axes.flat, uncertain):
        _marginal(ax, posterior, u, (truth or {}).get(u.name))
    for ax in list(axes.flat)[k:]:
        ax.set_visible(False)
    return save_figure(fig, path)


def _marginal(ax, posterior, u: Uncertain, truth: float | None) -> None:
    """Densities on the scale the prior is drawn on (log10 for log-uniform), axis in the parameter's units."""
    from scipy.stats import gaussian_kde

    f = np.log10 if u.log else (lambda v: np.asarray(v, float))
    back = (lambda v: 10 ** v) if u.log else (lambda v: v)
    d = u.dist()
    lo, hi = f(d.ppf([0.001, 0.999]))
    x, w = f(posterior[u.name].to_numpy()), posterior["weight"].to_numpy()
    grid = np.linspace(min(lo, x.min()), max(hi, x.max()), 400)
    prior = d.pdf(10 ** grid) * 10 ** grid * np.log(10) if u.log else d.pdf(grid)
    if len(x) > 2 and x.std() > 0:
        post = gaussian_kde(x, weights=w)(grid)
        q_lo, q_hi = weighted_quantiles(x, w, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
        inside = (grid >= q_lo) & (grid <= q_hi)
        ax.fill_between(back(grid[inside]), post[inside], color="#4477aa", alpha=0.25, lw=0,
                        label=f"posterior {LEVEL:.0%}")
        ax.plot(back(grid), post, color="#4477aa", lw=1.6, label="posterior")
    ax.plot(back(grid), prior, color="#444444", lw=1.2, ls="--", label="prior")
    ax.axvline(u.default, color="#cc6677", lw=1, label="scenario value")
    if truth is not None:
        ax.axvline(truth, color="#228833", lw=1.5, label="truth")
    if u.log:
        ax.set_xscale("log")
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_title(u.name, fontsize=10)
    ax.set_yticks([])
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False)


def load_calibration(experiment: str | Path) -> dict:
    """What a report needs from an experiment: metadata and tables (those that exist)."""
    import pandas as pd

    e = Path(experiment)
    out: dict[str, Any] = {"meta": read_meta(e)}
    for key, name in (("summary", SUMMARY_NAME), ("predictive", PREDICTIVE_NAME)):
        if (e / name).exists():
            out[key] = pd.read_csv(e / name)
    out["marginals"] = e / MARGINALS_NAME if (e / MARGINALS_NAME).exists() else None
    return out


# --- runs with parameters drawn from a posterior ---------------------------------------------------


def check_posterior(scenario: Scenario, experiment: str | Path) -> list[str]:
    """Check that a stored posterior fits the scenario; return notes (e.g. the scenario changed since)."""
    from refuge.model.compiler import scenario_digest

    meta = read_meta(Path(experiment))
    names = list(read_posterior(experiment).columns.drop(["weight", "distance"], errors="ignore"))
    missing = [n for n in names if n not in scenario.parameters]
    if missing:
        raise RefugeError(f"--posterior {experiment}: the posterior has parameters the scenario `{scenario.name}` "
                          f"lacks: {', '.join(missing)}")
    if meta.get("scenario_digest") != scenario_digest(scenario):
        return [f"note: {experiment} was calibrated on another version of `{scenario.name}` "
                f"(digest {meta.get('scenario_digest')}); its posterior is used as stored"]
    return []


def _draws(scenario: Scenario, experiment, runs: int, seed: int, overrides: dict[str, float]) -> list[dict]:
    check_posterior(scenario, experiment)
    draws = sample_posterior(experiment, runs, seed)
    clash = sorted(set(overrides) & set(draws[0]))
    if clash:
        raise RefugeError(f"--set: {', '.join(clash)} is drawn from the posterior; drop it from --set")
    return draws


def posterior_model(model: Model, experiment: str | Path, seed: int = 0,
                    overrides: dict[str, float] | None = None) -> tuple[Model, dict]:
    """The model with parameters from posterior draw `seed` (and `overrides`); the draw."""
    overrides = dict(overrides or {})
    draw = _draws(model.scenario, experiment, 1, seed, overrides)[0]
    return compile_scenario(model.scenario.with_values(overrides | draw), model.origin), draw


@dataclass(frozen=True)
class _PosteriorSpec:
    sim: Simulator
    draws: tuple
    seed: int
    until: Any = None


def _posterior_task(spec: _PosteriorSpec, r: int) -> dict[str, bytes]:
    """Replicate `r`: parameters from draw `r`, seed `seed + r`; tables encoded for the experiment store."""
    from refuge.api import simulate
    from refuge.evidence.outcomes import outcomes
    from refuge.evidence.measures import measure_all
    from refuge.experiments.store import encode, run_tables

    sim = spec.sim
    values = spec.draws[r]
    run = simulate(sim.model_for(values), seed=spec.seed + r, until=spec.until)
    measures = {f"evidence:{f['id']}": x for f, x in zip(sim.facts, measure_all(run))}
    measures.update({f"outcome:{k}": x for k, x in outcomes(run).items()})
    measures.update({f"parameter:{k}": x for k, x in values.items()})
    return {name: encode(table) for name, table in run_tables(run, r, measures).items()}


def run_posterior_ensemble(scenario: Scenario, origin: str, experiment: str | Path, runs: int, seed: int = 0,
                           store: str | Path = "out", workers: int | None = None, cluster: str | None = None,
                           overrides: dict[str, float] | None = None, until=None, progress: bool = False):
    """An ensemble whose replicate `r` takes posterior draw `r` (and seed `seed + r`); returns the Experiment."""
    from refuge.experiments.ensemble import imap_runs
    from refuge.model.compiler import scenario_digest
    from refuge.experiments.store import Experiment, make_meta

    overrides = dict(overrides or {})
    draws = _draws(scenario, experiment, runs, seed, overrides)
    variant = {"name": "posterior", "description": f"parameters drawn from the posterior in {experiment}",
               "set": overrides}
    meta = make_meta(scenario, origin, scenario_digest(scenario), seed, runs, [variant], overrides, until)
    meta["posterior"] = {"experiment": str(Path(experiment).resolve()),
                         "scenario_digest": read_meta(Path(experiment)).get("scenario_digest"),
                         "parameters": list(draws[0])}
    _check_same_posterior(Path(store), meta["posterior"])
    exp = Experiment.create(store, meta)
    spec = _PosteriorSpec(Simulator(scenario.with_values(overrides), []), tuple(draws), int(seed), until)
    todo = exp.missing()
    label = f"{scenario.name}: {len(todo)} posterior runs" if progress else False
    for i, blobs in imap_runs(functools.partial(_posterior_task, spec), [r for _, r in todo], workers=workers,
                              cluster=cluster, progress=label):
        exp.write_run("posterior", todo[i][1], blobs)
    return exp


def _check_same_posterior(store: Path, posterior: dict) -> None:
    meta_file = store / "experiment.json"
    if not meta_file.exists():
        return
    old = json.loads(meta_file.read_text(encoding="utf-8")).get("posterior")
    if old is None or old.get("experiment") != posterior["experiment"]:
        raise RefugeError(f"{store}: holds runs that did not draw from the posterior in {posterior['experiment']}; "
                          "use another --out directory")


# --- progress on a console -------------------------------------------------------------------------


class ConsoleProgress:
    """A live line for the generation under way, and one printed line per finished generation."""

    def __init__(self):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.t: int | None = None
        self.last: dict = {}

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("accepted of {task.fields[evaluated]:,} candidates"), TimeElapsedColumn(),
                            console=self.console, transient=True)
        self.bar.start()
        self.task = None
        return self

    def __call__(self, event: dict) -> None:
        if event["generation"] != self.t:
            self._done()
            self.t = event["generation"]
            self.start = time.perf_counter()
            self.task = self.bar.add_task(self._label(event), total=event["population"], evaluated=0)
        self.bar.update(self.task, completed=event["accepted"], evaluated=event["evaluated"])
        self.last = event

    def _label(self, e: dict) -> str:
        eps = "prior" if e["epsilon"] >= PRIOR_THRESHOLD else f"threshold {e['epsilon']:.3g}"
        return f"generation {e['generation']} ({eps})"

    def _done(self) -> None:
        e = self.last
        if not e:
            return
        self.bar.remove_task(self.task)
        rate = e["accepted"] / max(e["evaluated"], 1)
        self.console.print(f"{self._label(e)}: {e['accepted']} of {e['evaluated']:,} accepted ({rate:.0%}), "
                           f"{time.perf_counter() - self.start:.1f} s, {e['simulations']:,} simulations")
        self.last = {}

    def __exit__(self, *exc) -> bool:
        if exc[0] is None:
            self._done()
        self.bar.stop()
        return False


# --- for the HTML report ------------------------------------------------------------------------------


def report_section(exp) -> dict | None:
    """What `refuge report` shows of a calibration, for an ensemble that drew from its posterior (or None)."""
    import base64

    post = (exp.meta or {}).get("posterior")
    if not post:
        return None
    path = Path(post["experiment"])
    if not (path / META_NAME).exists() or not (path / SUMMARY_NAME).exists():
        return None
    found = load_calibration(path)
    meta = found["meta"]
    marginals = found["marginals"]
    uri = ("data:image/png;base64," + base64.b64encode(marginals.read_bytes()).decode("ascii")) if marginals else ""
    return {"path": str(path), "method": meta.get("method", ""), "stopped": meta.get("stopped", ""),
            "generations": meta.get("generations", []), "settings": meta.get("settings", {}),
            "table": found["summary"].to_dict("records"), "diagnosis": meta.get("diagnosis", []),
            "marginals": uri, "same_scenario": meta.get("scenario_digest") == exp.meta.get("scenario_digest")}
