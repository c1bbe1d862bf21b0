"""Scenario files: the format (pydantic models), loading, the JSON Schema, and the built-in scenarios.

The first step of the flow: scenario file -> Scenario (validated) -> `refuge.model` (compiled).
"""

from refuge.scenario.format import *  # noqa: F401,F403
from refuge.scenario.format import builtin_path, parse, read, Scenario  # noqa: F401
