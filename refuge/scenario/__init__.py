"""Scenario files: the format (pydantic models), loading, the JSON Schema, and the built-in scenarios.

The first step of the flow: scenario file -> Scenario (validated) -> `refuge.model` (compiled).

The package's names (those of `refuge.scenario.format`) load on first use, so that a mechanism's part of the
format (`refuge/sim/mechanisms/NAME/format.py`, which imports `refuge.scenario.base`) can be imported first: the
format is then built with it (`refuge.scenario.extend`), not while it is half made.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


def __getattr__(name: str) -> Any:
    names = import_module("refuge.scenario.format")
    if name in names.__all__:
        return getattr(names, name)
    raise AttributeError(f"module 'refuge.scenario' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(import_module("refuge.scenario.format").__all__)
