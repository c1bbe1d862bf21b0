"""Which parameters a scenario reads: one that nothing names is a likely slip (a typo, a leftover), worth a warning."""

from __future__ import annotations

from typing import Any

# Fields that name a parameter to write it (a schedule, a rule's set/multiply), not to read it.
_WRITES = {"parameter"}
# Sections that do not read parameters: their own definitions, what-ifs, sources, evidence, outcomes.
_SKIP = {"parameters", "variants", "sources", "evidence", "outcomes", "name", "title", "description"}


def unused_parameters(scenario: Any) -> list[str]:
    """Parameters that no field of the scenario reads (a transition, site, state, arrival, event, schedule point,
    rule or the network), in the order declared. A parameter that is only scheduled or set by rules is unused
    too: nothing reads the values given to it."""
    data = scenario.model_dump(mode="json", by_alias=True)
    names = set(scenario.parameters)
    used: set[str] = set()
    for key, value in data.items():
        if key not in _SKIP:
            _collect(value, names, used)
    return [n for n in scenario.parameters if n not in used]


def _collect(value: Any, names: set[str], used: set[str]) -> None:
    if isinstance(value, str):
        if value in names:
            used.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in _WRITES and k not in ("name", "description", "source", "sources"):
                _collect(v, names, used)
    elif isinstance(value, list):
        for v in value:
            _collect(v, names, used)
