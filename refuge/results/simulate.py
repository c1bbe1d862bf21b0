"""Load a scenario and run it: seed the random streams, call an engine (`refuge.sim`), make a Run of the results.

These are the functions `refuge.api` offers; they live here, in the results layer, so that every layer below
the API (evidence, experiments, inference) can run a model without importing the API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from refuge.model.compiler import Model, compile_scenario
from refuge.results.run import Run
from refuge.scenario import Scenario, read


def load(path_or_name: str | Path | None = None) -> Model:
    """Read, validate and compile a scenario file (or a built-in scenario by name)."""
    from refuge.scenario.locate import scenario_file

    p = scenario_file("north-korea-china" if path_or_name is None else path_or_name)
    sc = read(p)
    model = compile_scenario(sc, str(p))
    warn_unused(sc, str(p))
    warn_whole_groups(model)
    return model


def warn_whole_groups(model: Model) -> None:
    """A RefugeWarning per transition that keeps groups whole and that a group bigger than its capacity can
    reach (`refuge.model.whole`)."""
    import warnings

    from refuge.errors import RefugeWarning
    from refuge.model.whole import whole_group_notes

    for note in whole_group_notes(model):
        warnings.warn(note, RefugeWarning, stacklevel=3)


def warn_unused(scenario: Scenario, origin: str) -> None:
    """A RefugeWarning (one `note:` line in the CLI) naming the parameters nothing in the scenario reads."""
    import warnings

    from refuge.errors import RefugeWarning
    from refuge.scenario.usage import unused_parameters

    unused = unused_parameters(scenario)
    if unused:
        names = ", ".join(f"`{n}`" for n in unused)
        warnings.warn(f"{origin}: parameter{'s' if len(unused) > 1 else ''} {names} "
                      f"{'are' if len(unused) > 1 else 'is'} never used (no transition, site, state, arrival, event, "
                      "schedule point, rule or network field names it)", RefugeWarning, stacklevel=3)


def engine_ready() -> bool:
    """Whether the fast engine is compiled in this process or in Numba's disk cache. False means the next run
    compiles it first (about 5 minutes, once per installation and machine)."""
    try:
        from refuge.sim.day import run_days as entry  # the compiled function a run calls

        if entry.signatures:
            return True
        return bool(entry._cache._cache_file._load_index())  # empty when absent or stale (source changed)
    except Exception:  # a Numba without these internals: say nothing rather than fail
        return True


def as_model(obj: Model | Scenario | str | Path) -> Model:
    """A compiled Model from a Model, a Scenario, a path to a YAML file or a built-in name."""
    if isinstance(obj, Model):
        return obj
    if isinstance(obj, Scenario):
        return compile_scenario(obj)
    return load(obj)


def simulate(model: Model | Scenario | str | Path, seed: int = 0, until: dt.date | str | None = None) -> Run:
    """One stochastic realisation of a model (or a Scenario, a path or a built-in name) with a seed, optionally
    stopped after the date `until`. The same seed gives the same result."""
    from refuge.sim.run import run_model

    m, days = _model_days(model, until)
    return Run(model=m, seed=int(seed), **run_model(m, days, int(seed)))


def simulate_reference(model: Model | Scenario | str | Path, seed: int = 0,
                       until: dt.date | str | None = None) -> Run:
    """The same as `simulate` by the person-by-person reference engine (`refuge.sim.reference`): slow by design,
    for small scenarios; its runs match the fast engine's in distribution, not draw by draw."""
    from refuge.sim.reference import reference_results

    m, days = _model_days(model, until)
    return Run(model=m, seed=int(seed), engine="reference", **reference_results(m, days, int(seed)))


def _model_days(model: Model | Scenario | str | Path, until: dt.date | str | None) -> tuple[Model, int]:
    m = as_model(model)
    if isinstance(until, str):
        until = dt.date.fromisoformat(until)
    return m, m.days if until is None else min(m.days, m.day(until) + 1)
