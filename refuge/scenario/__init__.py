"""Scenario files: the format (pydantic models), loading, the JSON Schema, and the built-in scenarios.

The first step of the flow: scenario file -> Scenario (validated) -> `refuge.model` (compiled).
"""

from refuge.scenario.format import *  # noqa: F403 (the package re-exports the module's public names)
from refuge.scenario.format import Scenario, builtin_path, parse, read  # noqa: F401 (re-exported as the package's API)
