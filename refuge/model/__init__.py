"""Compile a validated Scenario into the arrays the engines run (every name resolved, every error found)."""

from refuge.model.compiler import *  # noqa: F401,F403
from refuge.model.compiler import Model, compile_scenario, scenario_digest  # noqa: F401
