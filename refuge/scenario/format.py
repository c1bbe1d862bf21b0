"""The scenario file format: declarative, validated, with calendar dates.

A scenario is YAML (or a dict). Pydantic checks the shape and the types of
every field; `refuge.model.compile_scenario` then resolves every name and
checks what needs the whole file (splits, loops, dates in the period).

Any number in a transition, arrival, site or rule may be written as a number
or as the name of a parameter; parameters may change over time through
schedules and rules.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from refuge.errors import Problem, ScenarioError
from refuge.scenario.limits import MAX_DAYS, MAX_LEVEL

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


# --- sources and priors -----------------------------------------------------------


class Reference(FormatModel):
    """A published document a scenario cites (an entry of its `sources:`), so that a reader can find it."""

    publisher: str = Field(description="e.g. BBC News, Voice of America, UNHCR")
    date: dt.date | None = Field(None, description="publication date (leave out if the document is undated)")
    headline: str = Field(description="the title as published")
    url: str = Field("", description="where it can be read, if known")
    author: str = ""
    note: str = Field("", description="e.g. how an undated document was dated")

    def citation(self) -> str:
        """'Publisher, 9 May 2002, "Headline". URL' (what a report prints)."""
        when = f"{self.date.day} {self.date:%B %Y}" if self.date else "undated"
        by = f", by {self.author}" if self.author else ""
        text = f'{self.publisher}, {when}, "{self.headline}"{by}.'
        return text + (f" {self.url}" if self.url else "") + (f" ({self.note})" if self.note else "")


class Source(FormatModel):
    """Where a number or a fact comes from: an entry of the scenario's `sources:` (`ref`), or a document kept
    beside the scenario file (`file`), and the fact, in our words."""

    ref: str | None = Field(None, description="the key of an entry of the scenario's `sources:`")
    file: str | None = Field(None, description="a document beside the scenario file")
    fact: str

    @model_validator(mode="after")
    def _one(self) -> "Source":
        self._one_of("a source", ("ref", "file"))
        return self

    @property
    def key(self) -> str:
        """How tables name the source: the reference key or the file name."""
        return self.ref if self.ref is not None else str(self.file)


class Prior(FormatModel):
    """A prior for calibration: uniform, loguniform or normal (truncated at low/high)."""

    dist: Literal["uniform", "loguniform", "normal"] = "uniform"
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> "Prior":
        from refuge.scenario.limits import MAX_PARAMETER

        if any(x is not None and not abs(x) <= MAX_PARAMETER for x in (self.low, self.high, self.mean, self.sd)):
            raise ValueError(f"prior bounds, mean and sd between -{MAX_PARAMETER:g} and {MAX_PARAMETER:g}")
        if self.dist in ("uniform", "loguniform"):
            if self.low is None or self.high is None:
                raise ValueError(f"a {self.dist} prior needs low and high")
            if not self.low < self.high:
                raise ValueError(f"prior low ({self.low}) must be below high ({self.high})")
            if self.dist == "loguniform" and self.low <= 0:
                raise ValueError("a loguniform prior needs low > 0")
        elif self.mean is None or self.sd is None or self.sd <= 0:
            raise ValueError("a normal prior needs mean and sd > 0")
        return self


class Parameter(FormatModel):
    """A named number of the scenario: its value, unit, where it comes from (`source`/`sources`, or
    `assumption: true`) and, for calibration, a `prior`. Transitions, sites and rules may name it."""

    value: float
    unit: str = ""
    description: str = ""
    prior: Prior | None = None
    source: Source | None = None
    sources: list[Source] = Field(default_factory=list)
    assumption: bool = False

    @field_validator("value")
    @classmethod
    def _sane(cls, v: float) -> float:
        from refuge.scenario.limits import MAX_PARAMETER

        if not abs(v) <= MAX_PARAMETER:
            raise ValueError(f"a value between -{MAX_PARAMETER:g} and {MAX_PARAMETER:g}")
        return v

    @model_validator(mode="after")
    def _traced(self) -> "Parameter":
        if self.source is None and not self.sources and not self.assumption:
            raise ValueError("every parameter needs a source (file and fact) or `assumption: true`")
        return self

    def all_sources(self) -> list[Source]:
        """`source` and `sources` together."""
        return ([self.source] if self.source else []) + list(self.sources)


# --- distributions ----------------------------------------------------------------


class Fixed(FormatModel):
    """A fixed time in state: `value` days."""

    dist: Literal["fixed"]
    value: Number


class Exponential(FormatModel):
    """Exponentially distributed with this `mean` (memoryless: the same as a constant daily rate)."""

    dist: Literal["exponential"]
    mean: Number


class Gamma(FormatModel):
    """Gamma distributed with this `mean` and standard deviation `sd`."""

    dist: Literal["gamma"]
    mean: Number
    sd: Number


class Lognormal(FormatModel):
    """Lognormal: `median`, and `sigma`, the standard deviation of the log."""

    dist: Literal["lognormal"]
    median: Number
    sigma: Number = Field(description="standard deviation of the log")


class Empirical(FormatModel):
    """A table: whole-number `values` drawn with relative `weights` (e.g. group sizes)."""

    dist: Literal["empirical"]
    values: list[int] = Field(min_length=1)
    weights: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _table(self) -> "Empirical":
        if len(self.values) != len(self.weights):
            raise ValueError(f"values has {len(self.values)} entries but weights has {len(self.weights)}")
        if any(not 0 <= w <= MAX_LEVEL for w in self.weights) or sum(self.weights) <= 0:
            raise ValueError(f"weights must be between 0 and {MAX_LEVEL:g}, and not all zero")
        if any(v < 0 for v in self.values):
            raise ValueError("values must be non-negative whole numbers")
        return self


Distribution = Annotated[Union[Fixed, Exponential, Gamma, Lognormal, Empirical], Field(discriminator="dist")]
DIST_TAGS = ("fixed", "exponential", "gamma", "lognormal", "empirical")


# --- structure --------------------------------------------------------------------


class Period(FormatModel):
    """A span of calendar days, `from` and `to` inclusive."""

    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        return self


class SiteClosure(Period):
    """A period a site is closed: to entry from outside it (moves between its own states go on), or, with
    `full_stop: true`, to every entry into its states, from outside or inside."""

    full_stop: bool = Field(False, description="also stop moves between the site's own states")


class Site(FormatModel):
    """A place whose room several states share, e.g. a mission's compound."""

    name: str
    capacity: Number | None = None
    closed: list[SiteClosure] = Field(default_factory=list, description="periods closed to entry from outside "
                                  "the site (`full_stop: true`: to every entry into its states)")
    description: str = ""
    supplies: dict[str, float] = Field(
        default_factory=dict, description="needs per person per day (meals, sleeping places, ...)"
    )

    @field_validator("supplies")
    @classmethod
    def _needs(cls, v: dict[str, float]) -> dict[str, float]:
        from refuge.scenario.limits import MAX_LEVEL

        bad = [k for k, x in v.items() if not 0 <= x <= MAX_LEVEL]
        if bad:
            raise ValueError(f"needs per person per day between 0 and {MAX_LEVEL:g} (`{bad[0][:40]}`)")
        return v


class State(FormatModel):
    """A place or condition people are in (hiding, a mission, custody, ...): its `kind`, the `site` whose room it
    shares, the people there at the start (`initial`), and periods it is `closed` to entry."""

    name: str
    kind: Literal["origin", "hiding", "refuge", "custody", "transit", "destination", "returned", "other"]
    site: str | None = None
    initial: Number = 0.0
    closed: list[Period] = Field(default_factory=list)
    track_stays: bool = Field(False, description="record each person's entry day even if exits are memoryless")
    description: str = ""


class Redirect(FormatModel):
    """Where a blocked move goes instead: `redirect: STATE`."""

    redirect: str


class SplitTarget(FormatModel):
    """One outcome of a split move: the target state `to` and its probability `p` (or `rest`)."""

    to: str
    p: Number | Literal["rest"]


class Throughput(FormatModel):
    """Processing capacity per period: at most `people` move in each period of `days` days (counted from the
    scenario's start); what is not used in a period is lost."""

    people: Number
    days: int = Field(1, ge=1)


class Transition(FormatModel):
    """A move out of a state (`from`): to one state (`to`) or several (`split`), at a constant daily `rate` or
    after a time in state (`duration`); optionally in groups (`group_size`); `when_blocked` by a full or closed
    target, people wait or are redirected."""

    name: str
    source: str = Field(alias="from")
    to: str | None = None
    split: list[SplitTarget] | None = None
    rate: Number | None = Field(None, description="constant daily hazard per person (or per group)")
    duration: Distribution | None = None
    group_size: Distribution | None = None
    when_blocked: Literal["wait"] | Redirect = "wait"
    capacity: Number | Throughput | None = Field(
        None, description="processing capacity: at most this many people a day move by this transition (or "
        "{people, days}: per period), first come first served; the others wait where they are")
    description: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> "Transition":
        if (self.to is None) == (self.split is None):
            raise ValueError("give exactly one of `to` (a state) or `split` (a list of {to, p})")
        if (self.rate is None) == (self.duration is None):
            raise ValueError("give exactly one of `rate` (daily hazard) or `duration` (time-in-state distribution)")
        if self.split is not None and len(self.split) < 2:
            raise ValueError("a split needs at least two targets")
        return self

    def targets(self) -> list[str]:
        """The states this transition can move people to (one, or each of a split)."""
        return [self.to] if self.to is not None else [s.to for s in self.split or []]


class Arrival(FormatModel):
    """People entering the system: Poisson counts per day (of groups when group_size is given)."""

    name: str
    to: str
    rate: Number
    group_size: Distribution | None = None
    period: Period | None = None
    when_blocked: Literal["wait"] | Redirect = "wait"
    description: str = ""


class Event(FormatModel):
    """A documented incident replayed as an input: a group of `size` enters `to` on `date`.

    Without `from` the group comes from outside the system (like an arrival); with `from` it is taken from
    that state (a counted one, such as people in hiding). The engine admits it like an arriving group: if
    the target is closed or full it waits (or is redirected) and tries again first the next day. A fact an
    event replays is an input, not evidence: the scenario may not also cite it in `evidence`.
    """

    name: str
    date: dt.date
    to: str = Field(description="a state, or a site with one state")
    size: Number = Field(description="people in the group (a number or a parameter name)")
    source_state: str | None = Field(None, alias="from", description="a counted state the group leaves "
                                                                     "(default: from outside the system)")
    when_blocked: Literal["wait"] | Redirect = "wait"
    source: Source | None = None
    sources: list[Source] = Field(default_factory=list)
    assumption: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _traced(self) -> "Event":
        if self.source is None and not self.sources and not self.assumption:
            raise ValueError("every event needs a source (file and fact) or `assumption: true`")
        return self

    def all_sources(self) -> list[Source]:
        """`source` and `sources` together."""
        return ([self.source] if self.source else []) + list(self.sources)


class SchedulePoint(FormatModel):
    """From `date` on, the parameter takes `value`."""

    date: dt.date
    value: Number = Field(description="a number, or the name of a parameter whose value (not its own schedule) "
                                      "the point takes, so that calibration can move it")


class Schedule(FormatModel):
    """A parameter's value over time: points by date, held (`step`) or interpolated (`linear`) between them."""

    parameter: str
    interpolation: Literal["step", "linear"] = "step"
    points: list[SchedulePoint] = Field(min_length=1)
    source: Source | None = None
    assumption: bool = False


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


MEASURE_KINDS = ("stock", "flow", "into", "arrivals", "longest_stay", "mean_stay", "share", "closed", "active")


class Measure(FormatModel):
    """What an evidence entry measures in a run."""

    stock: list[str] | None = Field(None, description="people in these states or sites on the date")
    flow: list[str] | None = Field(None, description="people moved along these transitions over the period")
    into: list[str] | None = Field(None, description="people entering these states or sites over the period "
                                   "(moves from outside the set, and arrivals)")
    arrivals: list[str] | None = Field(None, description="people arriving through these arrival streams")
    longest_stay: list[str] | None = Field(None, description="longest ongoing stay (days) in these states on the date")
    mean_stay: list[str] | None = Field(None, description="mean completed stay (days) of people leaving these states")
    share: list[str] | None = Field(None, description="numerator flows, as a share of `of`")
    of: list[str] | None = None
    closed: list[str] | None = Field(None, description="sites or states closed to entry: 1 or 0 on the date, "
                                     "or the share of days closed over the period")
    active: list[str] | None = Field(None, description="rules in force: 1 or 0 on the date, "
                                     "or the share of days any of them is on over the period")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Measure":
        self._one_of("a measure", MEASURE_KINDS)
        if (self.share is None) != (self.of is None):
            raise ValueError("`share` and `of` go together")
        return self

    @property
    def kind(self) -> str:
        """Which measure this is (`stock`, `flow`, ...): the one field that is set."""
        return self._one_of("a measure", MEASURE_KINDS)


class SeriesPoint(FormatModel):
    """One observation of a dated series: the value on (or for the period ending on) `date`."""

    date: dt.date
    value: float = Field(ge=0)


class Series(FormatModel):
    """A dated series cited as evidence: a CSV file (date,value) beside the scenario file, or inline points.

    For a stock the value is the count on each date; for a flow (or `into`, `arrivals`) the count over the
    period that ends on each date and starts the day after the previous date (the first from `from`, or the
    scenario's start).
    """

    file: str | None = Field(None, description="CSV with columns date,value (one header line allowed), "
                                               "relative to the scenario file")
    points: list[SeriesPoint] | None = Field(None, description="inline points (filled from `file` on reading)")
    first_from: dt.date | None = Field(None, alias="from", description="start of the first point's period "
                                                                        "(flows)")

    @model_validator(mode="after")
    def _given(self) -> "Series":
        if self.file is None and not self.points:
            raise ValueError("a series needs a `file` (CSV: date,value) or `points` ([{date, value}, ...])")
        return self


SERIES_MEASURES = ("stock", "flow", "into", "arrivals")


class Evidence(FormatModel):
    """A fact the scenario must reproduce: what is measured (`measure`), on a `date` or over a `period`, the
    `bound` the source states, and the source itself. `required` facts fail `refuge check` when they do not
    hold in the median run."""

    id: str
    source: Source
    date: dt.date | None = None
    period: Period | None = None
    measure: Measure
    series: Series | None = Field(None, description="a dated series (scored with ARD and interval coverage) "
                                                    "instead of one bounded value")
    group: str | None = Field(None, description="series of one group are also scored together (overall ARD)")
    bound: Literal["exact", "about", "at_least", "more_than", "at_most", "less_than", "range"] | None = None
    value: float | None = None
    tolerance: float | None = Field(None, description="for `about`: relative half-width (0.2 = ±20%)")
    low: float | None = None
    high: float | None = None
    required: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "Evidence":
        from refuge.scenario.limits import MAX_LEVEL

        if any(x is not None and not abs(x) <= MAX_LEVEL for x in (self.value, self.low, self.high, self.tolerance)):
            raise ValueError(f"value, low, high and tolerance between -{MAX_LEVEL:g} and {MAX_LEVEL:g}")
        if self.tolerance is not None and self.tolerance < 0:
            raise ValueError("a tolerance >= 0 (relative: 0.2 = ±20%)")
        kind = self.measure.kind
        if self.series is not None:
            if kind not in SERIES_MEASURES:
                raise ValueError(f"a series measures one of {', '.join(SERIES_MEASURES)}; found {kind}")
            if self.date is not None or self.bound is not None:
                raise ValueError("a series has no `date` or `bound` (its points are dated; it is scored by ARD); "
                                 "`period` may restrict the days scored")
            return self
        if self.group is not None:
            raise ValueError("`group` is for series evidence")
        if self.bound is None:
            raise ValueError("evidence needs a `bound` (exact, about, at_least, more_than, at_most, less_than, "
                             "range) or a `series`")
        if kind in ("closed", "active"):
            if (self.date is None) == (self.period is None):
                raise ValueError(f"a {kind} measure needs either a `date` or a `period` (from, to)")
        elif kind in ("stock", "longest_stay"):
            if self.date is None:
                raise ValueError(f"a {kind} measure needs a `date`")
        elif self.period is None:
            raise ValueError(f"a {kind} measure needs a `period` (from, to)")
        if self.bound == "range":
            if self.low is None or self.high is None or self.low > self.high:
                raise ValueError("a range bound needs low <= high")
        elif self.value is None:
            raise ValueError(f"a `{self.bound}` bound needs a `value`")
        if self.bound == "about" and self.tolerance is None:
            raise ValueError("an `about` bound needs a `tolerance` (relative, e.g. 0.25)")
        return self


# --- network movement (locations joined by routes, as Flee models flight to camps) ------------------------


class Location(FormatModel):
    """A state of the scenario that is a place on the route network."""

    state: str
    type: Literal["town", "camp", "idpcamp", "forward"] = Field(
        "town", description="a conflict zone is a town except while a `conflicts` entry makes it one; people "
                            "leave a forwarding hub (`forward`) the day they reach it")
    country: str = ""
    population: Number = Field(0.0, description="people living there: spawning weight while in conflict")
    capacity: Number | None = Field(None, description="camps: room (scaled by capacity_scaling) at which "
                                                      "attraction falls to zero")


class Route(FormatModel):
    """A route between two locations of a network, `km` long, travelled both ways."""

    between: list[str] = Field(min_length=2, max_length=2, description="two locations (both directions)")
    km: Number


class Conflict(FormatModel):
    """A location is a conflict zone over a period (to the end when `to` is left out), with an intensity."""

    location: str
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(None, alias="to")
    intensity: Number = 1.0


class Closure(FormatModel):
    """Routes shut for a period (both directions): between two countries, all routes of a location, or one route."""

    countries: list[str] | None = Field(None, min_length=2, max_length=2)
    location: str | None = None
    route: list[str] | None = Field(None, min_length=2, max_length=2)
    one_way: bool = Field(False, description="a route closed only from its first location to its second")
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(None, alias="to", description="last day closed (to the end when left out)")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Closure":
        self._one_of("a closure", ("countries", "location", "route"))
        return self


class Spawning(FormatModel):
    """New people at conflict zones: each day the increase of a cumulative total (a decrease is owed and
    offset against later increases), spread over active conflict zones by population x intensity x decay."""

    total: Series = Field(description="cumulative count: linearly interpolated, whole people")
    first_day: bool = Field(False, description="also spawn the total of the first day on that day")
    decay_interval: int = Field(30, ge=1, description="days per step of the decay by time since a conflict began")
    decay: list[float] = Field(default_factory=lambda: [1.0], min_length=1,
                               description="factor for each interval since the conflict began (last one holds)")


class Movement(FormatModel):
    """Flee's movement rules; every number may be a parameter name."""

    move_chance_conflict: Number = 1.0
    move_chance_town: Number = 0.3
    move_chance_camp: Number = 0.001
    move_chance_idpcamp: Number = 0.1
    speed: Number = Field(360.0, description="km a day on a route")
    walk_speed: Number = Field(35.0, description="km a day on a person's first route when start_on_foot")
    start_on_foot: bool = False
    avoid_short_stints: bool = Field(False, description="after arriving on a day with little travel, a "
                                     "town is left again at once")
    distance_softening: Number = 10.0
    distance_power: Number = 1.0
    weight_softening: Number = 0.0
    weight_power: Number = 1.0
    camp_weight: Number = 1.0
    conflict_weight: Number = 0.316227766
    foreign_weight: Number = 1.0
    capacity_buffer: Number = 0.9
    capacity_scaling: Number = 1.0
    awareness: Literal[0, 1] = Field(1, description="1: choose among neighbours by weight; 0: uniformly")


class Network(FormatModel):
    """Locations (states) joined by routes; people choose a neighbour by weights and take days to travel."""

    en_route: str = Field(description="the state that holds people travelling along a route")
    home_country: str | None = Field(None, description="locations elsewhere are foreign (default: the first "
                                                       "location's country)")
    locations: list[Location] = Field(min_length=1)
    routes: list[Route] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)
    spawning: Spawning | None = None
    movement: Movement = Field(default_factory=Movement)
    source: Source | None = None


class Variant(FormatModel):
    """A named what-if: parameter overrides, applied on top of the scenario."""

    name: str
    description: str = ""
    set: dict[str, float] = Field(default_factory=dict)


OUTCOME_KINDS = ("into", "flow", "arrivals", "mean", "peak", "end", "longest_stay")


class Outcome(FormatModel):
    """A figure of a whole run that `run --runs`, `compare`, `check` and the report show in the scenario's words.

    Totals (`into`, `flow`, `arrivals`) are also shown per calendar year. Without an `outcomes:` section a
    scenario gets defaults by state kind (entries into refuge, people in refuge, arrivals at a destination,
    people taken into custody, people returned); with one, exactly the outcomes it lists."""

    name: str = Field(description="short name: a column of tables and stores (`outcome:NAME`)")
    label: str = Field("", description="what people read, e.g. 'people registered at the camp'")
    unit: str = Field("", description="unit of the figure (default: people; days for longest_stay)")
    description: str = ""
    into: list[str] | None = Field(None, description="people entering these states or sites from outside them "
                                   "(moves and arrivals), over the whole period")
    flow: list[str] | None = Field(None, description="people moved along these transitions (or transition->target)")
    arrivals: list[str] | None = Field(None, description="people arriving through these arrival streams")
    mean: list[str] | None = Field(None, description="people in these states or sites, mean per day")
    peak: list[str] | None = Field(None, description="people in these states or sites on the fullest day")
    end: list[str] | None = Field(None, description="people in these states or sites on the last day")
    longest_stay: list[str] | None = Field(None, description="longest stay (days) in these states, whose time "
                                           "in state is tracked")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Outcome":
        self._one_of("an outcome", OUTCOME_KINDS)
        return self

    @property
    def kind(self) -> str:
        """Which outcome this is (`into`, `mean`, ...): the one field that is set."""
        return self._one_of("an outcome", OUTCOME_KINDS)


class Scenario(FormatModel):
    """A whole scenario file, validated: period, sites, states, transitions, arrivals, parameters, schedules,
    rules, evidence, variants, outcomes and sources. `refuge.model.compile_scenario` resolves its names."""

    name: str
    title: str = ""
    description: str = ""
    start: dt.date
    end: dt.date
    sites: list[Site] = Field(default_factory=list)
    states: list[State] = Field(min_length=1)
    transitions: list[Transition] = Field(default_factory=list)
    arrivals: list[Arrival] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list, description="documented incidents replayed as inputs")
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    schedules: list[Schedule] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    network: Network | None = None
    outcomes: list[Outcome] = Field(default_factory=list, description="what tables and reports show for a run, in "
                                    "the scenario's words (default: outcomes by state kind)")
    sources: dict[str, Reference] = Field(default_factory=dict, description="documents cited by `ref`: publisher, "
                                          "date, headline, URL")

    @model_validator(mode="after")
    def _period(self) -> "Scenario":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self

    @property
    def days(self) -> int:
        """Days in the scenario's period, both ends included."""
        return (self.end - self.start).days + 1

    def cite(self, source: Source) -> str:
        """A source as a reader can find it: the full citation of its reference (or its file), then the fact."""
        ref = self.sources.get(source.ref) if source.ref is not None else None
        where = ref.citation() if ref is not None else source.key
        return f"{where} — {source.fact}"

    def cited(self) -> list[tuple[str, Source]]:
        """Every source in the file, with its field path (parameters, schedules, rules, evidence, events)."""
        out: list[tuple[str, Source]] = []
        for name, p in self.parameters.items():
            if p.source is not None:
                out.append((f"parameters.{name}.source", p.source))
            out += [(f"parameters.{name}.sources[{k}]", s) for k, s in enumerate(p.sources)]
        for what, items in (("schedules", self.schedules), ("rules", self.rules), ("evidence", self.evidence),
                            ("events", self.events)):
            out += [(f"{what}[{i}].source", x.source) for i, x in enumerate(items) if x.source is not None]
        for i, ev in enumerate(self.events):
            out += [(f"events[{i}].sources[{k}]", s) for k, s in enumerate(ev.sources)]
        return out

    def with_values(self, values: dict[str, float]) -> "Scenario":
        """A copy with some parameter defaults replaced (what-ifs, calibration draws)."""
        unknown = [k for k in values if k not in self.parameters]
        if unknown:
            from refuge.errors import suggest

            hints = [f"{k}{suggest(k, self.parameters)}" for k in unknown]
            raise ScenarioError(self.name, [Problem("parameters", "a parameter of the scenario", h) for h in hints])
        from refuge.scenario.limits import MAX_PARAMETER

        bad = [k for k in values if not abs(float(values[k])) <= MAX_PARAMETER]
        if bad:
            raise ScenarioError(self.name, [Problem(f"parameters.{k}.value", f"a finite number between "
                                                    f"-{MAX_PARAMETER:g} and {MAX_PARAMETER:g}", values[k])
                                            for k in bad])
        params = {k: p.model_copy(update={"value": float(values[k])}) if k in values else p
                  for k, p in self.parameters.items()}
        return self.model_copy(update={"parameters": params})


# --- loading ------------------------------------------------------------------------


def parse(data: object, origin: str = "<scenario>") -> Scenario:
    """Validate a mapping into a Scenario, raising ScenarioError with field paths."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise ScenarioError(origin, [Problem("", "a mapping of scenario fields", type(data).__name__)])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError.from_pydantic(origin, exc, data) from None


# YAML 1.1 (PyYAML) reads a float only with a dot and a signed exponent (`5.0e-4`), so `5e-4` or `1E7`
# became strings. This is the YAML 1.2 core-schema pattern for floats, which accepts what people write.
_FLOAT_12 = r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$"""
_LOADER: type | None = None


def _loader() -> type:
    """A safe YAML loader (no Python objects) that reads YAML 1.2 floats such as `5e-4`."""
    global _LOADER
    if _LOADER is None:
        import re

        import yaml

        class Loader(_HardenedLoader, yaml.SafeLoader):
            pass

        # Drop the YAML 1.1 float resolver and add the 1.2 one (ints keep their own resolver, tried first).
        Loader.yaml_implicit_resolvers = {
            key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:float"]
            for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
        Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(_FLOAT_12, re.X),
                                     list("-+0123456789."))
        Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
        _LOADER = Loader
    return _LOADER


class _HardenedLoader:
    """What a scenario file may not do: repeat a key, nest deeper than MAX_DEPTH, hold more than MAX_NODES
    values once its aliases are expanded (`&a`/`*a` reuse a value; a few lines of nested aliases can
    stand for billions), let a value contain itself, or give an impossible date. Each is a YAML error
    with the line and column."""

    def compose_document(self):
        import yaml

        from refuge.scenario.limits import MAX_NODES

        node = super().compose_document()
        sizes: dict[int, int] = {}
        try:
            total = _expanded_size(node, sizes, set(), MAX_NODES)
        except _Cyclic as exc:
            raise yaml.composer.ComposerError(None, None, "a value that contains itself (through an alias)",
                                              exc.mark) from None
        except RecursionError:
            total = MAX_NODES + 1
        if total > MAX_NODES:
            raise yaml.composer.ComposerError(None, None, f"more than {MAX_NODES:,} values once aliases (*name) "
                                              "are expanded", node.start_mark)
        return node

    def compose_node(self, parent, index):
        import yaml
        from yaml.events import AliasEvent

        from refuge.scenario.limits import MAX_DEPTH, MAX_NODES

        event = self.peek_event()
        if isinstance(event, AliasEvent):
            return super().compose_node(parent, index)
        self._depth = getattr(self, "_depth", 0) + 1
        self._nodes = getattr(self, "_nodes", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels",
                                                  event.start_mark)
            if self._nodes > MAX_NODES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_NODES:,} values in one file",
                                                  event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        import yaml

        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class says so
                duplicate = False
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key `{str(key)[:60]}` a second time (keys are unique; the second would silently "
                    "win)", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        import yaml

        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(None, None, f"`{str(node.value)[:40]}`, which is not a "
                                                    "calendar date", node.start_mark) from None



class _Cyclic(Exception):
    def __init__(self, mark):
        self.mark = mark


def _expanded_size(node, sizes: dict[int, int], open_: set[int], cap: int) -> int:
    """Values under `node` with every alias expanded, counted once per shared node (stops past `cap`)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise _Cyclic(node.start_mark)
    open_.add(key)
    total = 1
    value = node.value if isinstance(node.value, list) else []
    for item in value:
        for child in (item if isinstance(item, tuple) else (item,)):
            total += _expanded_size(child, sizes, open_, cap)
            if total > cap:
                break
        if total > cap:
            break
    open_.discard(key)
    sizes[key] = total
    return total


def _flow_depth_check(text: str) -> None:
    """Refuse deep `[[[...` / `{{{...` before PyYAML's scanner, whose cost grows with the square of the depth."""
    import re

    import yaml

    from refuge.scenario.limits import MAX_DEPTH

    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    plain = re.sub(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*", lambda m: " " * len(m.group()), text)
    depth = 0
    for m in re.finditer(r"[\[\]{}]", plain):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_DEPTH:
            i = m.start()
            line = text.count("\n", 0, i)
            mark = yaml.error.Mark("<scenario>", i, line, i - (text.rfind("\n", 0, i) + 1), None, None)
            raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
        depth = max(depth, 0)


def load_yaml(text: str) -> object:
    """Parse YAML text safely (never Python objects), reading `5e-4` and `1E7` as numbers."""
    import yaml

    _flow_depth_check(text)
    return yaml.load(text, Loader=_loader())


def read(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file."""
    import yaml

    from refuge.scenario.limits import MAX_FILE_BYTES

    p = Path(path)
    if not p.exists():
        raise ScenarioError(str(p), [Problem("", "an existing scenario file", "no such file")])
    if p.is_dir():
        raise ScenarioError(str(p), [Problem("", "a scenario file (YAML)", "a directory")])
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(str(p), [Problem("", f"a scenario file of at most {MAX_FILE_BYTES / 2**20:g} MB "
                                                 "(long data belong in a series CSV)",
                                                 f"{p.stat().st_size / 2**20:,.1f} MB")])
        data = load_yaml(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(str(p), [Problem(where, "valid YAML", str(getattr(exc, "problem", exc))[:200])]) \
            from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(p), [Problem("", "UTF-8 text", str(exc)[:200])]) from None
    except (OSError, RecursionError) as exc:
        raise ScenarioError(str(p), [Problem("", "a readable scenario file", str(exc)[:200])]) from None
    from refuge.scenario.series import attach_series

    sc, problems = attach_series(parse(data, str(p)), p.parent)
    if problems:
        raise ScenarioError(str(p), problems)
    return sc


def builtin_path(name: str = "north-korea-china") -> Path:
    """The file of a built-in scenario (it may not exist: see `builtin_names`)."""
    return Path(__file__).parent / "builtin" / f"{name}.yaml"


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with refuge (`refuge run NAME`, `refuge.load(NAME)`)."""
    return sorted(p.stem for p in (Path(__file__).parent / "builtin").glob("*.yaml"))


def json_schema() -> dict:
    """The JSON Schema of the scenario format (`refuge schema`), for editors' validation and completion."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "refuge scenario"
    return schema
