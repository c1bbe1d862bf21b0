"""The base of the scenario format: `FormatModel` (unknown fields and NaN refused), `Number`, the state kinds."""

from __future__ import annotations

from typing import Union

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
