"""What a policy search is asked (`refuge optimize`): levers, objectives and constraints with a probability.

A spec is a small YAML file (or the same mapping from Python)::

    scenario: uk-asylum          # a built-in name or a path (the command's argument wins)
    until: 2025-12-31            # run past the scenario's end (schedules hold their last value)
    runs: 40                     # runs per candidate, seeds seed..seed+runs-1 for every candidate
    trials: 40                   # candidates the search tries
    levers:
      - name: capacity
        parameters: [capacity_supported, capacity_unsupported]   # moved together
        from: 2024-01-01         # from this date (earlier points of their schedules stay)
        low: 100
        high: 1500
        step: 10                 # optional: a grid
        cost: 1                  # cost per unit of the lever's value (objective `cost`)
    objective: {minimize: cost}  # or {maximize: LEVER}, or {minimize: MEASURE} (its mean over the runs)
    constraints:
      - measure: {stock: [waiting_dispersal, waiting_hotel, waiting_unsupported, flow_dispersal, flow_hotel,
                          flow_unsupported], date: 2025-12-31}
        at_most: 50000
        probability: 0.9

Drivers (optional) make what is not known beyond the data drift at random, each run its own walk::

    drivers:
      - {parameter: claims_per_day, from: 2024-01-01, every: 91, sd: 0.15}   # log random walk, a step a quarter

Measures: `stock: [states or sites]` on a `date`; `peak: [...]` (the largest daily count) and `flow:
[transitions]` (people moved) over `from`..`to` (default: the whole run); `room: [sites]` (or `all`): the
largest share of its room any of the sites reaches over the period (1 means full); `clear: [states or sites]`
with `below: N`: the days from `from` (default: the start) to the first day their people number at most N (a
run that never gets there counts the days to its end plus one: later than any day the run can name).

A Pareto front instead of one answer: `objectives:` (two or more) instead of `objective:`, e.g. cost against
the time to clear a backlog with 90% probability (`probability` on a measure's objective: the value the runs
reach in that share of runs, not their mean); see `refuge.inference.optimize_front`::

    objectives:
      - {minimize: cost}
      - {minimize: {clear: [waiting], below: 50000, from: 2024-01-01}, probability: 0.9}
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from refuge.errors import RefugeError

MAX_TRIALS = 10_000
MAX_RUNS = 100_000


class SpecModel(BaseModel):
    """Base of the spec's parts: unknown fields are refused, `from` is accepted for `start`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Lever(SpecModel):
    """A policy lever: one value given to one or more parameters, from a date or throughout."""

    name: str
    parameters: list[str] = Field(min_length=1)
    start: dt.date | None = Field(None, alias="from")
    low: float
    high: float
    step: float | None = Field(None, gt=0)
    log: bool = False
    cost: float = 0.0

    @model_validator(mode="after")
    def _range(self) -> "Lever":
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log lever needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("give either `step` or `log`, not both")
        return self


KINDS = ("stock", "peak", "flow", "room", "clear")


class Measure(SpecModel):
    """What is read from each run (see the module's docstring)."""

    stock: list[str] | None = None
    peak: list[str] | None = None
    flow: list[str] | None = None
    room: list[str] | Literal["all"] | None = None
    clear: list[str] | None = None
    below: float | None = Field(None, ge=0, allow_inf_nan=False)
    date: dt.date | None = None
    start: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None

    @model_validator(mode="after")
    def _one(self) -> "Measure":
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of stock, peak, flow, room, clear")
        if (self.clear is None) != (self.below is None):
            raise ValueError("`clear` needs `below` (the count that counts as cleared), and `below` is for `clear`")
        if self.start and self.to and self.to < self.start:
            raise ValueError(f"`to` ({self.to}) is before `from` ({self.start})")
        if self.stock is not None and self.date is None:
            raise ValueError("a stock measure needs a `date`")
        if self.stock is None and self.date is not None:
            raise ValueError("`date` is for a stock; give `from`/`to` for a period")
        return self

    @property
    def kind(self) -> str:
        """Which measure this is: stock, peak, flow or room."""
        return next(k for k in KINDS if getattr(self, k) is not None)

    def label(self) -> str:
        """How tables name the measure: its kind, names and date or period."""
        names = self.room if self.room == "all" else ", ".join(getattr(self, self.kind))
        if self.clear is not None:
            return f"days from {self.start or 'start'} until {names} <= {self.below:g}"
        when = f" on {self.date}" if self.date else (f" {self.start or 'start'}..{self.to or 'end'}"
                                                     if self.start or self.to else "")
        return f"{self.kind} {names}{when}"


class Constraint(SpecModel):
    """A measure's bound that must hold with at least `probability` (the share of runs where it holds)."""

    measure: Measure
    at_most: float | None = None
    less_than: float | None = None
    at_least: float | None = None
    more_than: float | None = None
    probability: float = Field(0.9, gt=0, le=1)

    @model_validator(mode="after")
    def _one(self) -> "Constraint":
        if sum(x is not None for x in (self.at_most, self.less_than, self.at_least, self.more_than)) != 1:
            raise ValueError("give exactly one bound: at_most, less_than, at_least or more_than")
        return self

    def holds(self, x: Any) -> Any:
        """Elementwise: does the bound hold for the values `x`?"""
        if self.at_most is not None:
            return x <= self.at_most
        if self.less_than is not None:
            return x < self.less_than
        if self.at_least is not None:
            return x >= self.at_least
        return x > self.more_than

    def label(self) -> str:
        """The constraint in words: measure, bound and probability."""
        for word, v in (("<=", self.at_most), ("<", self.less_than), (">=", self.at_least), (">", self.more_than)):
            if v is not None:
                return f"{self.measure.label()} {word} {v:g} with probability >= {self.probability:g}"
        return ""


class Objective(SpecModel):
    """`minimize` or `maximize`: `cost`, a lever's name, or a measure (its mean over the runs)."""

    minimize: str | Measure | None = None
    maximize: str | Measure | None = None
    probability: float | None = Field(None, gt=0, lt=1, description="a measure's value reached in this share of "
                                      "runs (minimize: not exceeded; maximize: reached or exceeded), not its mean")
    name: str | None = Field(None, max_length=120, description="what tables and figures call it (default: the "
                             "objective in words)")

    @model_validator(mode="after")
    def _one(self) -> "Objective":
        if (self.minimize is None) == (self.maximize is None):
            raise ValueError("give exactly one of minimize or maximize")
        if self.probability is not None and not isinstance(self.target, Measure):
            raise ValueError("`probability` is for a measure's objective (cost and levers are not random)")
        return self

    def of_runs(self, x: Any) -> float:
        """The objective from one value a run: the mean, or the value reached with `probability`."""
        import numpy as np

        x = np.sort(np.asarray(x, dtype=float))
        if self.probability is None:
            return float(np.mean(x))
        k = max(int(np.ceil(self.probability * len(x) - 1e-9)), 1)  # runs that must reach the value
        # minimize: the smallest value at or above which no more than 1 - p of the runs lie; maximize: the largest
        # value reached or passed in at least a share p of the runs
        return float(x[k - 1] if self.direction == "minimize" else x[len(x) - k])

    @property
    def target(self) -> str | Measure:
        """What is optimised: `cost`, a lever's name, or a measure."""
        return self.minimize if self.minimize is not None else self.maximize

    @property
    def direction(self) -> str:
        """`minimize` or `maximize`."""
        return "minimize" if self.minimize is not None else "maximize"

    def label(self) -> str:
        """The objective in words."""
        t = self.target
        if isinstance(t, str):
            return f"{self.direction} {t}"
        if self.probability is None:
            return f"{self.direction} mean {t.label()}"
        return f"{self.direction} {t.label()} (reached with probability {self.probability:g})"


class Driver(SpecModel):
    """A parameter that drifts from a date on: a random walk of its logarithm, one step every `every` days with
    standard deviation `sd`, starting from `value` (default: the value its schedule or default gives before
    `from`). Each run draws its own walk from its seed and the parameter's name, the same for every candidate."""

    parameter: str
    start: dt.date = Field(alias="from")
    every: int = Field(91, ge=1, le=3660)
    sd: float = Field(ge=0, le=2)
    value: float | None = Field(None, ge=0)


class OptimizeSpec(SpecModel):
    """A whole policy search."""

    scenario: str | None = None
    until: dt.date | None = None
    runs: int = Field(40, ge=2, le=MAX_RUNS)
    check_runs: int = Field(200, ge=2, le=MAX_RUNS, description="fresh seeds the answer is re-checked on")
    trials: int = Field(40, ge=1, le=MAX_TRIALS)
    seed: int = Field(0, ge=0, le=2**31)
    set: dict[str, float] = Field(default_factory=dict, description="parameter values for every candidate")
    drivers: list[Driver] = Field(default_factory=list, description="parameters that drift at random, per run")
    levers: list[Lever] = Field(min_length=1)
    objective: Objective | None = None
    objectives: list[Objective] | None = Field(None, min_length=2, max_length=4,
                                               description="a Pareto front of these (instead of `objective`)")
    constraints: list[Constraint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> "OptimizeSpec":
        names = [lv.name for lv in self.levers]
        if len(set(names)) != len(names):
            raise ValueError("lever names must differ")
        if (self.objective is None) == (self.objectives is None):
            raise ValueError("give exactly one of `objective` (one answer) or `objectives` (a Pareto front)")
        for i, o in enumerate(self.objectives or [self.objective]):
            t = o.target
            where = "objective" if self.objectives is None else f"objectives.{i}"
            if isinstance(t, str) and t != "cost" and t not in names:
                raise ValueError(f"{where}: expected `cost`, a lever's name ({', '.join(names)}) or a measure; "
                                 f"found {t}")
        return self

    @property
    def measures(self) -> list[Measure]:
        """What each run is measured for: the constraints' measures, then the objectives' (in order)."""
        out = [k.measure for k in self.constraints]
        return out + [o.target for o in (self.objectives or [self.objective]) if isinstance(o.target, Measure)]


def parse_spec(data: object, origin: str = "<spec>") -> OptimizeSpec:
    """Validate a mapping; a problem is one line per field naming `origin`."""
    if not isinstance(data, dict):
        raise RefugeError(f"{origin}: expected a mapping of optimisation fields; found {type(data).__name__}")
    try:
        return OptimizeSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e["loc"]) or "(top)"
            lines.append(f"  {where}: {e['msg'].removeprefix('Value error, ')}")
        raise RefugeError(f"{origin}: {len(lines)} problem{'s' * (len(lines) > 1)}\n" + "\n".join(lines)) from None


def read_spec(path: str | Path) -> OptimizeSpec:
    """Read a spec file (YAML, with the scenario format's hardened loader)."""
    from refuge.scenario import load_yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefugeError(f"{p}: cannot read the optimisation spec ({exc.__class__.__name__}: {exc})") from None
    if len(text) > 1_000_000:
        raise RefugeError(f"{p}: an optimisation spec of at most 1 MB; found {len(text):,} characters")
    try:
        data = load_yaml(text)
    except RefugeError:
        raise
    except Exception as exc:  # the loader's own errors name a line; anything else is still the file's fault
        raise RefugeError(f"{p}: expected valid YAML; {exc}") from None
    return parse_spec(data, str(p))
