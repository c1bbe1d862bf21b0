"""refuge: simulate asylum pathways with uncertainty, traced to sources.

    import refuge
    model = refuge.load("north-korea-china")     # or a path to a scenario YAML
    run = refuge.simulate(model, seed=1)
    run.to_df("stocks")                          # tidy: date, state, value, run

Heavy libraries (NumPy, pandas, Numba, pydantic) load on first use, not on import.
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

# Public names, resolved on first use: `import refuge` stays fast.
_LAZY = {
    "load": "refuge.api",
    "simulate": "refuge.api",
    "read": "refuge.scenario",
    "compile_scenario": "refuge.model.compiler",
    "ScenarioError": "refuge.errors",
    "RefugeError": "refuge.errors",
    "Model": "refuge.model.compiler",
    "Run": "refuge.results.run",
    "Scenario": "refuge.scenario",
    "check": "refuge.experiments.check",
    "run_ensemble": "refuge.experiments.ensemble",
    "compare": "refuge.experiments.compare",
    "Experiment": "refuge.experiments.store",
}
__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'refuge' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    # Tab completion in notebooks and IPython lists the lazy names too.
    return sorted(set(globals()) | set(__all__))
