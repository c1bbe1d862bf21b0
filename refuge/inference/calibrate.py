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
(`refuge.inference.kernel`). A draw that makes the scenario invalid is rejected.

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

This module is the entry point (`calibrate`); the parts live beside it: simulator.py (uncertain
parameters, one simulation per draw, the distance), sampler.py and pending.py (seeded, ordered
candidates and the unfinished generation's store), kernel.py (the box kernel), posterior.py
(tables, draws, posterior ensembles), diagnosis.py, outputs.py and files.py (what is written).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from refuge.errors import RefugeError
from refuge.inference.diagnosis import diagnose
from refuge.inference.files import (
    DB_NAME,
    MARGINALS_NAME,
    META_NAME,
    POSTERIOR_NAME,
    PREDICTIVE_DIR,
    PREDICTIVE_NAME,
    SUMMARY_NAME,
    read_meta,
    write_meta,
)
from refuge.inference.kernel import KERNEL_WIDTH, _transition_class
from refuge.inference.outputs import ConsoleProgress, load_calibration, plot_marginals, report_section, write_outputs
from refuge.inference.pending import Pending
from refuge.inference.posterior import (
    LEVEL,
    check_posterior,
    posterior_model,
    posterior_predictive,
    posterior_table,
    read_posterior,
    run_posterior_ensemble,
    sample_posterior,
)
from refuge.inference.sampler import PRIOR_THRESHOLD, _sampler_class, candidate_seed
from refuge.inference.simulator import (
    BoundDistance,
    Simulator,
    Uncertain,
    excluded_facts,
    fact_centres,
    run_tasks,
    series_points,
    uncertain_parameters,
    weights_by_reach,
)
from refuge.model.compiler import Model
from refuge.scenario import Scenario

# calibrate is the entry point; these names are re-exported for callers of the one-module era.
__all__ = ["BoundDistance", "Calibration", "ConsoleProgress", "KERNEL_WIDTH", "LEVEL", "MARGINALS_NAME", "META_NAME",
           "POSTERIOR_NAME", "PREDICTIVE_DIR", "PREDICTIVE_NAME", "PRIOR_THRESHOLD", "SUMMARY_NAME", "Settings",
           "Simulator", "Uncertain", "calibrate", "candidate_seed", "check_posterior", "diagnose", "excluded_facts",
           "fact_centres", "load_calibration", "plot_marginals", "posterior_model", "posterior_predictive",
           "posterior_table", "read_meta", "read_posterior", "report_section", "run_posterior_ensemble", "run_tasks",
           "sample_posterior", "uncertain_parameters", "write_outputs"]


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
    until: dt.date | None = None  # train on evidence dated up to this day only (facts and series points)
    series_tolerance: float = 0.1  # a series data point holds within this relative distance of the data
    series_weight: float = 0.5  # share of the squared distance given to series points (the rest: the facts)
    weights: str = "equal"  # "reach": weigh each fact's miss by the best share any rate could reach

    def fingerprint(self) -> dict:
        """What must not change when a calibration is continued (the rest are stopping rules)."""
        return {"population": self.population, "seed": self.seed, "exclude": list(self.exclude),
                "until": str(self.until) if self.until else None, "series_tolerance": self.series_tolerance,
                "series_weight": self.series_weight, "weights": self.weights}


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


def calibrate(scenario: Scenario | Model | str | Path, experiment: str | Path, settings: Settings | None = None, *,
              workers: int | None = 1, cluster: str | None = None, restart: bool = False,
              progress: Callable[[dict], None] | None = None, predictive_runs: int = 200,
              origin: str = "") -> Calibration:
    """Run (or continue) ABC-SMC for the scenario's uncertain parameters; write the posterior and its tables.

    `workers` local processes (None: one per core) or a Dask `cluster` address run the simulations.
    Calling it again on the same `experiment` continues a stopped or interrupted calibration;
    `restart` discards what is stored instead. `scenario`: a Scenario, a compiled Model, a path or a built-in name.
    """
    if not isinstance(scenario, Scenario):
        from refuge.experiments.ensemble import resolve_scenario

        scenario, found = resolve_scenario(scenario)
        origin = origin or found
    settings = settings or Settings()
    _check_settings(settings)
    experiment = Path(experiment)
    experiment.mkdir(parents=True, exist_ok=True)
    uncertain = uncertain_parameters(scenario)
    if not scenario.evidence:
        raise RefugeError(f"{scenario.name}: no `evidence` entries to calibrate against")
    sim = Simulator(scenario, uncertain)
    excluded = left_out(sim.base, settings)
    if len([f for f in sim.facts if f["id"] not in excluded]) + len(
            [p for p in series_points(sim.base) if p["id"] not in excluded]) == 0:
        raise RefugeError(f"{scenario.name}: no evidence left to calibrate against (dated up to {settings.until})")
    sim.measure({u.name: u.default for u in uncertain}, 0)  # a scenario that cannot run fails here, not in a worker
    if restart:
        _clear(experiment)
    run_id = _check_continuation(experiment, sim.base.digest, settings)
    pending = Pending(experiment / "pending", [u.name for u in uncertain], len(sim.facts))
    sampler = _sampler_class()(settings.seed, pending, workers, cluster, progress)
    abc = _abc(sim, settings, sampler, continued=run_id is not None)
    meta = _meta(scenario, sim.base.digest, uncertain, settings, workers, cluster) | {"excluded": list(excluded)}
    if run_id is None:
        observed = {"facts": fact_centres(sim.facts),
                    "series": np.array([p["value"] for p in series_points(sim.base)], float)}
        history = abc.new(_db_url(experiment), observed,
                          meta_info={"scenario": scenario.name, "digest": sim.base.digest})
        run_id = history.id
        write_meta(experiment, meta | {"run_id": run_id, "status": "running"})
    else:
        history = abc.load(_db_url(experiment), run_id)
    left = settings.generations - (history.max_t + 1)
    if left > 0 and history.total_nr_simulations < settings.budget and not _every_fact_held(history):
        with np.errstate(invalid="ignore", over="ignore"):  # pyabc subtracts thresholds; the first is huge
            abc.run(max_nr_populations=left, max_total_nr_simulations=settings.budget,
                    min_acceptance_rate=settings.min_acceptance)
    pending.load(history.max_t + 1, ())  # drops leftovers of committed generations
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


def _check_settings(settings: Settings) -> None:
    from refuge.scenario.limits import MAX_BUDGET, MAX_POPULATION, MAX_SEED

    for name, value, low, high in (("--population", settings.population, 2, MAX_POPULATION),
                                   ("--budget", settings.budget, 1, MAX_BUDGET),
                                   ("--generations", settings.generations, 1, 10_000),
                                   ("--seed", settings.seed, 0, MAX_SEED)):
        if not low <= int(value) <= high:
            raise RefugeError(f"{name}: expected a whole number from {low:,} to {high:,}; found {value:,}")
    if not 0 <= settings.min_acceptance <= 1:
        raise RefugeError(f"--min-acceptance: expected a number from 0 to 1; found {settings.min_acceptance}")


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
    distance = distance_for(sim.base, settings)
    return pyabc.ABCSMC(sim, prior, distance, population_size=settings.population,
                        sampler=sampler, eps=eps, transitions=_transition_class()())


def distance_for(model: Model, settings: Settings) -> BoundDistance:
    """The ABC distance of these settings: facts and series points, minus those excluded or dated after `until`."""
    if settings.weights not in ("equal", "reach"):
        raise RefugeError(f"weights: expected `equal` or `reach`; found `{settings.weights}`")
    weights = weights_by_reach(model) if settings.weights == "reach" else None
    if not 0 <= settings.series_weight <= 1:
        raise RefugeError(f"series weight: expected a number from 0 to 1; found {settings.series_weight}")
    return BoundDistance(model.evidence, left_out(model, settings), series_points(model), settings.series_tolerance,
                         weights, settings.series_weight)


def left_out(model: Model, settings: Settings) -> tuple[str, ...]:
    """Ids of the facts and series points the distance leaves out: `exclude`, and what is dated after `until`."""
    out = list(excluded_facts(model.evidence, settings.exclude)) if settings.exclude else []
    if settings.until is not None:
        out += [f["id"] for f in model.evidence if fact_end(model, f) > settings.until and f["id"] not in out]
        out += [p["id"] for p in series_points(model) if p["date"] > settings.until]
    return tuple(out)


def fact_end(model: Model, fact: dict) -> dt.date:
    """The last day a fact speaks of: its date, or the end of its period (the backtests' split)."""
    from refuge.inference.backtest_core import fact_end as end

    return end(model, fact)


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
