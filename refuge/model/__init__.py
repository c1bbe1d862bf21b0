"""Compile a validated Scenario into the arrays the engines run (every name resolved, every error found)."""

from refuge.model.compiler import *  # noqa: F403 (the package re-exports the module's public names)
from refuge.model.compiler import Model, compile_scenario, scenario_digest  # noqa: F401 (re-exported as the package's API)
