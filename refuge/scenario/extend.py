"""The parts of the format that the mechanisms of the simulation core add.

A mechanism that needs fields of its own declares them in its folder, `refuge/sim/mechanisms/NAME/format.py`,
as `PART` (a `refuge.scenario.base.FormatPart`): the fields, their checks, whether they need people tracked one
by one, and their words for the page. `PARTS` below is the format's union, the one line here a new mechanism
adds; the rest is generic: `extended` adds the fields and checks to a part of the file (`structure.py` calls
it for transitions, states and sites), `tracks_source` is what the compiler asks, `transition_words` what the
page shows, `added_fields` what a scenario's digest leaves out when it is not used.

A mechanism's `format.py` sits in the format's layer (`tests/test_imports.py`): it imports only the base of the
format (and pydantic), never the engine.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

from pydantic import create_model, model_validator

from refuge.scenario.base import FormatModel, FormatPart

PARTS = ("order",)  # the format's union: the mechanisms with a format.py (refuge/sim/mechanisms/NAME/format.py)


@cache
def parts() -> tuple[FormatPart, ...]:
    """Each mechanism's `PART`, in the order of `PARTS`."""
    return tuple(import_module(f"refuge.sim.mechanisms.{name}.format").PART for name in PARTS)


def _after(check: Any) -> Any:
    def run(self: Any) -> Any:
        check(self)
        return self

    return model_validator(mode="after")(run)


def extended(base: type[FormatModel], where: str) -> type[FormatModel]:
    """`base` (the part of the file `where` names) with the fields and checks the mechanisms add to it; `base`
    itself when they add none. The class keeps its name, module and description."""
    fields = {name: spec for p in parts() for name, spec in p.fields.get(where, {}).items()}
    checks = [c for p in parts() for c in p.checks.get(where, ())]
    if not fields and not checks:
        return base
    validators = {f"_part_check_{k}": _after(c) for k, c in enumerate(checks)}
    return create_model(base.__name__, __base__=base, __module__=base.__module__, __doc__=base.__doc__,
                        __validators__=validators, **fields)


def tracks_source(transition: Any) -> bool:
    """Whether a mechanism needs the people waiting for `transition` one by one (with their day of entry)."""
    return any(p.tracks is not None and p.tracks(transition) for p in parts())


def transition_words(transition: Any) -> str:
    """What the mechanisms say about `transition` for a reader ("served newest first"); "" for nothing."""
    said = (p.words(transition) if p.words is not None else "" for p in parts())
    return ", ".join(s for s in said if s)


def added_fields() -> tuple[str, ...]:
    """The names of the fields the mechanisms add, on any part of the file."""
    return tuple(name for p in parts() for fields in p.fields.values() for name in fields)
