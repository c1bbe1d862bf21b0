"""Ensembles: replicates and parameter variations of one scenario, written to an experiment store.

`run_ensemble(scenario, runs, seed, ...)`: replicate `r` of every variant runs with seed `seed + r`:
results do not depend on the backend or the number of workers, and variants share their random
numbers (common random numbers), so their differences are the policy's, not the noise's. The
parallel map is `refuge.experiments.parallel`, the variants `refuge.experiments.variants`.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Mapping, Sequence

from refuge.errors import ArgumentError
from refuge.experiments.parallel import (  # noqa: F401  (re-exported: the names callers import from here)
    _pool,
    default_workers,
    imap_runs,
    map_runs,
    probe_scheduler,
    shutdown_pools,
)
from refuge.experiments.progress import TextProgress, in_notebook  # noqa: F401  (re-exported, as above)
from refuge.experiments.store import Experiment
from refuge.experiments.variants import VariantsArg, plan_variants, read_sweep  # noqa: F401  (re-exported, as above)
from refuge.model.compiler import Model
from refuge.scenario import Scenario
from refuge.scenario.limits import MAX_RUNS, MAX_SEED, MAX_VARIANTS

SERIAL_BELOW = 16  # by default, fewer runs than this run in this process: starting workers would cost more




@dataclass(frozen=True)
class _Spec:
    """What a worker needs to run any task of an ensemble (sent once per chunk)."""

    scenario: Any
    origin: str
    sets: tuple[tuple[tuple[str, float], ...], ...]  # per variant: sorted parameter values
    seed: int
    until: Any = None
    digest: str = ""
    stamps: tuple[str, ...] = ()  # per variant: the run fingerprint (JSON) without run and seed (store.run_stamp)
    refs: tuple[tuple[tuple[str, str], ...], ...] = ()  # per variant: values that name another parameter
    draws: tuple[tuple[tuple[str, float], ...], ...] = ()  # per replicate: drawn values (e.g. a posterior's)


_MODELS: OrderedDict = OrderedDict()  # per worker process: compiled models by (digest, values), most recent last


def run_values(spec: _Spec, variant: int, run: int) -> tuple[tuple[str, float], ...]:
    """The parameter values of replicate `run` of `variant`: the replicate's draw (if any), then the variant's
    own values on top; a value that names another parameter takes its value in this run."""
    if not spec.draws:
        return spec.sets[variant]
    from refuge.experiments.variants import resolve_values

    refs = dict(spec.refs[variant]) if spec.refs else {}
    values = dict(spec.draws[run]) | {k: x for k, x in spec.sets[variant] if k not in refs} | refs
    return tuple(sorted(resolve_values(spec.scenario, values, "").items()))


def _model_for(spec: _Spec, values: tuple[tuple[str, float], ...]):
    from refuge.model.compiler import compile_scenario

    key = (spec.digest, spec.origin, values)
    model = _MODELS.get(key)
    if model is None:
        model = compile_scenario(spec.scenario.with_values(dict(values)), spec.origin)
        _MODELS[key] = model
        while len(_MODELS) > 16:
            _MODELS.popitem(last=False)
    else:
        _MODELS.move_to_end(key)
    return model


def _run_task(spec: _Spec, task: tuple[int, int]) -> dict[str, bytes]:
    """Simulate replicate `r` of variant `v` and encode its tables (small, ready to write)."""
    from refuge.evidence.measures import measure_all
    from refuge.evidence.outcomes import outcomes
    from refuge.experiments.store import encode, run_tables
    from refuge.results.simulate import simulate

    v, r = task
    values = run_values(spec, v, r)
    model = _model_for(spec, values)
    run = simulate(model, seed=spec.seed + r, until=spec.until)
    measures = {f"evidence:{f['id']}": x for f, x in zip(model.evidence, measure_all(run))}
    measures.update({f"outcome:{k}": x for k, x in outcomes(run).items()})
    if spec.draws:  # the run's own parameter values, as a posterior ensemble records them
        measures.update({f"parameter:{k}": x for k, x in values})
    stamp = json.loads(spec.stamps[v]) | {"run": r, "seed": spec.seed + r} if spec.stamps else None
    return {name: encode(table, stamp) for name, table in run_tables(run, r, measures).items()}


def resolve_scenario(model_or_path: Model | Scenario | str | Path) -> tuple[Scenario, str]:
    """(scenario, origin) from a Model, a Scenario, a path or a built-in name."""
    from refuge.model.compiler import Model
    from refuge.scenario import Scenario, read
    from refuge.scenario.locate import scenario_file

    if isinstance(model_or_path, Model):
        return model_or_path.scenario, model_or_path.origin
    if isinstance(model_or_path, Scenario):
        return model_or_path, model_or_path.name
    p = scenario_file(model_or_path)
    return read(p), str(p)


def _check_draws(scenario: Scenario, draws: Sequence[Mapping[str, float]] | None, runs: int,
                 overrides: Mapping[str, float]) -> tuple[tuple[tuple[str, float], ...], ...]:
    """Per-replicate values as the workers take them; a short error for too few, unknown or clashing ones."""
    from refuge.experiments.variants import check_known

    if draws is None:
        return ()
    draws = list(draws)
    if len(draws) < runs:
        raise ArgumentError("draws", f"expected a set of parameter values for each of the {runs:,} runs; found "
                                     f"{len(draws):,}")
    out = []
    for k, d in enumerate(draws[:runs]):
        check_known(scenario, dict(d), "draws", f"[{k}]")
        out.append(tuple(sorted((str(n), float(x)) for n, x in d.items())))
    clash = sorted(set(overrides) & {n for d in out for n, _ in d})
    if clash:
        raise ArgumentError("overrides", f"{', '.join(clash)} is drawn for each run; drop it from the overrides "
                                         "(a variant may still set it)")
    return tuple(out)


def check_runs(runs: int, seed: int) -> None:
    """Replicates and seeds an ensemble can hold: run r uses seed + r, a 64-bit integer."""
    if not 1 <= int(runs) <= MAX_RUNS:
        raise ArgumentError("runs", f"expected a whole number from 1 to {MAX_RUNS:,}; found {runs:,} (for more, "
                            "run several experiments with different seeds)")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ArgumentError("seed", f"expected a whole number from 0 to {MAX_SEED:,}; found {seed}")


def run_ensemble(model_or_path: Model | Scenario | str | Path, runs: int = 100, seed: int = 0,
                 workers: int | None = None, overrides: Mapping[str, float] | None = None,
                 sweep: str | Path | Sequence[Mapping[str, float]] | None = None, variants: VariantsArg | None = None,
                 store: str | Path | None = None, cluster: str | Any = None,
                 until: dt.date | str | None = None, progress: bool = False,
                 draws: Sequence[Mapping[str, float]] | None = None, draws_from: str = "") -> Experiment:
    """Run `runs` replicates of each variant; write them to an experiment store; return the Experiment.

    - `model_or_path`: a compiled Model, a Scenario, a path to a YAML file or a built-in name.
    - `overrides`: {parameter: value} applied to every run (the CLI's `--set`).
    - `variants`: named parameter sets ({name: {parameter: value}}, [(name, {...})], [{name, description,
      set}], or scenario Variants); `sweep`: a CSV/YAML file of parameter sets, or a list of
      {parameter: value}. Without either, one variant `baseline`.
    - `workers`: local processes (default: one per core; fewer than 16 runs run in this process);
      `cluster`: a Dask scheduler address (`tcp://HOST:PORT`) or a `distributed.Client` instead.
    - `until`: stop every run after this date.
    - `draws`: parameter values per replicate, the same for every variant (replicate `r` takes `draws[r]`,
      with the variant's own values on top): e.g. draws from a calibrated posterior
      (`refuge.compare(..., posterior=DIR)`), so that variants differ only by what they change.
      `draws_from` says where they came from (kept in the experiment's record).
    - `store`: the experiment directory (a temporary one if None). If it already holds this
      experiment, only the missing runs are run; if it holds another one, a RefugeError says why.

    Works from a plain script (no `if __name__ == "__main__":` needed) and from a script piped to
    `python -`: refuge's workers do not re-run the caller's script.
    """
    from refuge.experiments.store import Experiment, make_meta, run_stamp
    from refuge.model.compiler import compile_scenario, scenario_digest

    check_runs(runs, seed)
    scenario, origin = resolve_scenario(model_or_path)
    items = plan_variants(scenario, overrides, variants, sweep)
    if len(items) > MAX_VARIANTS:
        raise ArgumentError("sweep", f"at most {MAX_VARIANTS:,} parameter sets in one experiment; found "
                            f"{len(items):,} (split the sweep into several experiments)")
    draws = _check_draws(scenario, draws, runs, overrides or {})
    for it in items:  # compile errors are the user's to fix: find them before starting workers
        first = dict(draws[0]) if draws else {}
        compile_scenario(scenario.with_values(first | it["set"]), origin)
    if isinstance(until, str):
        until = dt.date.fromisoformat(until)
    digest = scenario_digest(scenario)
    meta = make_meta(scenario, origin, digest, seed, runs, items, overrides or {}, until)
    if draws:
        meta["posterior"] = {"experiment": draws_from, "parameters": sorted(dict(draws[0])),
                             "first_draw": dict(draws[0])}
    path = Path(store) if store is not None else Path(tempfile.mkdtemp(prefix="refuge-experiment-"))
    exp = Experiment.create(path, meta)
    index = {name: k for k, name in enumerate(exp.variants)}
    todo = exp.missing()
    spec = _Spec(scenario=scenario, origin=origin, seed=int(seed), until=until, digest=digest,
                 sets=tuple(tuple(sorted(it["set"].items())) for it in items),
                 stamps=tuple(json.dumps(run_stamp(exp.meta, v, 0)) for v in exp.variants),
                 refs=tuple(tuple(sorted(it.get("refs", {}).items())) for it in items), draws=draws)
    tasks = [(index[v], r) for v, r in todo]
    if workers is None and cluster is None and len(tasks) < SERIAL_BELOW:
        workers = 1
    label = f"{scenario.name}: {len(tasks)} run{'s' if len(tasks) != 1 else ''}" if progress else False
    for i, blobs in imap_runs(partial(_run_task, spec), tasks, workers=workers, cluster=cluster, progress=label):
        v, r = todo[i]
        exp.write_run(v, r, blobs)
    return exp
