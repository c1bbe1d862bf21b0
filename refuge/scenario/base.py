"""The base of the scenario format: `FormatModel` (unknown fields and NaN refused), `Number`, the state kinds;
`FormatPart`, what a mechanism adds to the format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union

from pydantic import BaseModel, ConfigDict

Number = Union[float, str]
"""A literal number, or the name of a parameter."""


STATE_KINDS = ("origin", "hiding", "refuge", "custody", "transit", "destination", "returned", "other")


class FormatModel(BaseModel):
    """The base of every part of the scenario format: an unknown field is an error, not ignored, and NaN or
    infinity is refused (no field has a meaning for them)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    def _one_of(self, what: str, keys: tuple[str, ...]) -> str:
        """The one field of `keys` that is set; a ValueError naming them when none or several are."""
        given = [k for k in keys if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"{what} needs exactly one of {', '.join(keys)} (found {given or 'none'})")
        return given[0]


@dataclass(frozen=True)
class FormatPart:
    """What a mechanism of the simulation core adds to the format, declared once in its own folder
    (`refuge/sim/mechanisms/NAME/format.py`, as `PART`) and joined into the format by `refuge.scenario.extend`:

    - `fields`: per part of the file (`"transition"`, `"state"`, `"site"`), the fields it adds: name -> (type,
      pydantic `Field`); they come after the part's own fields, in the JSON Schema too;
    - `checks`: per part, checks that need nothing but that part (each raises a ValueError with its message);
    - `tracks`: whether a transition with its fields needs its source state's people one by one, with their day
      of entry (the compiler then tracks that state);
    - `words`: what it says about a transition, in a few words for the page ("": nothing).
    """

    name: str
    fields: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)
    checks: dict[str, tuple[Callable[[Any], None], ...]] = field(default_factory=dict)
    tracks: Callable[[Any], bool] | None = None
    words: Callable[[Any], str] | None = None
