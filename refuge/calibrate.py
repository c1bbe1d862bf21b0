"""Calibration: infer a scenario's uncertain parameters from its evidence (ABC-SMC, via pyabc).

The data are the evidence bounds. A parameter draw is simulated once with its own
seed and scored by the root mean square of the facts' misses
(`refuge.evidence.miss`: 0 when a bound holds, else how far outside it falls,
relative to the bound's scale). ABC-SMC lowers the acceptance threshold from
generation to generation; at threshold 0 a draw is accepted exactly when its run
satisfies every bound, so the posterior is prior × P(every bound holds | parameters).

Uncertain parameters are those with a `prior`. Log-uniform priors are explored
on the log10 scale, so the perturbation kernel moves in ratios, not in units.

Reproducible and resumable. Candidate `i` of generation `t` is simulated with
a seed derived from (seed, t, i), and a generation keeps the first N accepted
candidates in index order, so the posterior is the same whatever the number of
workers or the backend. Each finished generation is committed to pyabc's
SQLite history; candidates of an unfinished generation are appended to
`pending/` as they finish. Calling `calibrate` again on the same experiment
directory continues where it stopped and reuses those simulations.

Experiment directory: calibration.db (pyabc history), pending/, calibration.json
(scenario digest, refuge version, settings, generations), posterior.parquet
(particles with weights), posterior_summary.csv, posterior_predictive.csv,
marginals.png.
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
from refuge.model import Model, compile_scenario
from refuge.scenario import Prior, Scenario

DB_NAME = "calibration.db"
META_NAME = "calibration.json"
POSTERIOR_NAME = "posterior.parquet"
SUMMARY_NAME = "posterior_summary.csv"
PREDICTIVE_NAME = "posterior_predictive.csv"
MARGINALS_NAME = "marginals.png"
LEVEL = 0.90


# --- uncertain parameters -------------------------------------------------------------------


@dataclass(frozen=True)
class Uncertain:
    """A parameter with a prior; `internal` values are what ABC-SMC perturbs (log10 for loguniform)."""

    name: str
    prior: Prior
    default: float

    @property
    def log(self) -> bool:
        return self.prior.dist == "loguniform"

    def to_value(self, internal: float) -> float:
        return float(10.0 ** internal) if self.log else float(internal)

    def to_internal(self, value: float) -> float:
        return float(np.log10(value)) if self.log else float(value)

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
        """The prior as a pyabc random variable on the internal scale."""
        import pyabc

        p = self.prior
        if p.dist == "loguniform":
            lo, hi = np.log10(p.low), np.log10(p.high)
            return pyabc.RV("uniform", lo, hi - lo)
        d = self.dist()
        return pyabc.RV(d.dist.name, *d.args, **d.kwds)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles of the prior (maps the unit interval onto the parameter)."""
        return self.dist().ppf(np.clip(u, 1e-9, 1 - 1e-9))

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


class Simulator:
    """Parameter values -> evidence values of one run. Picklable: shipped once to each worker.

    Parameters without a schedule are patched straight into a copy of the
    compiled parameter table (the engine reads every number from it); any
    scheduled parameter among the draw makes it recompile the scenario.
    """

    def __init__(self, scenario: Scenario, uncertain: list[Uncertain]):
        self.scenario = scenario
        self.uncertain = uncertain
        self.base = compile_scenario(scenario)
        scheduled = {s.parameter for s in scenario.schedules}
        self.patchable = not any(u.name in scheduled for u in uncertain)
        self.facts = self.base.evidence

    def model_for(self, values: dict[str, float]) -> Model:
        if not self.patchable:
            return compile_scenario(self.scenario.with_values(values))
        import copy

        m = copy.copy(self.base)
        m.pbase = self.base.pbase.copy()
        for name, v in values.items():
            m.pbase[:, self.base.param_names.index(name)] = float(v)
        return m

    def measure(self, values: dict[str, float], seed: int) -> np.ndarray:
        from refuge.api import simulate
        from refuge.evidence import measure_all

        return measure_all(simulate(self.model_for(values), seed=seed))

    def __call__(self, internal: dict) -> dict:
        # pyabc's model: the seed comes from the global generator, which the sampler seeds per candidate.
        values = {u.name: u.to_value(internal[u.name]) for u in self.uncertain}
        return {"facts": self.measure(values, int(np.random.randint(0, 2**31 - 1)))}


class BoundDistance:
    """Root mean square of the facts' misses; 0 when every bound holds."""

    def __init__(self, facts: list[dict]):
        self.facts = facts

    def __call__(self, x: dict, x_0: dict | None = None) -> float:
        from refuge.evidence import miss

        if not self.facts:
            return 0.0
        return float(np.sqrt(np.mean([miss(f, v) ** 2 for f, v in zip(self.facts, x["facts"])])))


def fact_centres(facts: list[dict]) -> np.ndarray:
    """A representative observed value per fact (the bound's value, or a range's midpoint)."""
    return np.array([(f["low"] + f["high"]) / 2 if f["bound"] == "range" else f["value"] for f in facts], float)


# --- where simulations run -----------------------------------------------------------------------

_INSTALLED: Any = None
_LOCK = threading.Lock()


def _install(blob: bytes) -> None:
    global _INSTALLED
    import cloudpickle

    _INSTALLED = cloudpickle.loads(blob)


def _call_installed(task):
    return _INSTALLED(task)


@functools.lru_cache(maxsize=2)
def _loads(blob: bytes):
    import cloudpickle

    return cloudpickle.loads(blob)


def _call_blob(blob: bytes, task):
    return _loads(blob)(task)


class Backend:
    """Maps one function (shipped once per call) over small tasks: in process, local processes, or Dask.

    Results come back in task order; every task carries its own seeds, so the
    results do not depend on where they ran.
    """

    def __init__(self, workers: int = 1, cluster: str | None = None):
        self.workers = max(1, int(workers))
        self.cluster = cluster
        self._client = None

    @property
    def parallel(self) -> int:
        if self.cluster:
            return max(1, sum(self.client().nthreads().values()))
        return self.workers

    def client(self):
        if self._client is None:
            from distributed import Client

            try:
                self._client = Client(self.cluster, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise RefugeError(f"--cluster: cannot reach a Dask scheduler at {self.cluster!r} ({exc})") from None
        return self._client

    def session(self, fn: Callable):
        """A context manager yielding `run(tasks) -> results` with `fn` installed on the workers."""
        if self.cluster:
            return _DaskSession(self.client(), fn)
        if self.workers > 1:
            return _PoolSession(self.workers, fn)
        return _InlineSession(fn)

    def map(self, fn: Callable, tasks: list) -> list:
        with self.session(fn) as run:
            return run(tasks)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class _InlineSession:
    def __init__(self, fn):
        self.fn = fn

    def __enter__(self):
        return lambda tasks: [self.fn(t) for t in tasks]

    def __exit__(self, *exc):
        return False


class _PoolSession:
    def __init__(self, workers: int, fn):
        import multiprocessing as mp

        import cloudpickle

        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self.pool = ctx.Pool(workers, initializer=_install, initargs=(cloudpickle.dumps(fn),))

    def __enter__(self):
        return lambda tasks: self.pool.map(_call_installed, tasks, chunksize=1)

    def __exit__(self, *exc):
        self.pool.terminate() if exc[0] else self.pool.close()
        self.pool.join()
        return False


class _DaskSession:
    def __init__(self, client, fn):
        import cloudpickle

        self.client = client
        self.blob = client.scatter(cloudpickle.dumps(fn), broadcast=True)

    def __enter__(self):
        def run(tasks):
            futures = self.client.map(_call_blob, [self.blob] * len(tasks), tasks, pure=False)
            return self.client.gather(futures)
        return run

    def __exit__(self, *exc):
        return False


def chunks(items: list, parts: int) -> list[list]:
    """Split into at most `parts` contiguous, nearly equal chunks."""
    parts = max(1, min(parts, len(items)))
    bounds = np.linspace(0, len(items), parts + 1).round().astype(int)
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


# --- the sampler: ordered acceptance, seeded candidates, pending store ---------------------------


def candidate_seed(seed: int, t: int, i: int) -> int:
    return int(np.random.SeedSequence([int(seed), t + 2, int(i)]).generate_state(1)[0])


class _SeededCandidates:
    """Runs pyabc's `simulate_one` for candidate indices, each under its own seed."""

    def __init__(self, simulate_one, seed: int, t: int):
        self.simulate_one, self.seed, self.t = simulate_one, seed, t

    def __call__(self, indices: list[int]) -> list:
        out = []
        with _LOCK:  # the global generators are per process; threads of one worker take turns
            for i in indices:
                s = candidate_seed(self.seed, self.t, i)
                np.random.seed(s)
                random.seed(s)
                out.append((i, self.simulate_one()))
        return out


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

        def __init__(self, backend: Backend, seed: int, pending: Pending, progress: Callable | None = None):
            super().__init__()
            self.backend, self.seed, self.pending, self.progress = backend, seed, pending, progress
            self.rate = 0.5
            self.simulations = 0
            self.reused = 0

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                    ana_vars=None):
            eps = float(ana_vars.eps(t)) if ana_vars is not None and t >= 0 else math.inf
            if ana_vars is not None and np.isfinite(ana_vars.max_total_nr_simulations):
                max_eval = min(max_eval, ana_vars.max_total_nr_simulations - ana_vars.prev_total_nr_simulations)
            key = (t, n, round(eps, 12), self.seed)
            done = self.pending.load(t, key) if t >= 0 else {}
            self.reused += len(done)
            order, accepted, nxt = [], 0, 0
            with self.backend.session(_SeededCandidates(simulate_one, self.seed, t)) as run:
                while accepted < n and nxt < max_eval:
                    size = int(min(max(math.ceil((n - accepted) / max(self.rate, 0.02) * 1.1), 8), max_eval - nxt))
                    batch = list(range(nxt, nxt + size))
                    todo = [i for i in batch if i not in done]
                    fresh = dict(p for part in run(chunks(todo, 4 * self.backend.parallel)) for p in part)
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


# --- settings and the experiment's metadata -----------------------------------------------------


@dataclass
class Settings:
    population: int = 200
    budget: int = 20000
    generations: int = 12
    min_acceptance: float = 0.01
    seed: int = 0

    def fingerprint(self) -> dict:
        """What must not change when a calibration is continued (the rest are stopping rules)."""
        return {"population": self.population, "seed": self.seed}


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


def _db_url(experiment: Path) -> str:
    return "sqlite:///" + str((experiment / DB_NAME).resolve())


def read_meta(experiment: Path) -> dict:
    p = Path(experiment) / META_NAME
    if not p.exists():
        raise RefugeError(f"{experiment}: not a calibration experiment (no {META_NAME})")
    return json.loads(p.read_text(encoding="utf-8"))


def _write_meta(experiment: Path, meta: dict) -> None:
    from refuge.io import atomic_write

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


def calibrate(scenario: Scenario, experiment: str | Path, settings: Settings | None = None, *, workers: int = 1,
              cluster: str | None = None, restart: bool = False, progress: Callable[[dict], None] | None = None,
              predictive_runs: int = 200) -> Calibration:
    """Run (or continue) ABC-SMC for the scenario's uncertain parameters; write the posterior and its tables."""
    import pyabc

    settings = settings or Settings()
    experiment = Path(experiment)
    experiment.mkdir(parents=True, exist_ok=True)
    uncertain = uncertain_parameters(scenario)
    if not scenario.evidence:
        raise RefugeError(f"{scenario.name}: no `evidence` entries to calibrate against")
    sim = Simulator(scenario, uncertain)
    digest = sim.base.digest
    if restart:
        import shutil

        for name in (DB_NAME, META_NAME):
            (experiment / name).unlink(missing_ok=True)
        shutil.rmtree(experiment / "pending", ignore_errors=True)
    run_id = _check_continuation(experiment, digest, settings)

    sim.measure({u.name: u.default for u in uncertain}, 0)  # compile the engine once, before workers fork
    backend = Backend(workers, cluster)
    sampler = _sampler_class()(backend, settings.seed, Pending(experiment / "pending"), progress)
    np.random.seed(settings.seed)  # pyabc draws the kernel's choices from the global generator
    # A new calibration starts from the prior (threshold infinity); a continued one from the last
    # stored generation's distances, as the uninterrupted run would have.
    eps = pyabc.QuantileEpsilon(initial_epsilon=np.inf if run_id is None else "from_sample", alpha=0.5)
    abc = pyabc.ABCSMC(sim, pyabc.Distribution(**{u.name: u.rv() for u in uncertain}), BoundDistance(sim.facts),
                       population_size=settings.population, sampler=sampler, eps=eps)
    meta = {"scenario": scenario.name, "scenario_digest": digest, "refuge_version": _version(),
            "method": "ABC-SMC (pyabc " + pyabc.__version__ + "), distance: RMS of evidence misses",
            "parameters": [u.name for u in uncertain], "fingerprint": settings.fingerprint(),
            "settings": vars(settings) | {"workers": workers, "cluster": cluster}}
    try:
        if run_id is None:
            history = abc.new(_db_url(experiment), {"facts": fact_centres(sim.facts)},
                              meta_info={"scenario": scenario.name, "digest": digest})
            run_id = history.id
            _write_meta(experiment, meta | {"run_id": run_id, "status": "running"})
        else:
            history = abc.load(_db_url(experiment), run_id)
        left = settings.generations - (history.max_t + 1)
        if left > 0 and history.total_nr_simulations < settings.budget:
            with np.errstate(invalid="ignore"):  # pyabc subtracts inf from inf after the prior generation
                abc.run(max_nr_populations=left, max_total_nr_simulations=settings.budget,
                        min_acceptance_rate=settings.min_acceptance)
    finally:
        backend.close()
    if history.max_t < 0:
        raise RefugeError(f"{experiment}: the budget ran out before the first generation finished; "
                          "raise --budget and run the same command again to continue")
    cal = _collect(experiment, scenario, uncertain, history, settings)
    cal.simulations, cal.reused = sampler.simulations, sampler.reused
    cal.summary = posterior_table(cal.posterior, uncertain)
    cal.predictive = posterior_predictive(cal, predictive_runs, seed=settings.seed + 1, backend=Backend(workers,
                                                                                                        cluster))
    cal.diagnosis = diagnose(cal, history, sim.facts)
    write_outputs(cal, meta | {"run_id": run_id, "status": "done"})
    return cal


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


def sample_posterior(experiment: str | Path, n: int, seed: int = 0) -> list[dict]:
    """`n` parameter sets drawn from a stored posterior (weighted, with replacement)."""
    import pandas as pd

    path = Path(experiment) / POSTERIOR_NAME
    if not path.exists():
        raise RefugeError(f"{experiment}: no {POSTERIOR_NAME}; run `refuge calibrate ... --out {experiment}` first")
    post = pd.read_parquet(path)
    return _resample(post, [c for c in post.columns if c not in ("weight", "distance")], n, seed)


class _PredictiveRun:
    def __init__(self, sim: Simulator):
        self.sim = sim

    def __call__(self, task: list[tuple[dict, int]]) -> list[np.ndarray]:
        return [self.sim.measure(values, seed) for values, seed in task]


def posterior_predictive(cal: Calibration, n: int = 200, seed: int = 1, backend: Backend | None = None):
    """The evidence table over `n` fresh runs, each with parameters drawn from the posterior."""
    from refuge.evidence import evaluate

    sim = Simulator(cal.scenario, cal.uncertain)
    draws = _resample(cal.posterior, [u.name for u in cal.uncertain], n, seed)
    tasks = [(d, 10_000 * seed + k) for k, d in enumerate(draws)]
    backend = backend or Backend()
    try:
        values = [v for part in backend.map(_PredictiveRun(sim), chunks(tasks, 4 * backend.parallel))
                  for v in part]
    finally:
        backend.close()
    return evaluate(sim.base, np.array(values).reshape(len(values), len(sim.facts)))


def _resample(post, names: list[str], n: int, seed: int) -> list[dict]:
    w = post["weight"].to_numpy(float)
    idx = np.random.default_rng(seed).choice(len(post), size=n, p=w / w.sum())
    return [{k: float(post[k].iat[i]) for k in names} for i in idx]


# --- which facts the posterior cannot reach, and why ----------------------------------------------


def diagnose(cal: Calibration, history, facts: list[dict]) -> list[dict]:
    """For each fact holding in under half the posterior runs: prior reach, tension, noise."""
    from refuge.evidence import holds

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
        out.append(item)
    return out


def _facts_of(history, t: int) -> np.ndarray:
    pop = history.get_population(t)
    return np.array([p.sum_stat["facts"] for p in pop.particles], float)


def _reason(k: int, fact: dict, item: dict, ok_prior: np.ndarray, pred) -> str:
    from refuge.evidence import bound_text

    bound = bound_text(fact)
    if item["prior_share"] == 0:
        rng = item["prior_range"]
        where = f"{rng[0]:,.4g}–{rng[1]:,.4g}" if rng else "undefined"
        return (f"never holds across the prior (5–95% of prior runs: {where}; bound {bound}): the uncertain "
                "parameters cannot move it there, so a fixed number or the model's structure limits it")
    with_it = ok_prior[ok_prior[:, k]]
    if len(with_it):
        others = [(with_it[:, j].mean() - ok_prior[:, j].mean(), j) for j in range(ok_prior.shape[1]) if j != k]
        drop, j = min(others) if others else (0.0, -1)
        if j >= 0 and drop < -0.2:
            return (f"holds in {item['prior_share']:.0%} of prior runs, but in those `{pred.id.iat[j]}` holds "
                    f"{-drop:.0%} less often: the two facts pull the parameters in opposite directions")
    spread = pred.high.iat[k] - pred.low.iat[k]
    return (f"reachable (holds in {item['prior_share']:.0%} of prior runs) but the posterior runs spread over "
            f"{pred.low.iat[k]:,.4g}–{pred.high.iat[k]:,.4g} (width {spread:,.4g}) against the bound {bound}: "
            "run-to-run chance alone makes it miss often")


# --- files and plots -----------------------------------------------------------------------------


def write_outputs(cal: Calibration, meta: dict) -> None:
    from refuge.io import write_frame

    e = cal.experiment
    write_frame(cal.posterior, e / POSTERIOR_NAME)
    write_frame(cal.summary, e / SUMMARY_NAME)
    write_frame(cal.predictive, e / PREDICTIVE_NAME)
    plot_marginals(cal.posterior, cal.uncertain, e / MARGINALS_NAME)
    gens = [{"generation": int(r.generation), "epsilon": float(r.epsilon), "samples": int(r.samples),
             "seconds": float(r.wall_time)} for r in cal.generations.itertuples()]
    meta = meta | {"generations": gens, "stopped": cal.stopped, "diagnosis": cal.diagnosis,
                   "files": {"posterior": POSTERIOR_NAME, "summary": SUMMARY_NAME, "predictive": PREDICTIVE_NAME,
                             "marginals": MARGINALS_NAME}}
    _write_meta(e, meta)


def plot_marginals(posterior, uncertain: list[Uncertain], path: str | Path, truth: dict | None = None) -> Path:
    """One panel per parameter: posterior histogram (weighted) over the prior density; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from refuge.io import atomic_write

    k = len(uncertain)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, u in zip(axes.flat, uncertain):
        _marginal(ax, posterior, u, (truth or {}).get(u.name))
    for ax in list(axes.flat)[k:]:
        ax.set_visible(False)
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
    return path


def _marginal(ax, posterior, u: Uncertain, truth: float | None) -> None:
    d = u.dist()
    lo, hi = d.ppf([0.001, 0.999])
    x = posterior[u.name].to_numpy()
    if u.log:
        bins = np.logspace(np.log10(lo), np.log10(hi), 30)
        ax.set_xscale("log")
    else:
        bins = np.linspace(min(lo, x.min()), max(hi, x.max()), 30)
    ax.hist(x, bins=bins, weights=posterior["weight"].to_numpy(), density=True, color="#4477aa", alpha=0.75,
            label="posterior")
    grid = np.geomspace(lo, hi, 200) if u.log else np.linspace(lo, hi, 200)
    ax.plot(grid, d.pdf(grid), color="#444444", lw=1.2, ls="--", label="prior")
    ax.axvline(u.default, color="#cc6677", lw=1, label="scenario value")
    if truth is not None:
        ax.axvline(truth, color="#228833", lw=1.5, label="truth")
    ax.set_title(u.name, fontsize=10)
    ax.set_yticks([])
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
