"""`refuge check` over an ensemble: run a scenario `runs` times (in parallel) and measure every fact it cites
in each run; the result (`refuge.evidence.check.CheckResult`) holds the tables.

    from refuge.experiments.check import check
    result = check("north-korea-china", runs=200, seed=0)
    result.facts        # one row per evidence fact: median, 90% interval, holds in the median run, share of runs

Run `r` uses seed `seed + r`, whatever the number of workers, so a check is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from refuge.evidence.check import (
    LEVEL,
    SITE_METRICS,
    STAY_METRICS,
    CheckResult,
    report_sites,
    site_matrix,
    stay_matrix,
    tracked_states,
    year_matrix,
)
from refuge.evidence.measures import measure_all
from refuge.evidence.outcomes import yearly_outcomes
from refuge.evidence.series import simulate_all
from refuge.model.compiler import Model

DEFAULT_RUNS = 200
SERIAL_BELOW = 16  # fewer runs than this are not worth starting worker processes for


@dataclass(frozen=True)
class _Spec:
    """What a worker needs (sent once per chunk of runs)."""

    scenario: Any
    origin: str
    digest: str
    seed: int


_MODELS: dict[tuple[str, str], Model] = {}  # per worker process


def _one_run(spec: _Spec, r: int) -> dict[str, np.ndarray]:
    from refuge.model.compiler import compile_scenario
    from refuge.results.simulate import simulate

    key = (spec.digest, spec.origin)
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) >= 8:  # a long-lived worker checking many scenarios keeps only recent ones
            _MODELS.clear()
        model = _MODELS.setdefault(key, compile_scenario(spec.scenario, spec.origin))
    run = simulate(model, seed=spec.seed + r)
    return {"evidence": measure_all(run), "sites": site_matrix(run), "stays": stay_matrix(run),
            "years": year_matrix(run)[1], "series": simulate_all(run)}


def check(model_or_path: Any = "north-korea-china", runs: int = DEFAULT_RUNS, seed: int = 0,
          workers: int | None = None, cluster: Any = None, progress: bool | str = False,
          level: float = LEVEL) -> CheckResult:
    """Run `runs` replicates (seeds `seed`, `seed + 1`, ...) and measure every fact of the scenario in each."""
    from refuge.errors import RefugeError
    from refuge.experiments.ensemble import check_runs, map_runs
    from refuge.results.simulate import as_model

    check_runs(runs, seed)
    if not 0 < level < 1:
        raise RefugeError(f"level: expected a number between 0 and 1; found {level}")
    model = as_model(model_or_path)
    if workers is None and cluster is None and runs < SERIAL_BELOW:
        workers = 1
    spec = _Spec(scenario=model.scenario, origin=model.origin, digest=model.digest, seed=int(seed))
    _MODELS.setdefault((spec.digest, spec.origin), model)  # the serial path reuses the compiled model
    out = map_runs(partial(_one_run, spec), range(int(runs)), workers=workers, cluster=cluster, progress=progress)
    n_facts = len(model.evidence)
    values = np.array([o["evidence"] for o in out], float).reshape(int(runs), n_facts)
    years = sorted(set(model.dates.year.tolist()))
    series_values = [np.array([o["series"][k] for o in out], float) for k in range(len(model.series))]
    n_sites, n_totals = len(report_sites(model)), len(yearly_outcomes(model))
    return CheckResult(model=model, runs=int(runs), seed=int(seed), values=values,
                       site_values=np.array([o["sites"] for o in out], float).reshape(
                           int(runs), n_sites, len(SITE_METRICS)),
                       year_values=np.array([o["years"] for o in out], float).reshape(
                           int(runs), len(years), n_totals),
                       years=years, level=level, series_values=series_values,
                       stay_values=np.array([o["stays"] for o in out], float).reshape(
                           int(runs), len(tracked_states(model)), len(STAY_METRICS)))
