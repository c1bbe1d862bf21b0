"""The base of the scenario format: `FormatModel` (unknown fields and NaN refused), `Number`, the state kinds;
`FormatPart`, what a mechanism adds to the format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Union

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

Number = Union[float, str]
"""A literal number, or the name of a parameter."""


STATE_KINDS = ("origin", "hiding", "refuge", "custody", "transit", "destination", "returned", "other")


# Text a user writes reaches terminals, tables, reports, pages and files. Refused everywhere: control characters
# (an escape sequence would recolour or clear the terminal `refuge check` prints to; a carriage return would
# overwrite what was printed), Unicode's line and paragraph separators, and the bidirectional overrides and
# isolates (they make text read differently from what it is). Free text (FREE_TEXT fields) may have line breaks
# and tabs, as YAML's block scalars give them; names, references and keys may not.
HOSTILE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
HOSTILE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FREE_TEXT = frozenset({"description", "note", "fact", "title", "label", "headline", "publisher", "author"})


def hostile(text: str, free: bool = False) -> str | None:
    """What is wrong with a user's text, or None: the first character refused and where it is."""
    bad = (HOSTILE if free else HOSTILE_IN_NAMES).search(text)
    if bad is None:
        return None
    return f"{bad.group()!r} at character {bad.start() + 1}"


def _refuse(expected: str, text: str, found: str, where: str = "") -> None:
    raise PydanticCustomError("hostile_text", "{expected}", {
        "expected": expected, "found": f"{found}{where}: {text!r}"})


def _plain(value: Any, free: bool, where: str = "") -> None:
    """Refuse hostile text in a field's value: a string, or the strings and keys of a list or mapping."""
    if isinstance(value, str):
        found = hostile(value, free)
        if found:
            _refuse(f"{'text' if free else 'a name or reference'} without control characters"
                    f"{'' if free else ' or line breaks'}", value, found, where)
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            _plain(item, free, f"{where} in [{k}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found = hostile(key) if isinstance(key, str) else None
            if found:
                _refuse("names without control characters or line breaks", key, found, f"{where} in the name")
            _plain(item, free, f"{where} in `{key}`")


class FormatModel(BaseModel):
    """The base of every part of the scenario format: an unknown field is an error, not ignored, NaN or
    infinity is refused (no field has a meaning for them), and so is hostile text in any field (`HOSTILE`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_hostile_text(cls, value: Any, info: ValidationInfo) -> Any:
        _plain(value, info.field_name in FREE_TEXT)
        return value

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
