"""A stored posterior: its table, draws from it, and ensembles whose runs take those draws."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from refuge.errors import RefugeError
from refuge.inference.files import POSTERIOR_NAME, PREDICTIVE_DIR, read_meta
from refuge.inference.simulator import Simulator, Uncertain
from refuge.model.compiler import Model, compile_scenario
from refuge.numbers import weighted_quantile
from refuge.scenario import Scenario

if TYPE_CHECKING:
    from refuge.inference.calibrate import Calibration

LEVEL = 0.90


def posterior_table(posterior: Any, uncertain: list[Uncertain], level: float = LEVEL) -> Any:
    """Per parameter: prior, its central interval, the posterior median and central interval."""
    import pandas as pd

    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for u in uncertain:
        d = u.dist()
        q = weighted_quantile(posterior[u.name].to_numpy(), posterior["weight"].to_numpy(), [0.5, lo, hi])
        plo, phi = d.ppf([lo, hi])
        rows.append({"parameter": u.name, "prior": u.describe(), "default": u.default,
                     "prior_low": plo, "prior_high": phi, "median": q[0], "low": q[1], "high": q[2],
                     "narrowing": 1 - (q[2] - q[1]) / (phi - plo) if phi > plo else math.nan})
    return pd.DataFrame(rows)


def read_posterior(experiment: str | Path) -> Any:
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
                         cluster: str | None = None, origin: str = "") -> Any:
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
    stamp: str = ""  # the run fingerprint (JSON) without run and seed (store.run_stamp)


def _posterior_task(spec: _PosteriorSpec, r: int) -> dict[str, bytes]:
    """Replicate `r`: parameters from draw `r`, seed `seed + r`; tables encoded for the experiment store."""
    from refuge.evidence.measures import measure_all
    from refuge.evidence.outcomes import outcomes
    from refuge.experiments.store import encode, run_tables
    from refuge.results.simulate import simulate

    sim = spec.sim
    values = spec.draws[r]
    run = simulate(sim.model_for(values), seed=spec.seed + r, until=spec.until)
    measures = {f"evidence:{f['id']}": x for f, x in zip(sim.facts, measure_all(run))}
    measures.update({f"outcome:{k}": x for k, x in outcomes(run).items()})
    measures.update({f"parameter:{k}": x for k, x in values.items()})
    stamp = json.loads(spec.stamp) | {"run": r, "seed": spec.seed + r} if spec.stamp else None
    return {name: encode(table, stamp) for name, table in run_tables(run, r, measures).items()}


def run_posterior_ensemble(scenario: Scenario, origin: str, experiment: str | Path, runs: int, seed: int = 0,
                           store: str | Path = "out", workers: int | None = None, cluster: str | None = None,
                           overrides: dict[str, float] | None = None, until: Any = None,
                           progress: bool = False) -> Any:
    """An ensemble whose replicate `r` takes posterior draw `r` (and seed `seed + r`); returns the Experiment."""
    from refuge.experiments.ensemble import check_runs, imap_runs
    from refuge.experiments.store import Experiment, make_meta, run_stamp
    from refuge.model.compiler import scenario_digest

    check_runs(runs, seed)
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
    spec = _PosteriorSpec(Simulator(scenario.with_values(overrides), []), tuple(draws), int(seed), until,
                          json.dumps(run_stamp(exp.meta, "posterior", 0)))
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
    try:
        old = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # a damaged experiment.json: Experiment.create rewrites it and checks the runs kept
    old = old.get("posterior") if isinstance(old, dict) else None
    if not isinstance(old, dict) or old.get("experiment") != posterior["experiment"]:
        raise RefugeError(f"{store}: holds runs that did not draw from the posterior in {posterior['experiment']}; "
                          "use another --out directory")
