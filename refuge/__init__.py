"""refuge: simulate asylum pathways with uncertainty, traced to sources.

    import refuge
    model = refuge.load("north-korea-china")     # or a path to a scenario YAML
    run = refuge.simulate(model, seed=1)
    run.to_df("stocks")                          # tidy: date, state, value, run

Heavy libraries (NumPy, pandas, Numba, pydantic) load on first use, not on import.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["load", "simulate", "read", "compile_scenario", "ScenarioError", "__version__"]


def __getattr__(name: str):
    # Lazy: `import refuge` stays fast; the API is resolved when first touched.
    if name in ("load", "simulate"):
        from refuge import api as _sim

        return getattr(_sim, name)
    if name == "read":
        from refuge.scenario import read

        return read
    if name == "compile_scenario":
        from refuge.model.compiler import compile_scenario

        return compile_scenario
    if name == "ScenarioError":
        from refuge.errors import ScenarioError

        return ScenarioError
    raise AttributeError(f"module 'refuge' has no attribute {name!r}")
