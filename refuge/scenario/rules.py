"""Rules in the scenario format: a signal watched each day, the levels that switch a rule on and off, and
what it does while on (close a site or state, set or multiply a parameter)."""

from __future__ import annotations

from pydantic import Field, model_validator

from refuge.scenario.base import FormatModel, Number
from refuge.scenario.limits import MAX_DAYS
from refuge.scenario.sources import Source
from refuge.scenario.structure import Period


class Signal(FormatModel):
    """What a rule watches, computed each day from the state at the end of the day before."""

    occupancy: str | None = Field(None, description="a site: people in its states")
    stock: list[str] | None = Field(None, description="states: people in them")
    kind: str | None = Field(None, description="a state kind: people in states of that kind")
    flow: list[str] | None = Field(None, description="transitions (or transition->target): people moved")
    window: int = Field(30, ge=1, le=MAX_DAYS, description="trailing window of a flow signal, days")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Signal":
        self._one_of("a signal", ("occupancy", "stock", "kind", "flow"))
        return self


class SetAction(FormatModel):
    """While the rule is on, the parameter takes `value`."""

    parameter: str
    value: Number


class MultiplyAction(FormatModel):
    """While the rule is on, the parameter is multiplied `by` this factor."""

    parameter: str
    by: Number


class Action(FormatModel):
    """What a rule does while it is on: `close` a site or state to entry, `set` or `multiply` a parameter."""

    close: str | None = Field(None, description="a site or a state closed to entry while the rule is active "
                              "(a site: to entry from outside it)")
    full_stop: bool = Field(False, description="with `close: SITE`: also stop moves between the site's states")
    set: SetAction | None = None
    multiply: MultiplyAction | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "Action":
        self._one_of("an action", ("close", "set", "multiply"))
        return self


class Rule(FormatModel):
    """A latch: on when the signal reaches `above`, off when it falls to `below` (hysteresis)."""

    name: str
    signal: Signal
    above: Number
    below: Number | None = None
    min_days: int = Field(0, ge=0, le=MAX_DAYS, description="stay on at least this many days")
    actions: list[Action] = Field(min_length=1)
    period: Period | None = Field(None, description="the rule is evaluated only within this period")
    description: str = ""
    source: Source | None = None
    assumption: bool = False
