"""The structure of a scenario: periods, sites, states, transitions (with their capacities), arrivals and
events."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from refuge.scenario.base import FormatModel, Number
from refuge.scenario.distributions import Distribution
from refuge.scenario.extend import extended
from refuge.scenario.limits import MAX_LEVEL
from refuge.scenario.sources import Source

LABEL_CHARS = 60  # a label titles panels, table rows and the page's charts: a few words


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _no_control(v: str) -> str:
    """Names and labels reach terminals, tables and pages: no control characters (an escape sequence in a file
    must not recolour or clear the terminal `refuge check` prints to)."""
    bad = _CONTROL.search(v)
    if bad:
        raise ValueError(f"text without control characters (found {bad.group()!r} at character {bad.start() + 1})")
    return v


def _label(v: str) -> str:
    """A label is one line of a few words (what panels, tables and the page call the thing)."""
    text = " ".join(_no_control(v.replace("\n", " ").replace("\t", " ")).split())
    if v and not text:
        raise ValueError("a label with words in it (or no `label:`)")
    if len(text) > LABEL_CHARS:
        raise ValueError(f"a label of at most {LABEL_CHARS} characters (found {len(text)}): say more in "
                         "`description`, which goes to the caption")
    return text


LABEL_HELP = ("what panels, tables, check and the page call it (default: its name); a few words, up to "
              f"{LABEL_CHARS} characters; `description` goes to the caption")


class Labelled(FormatModel):
    """A part with a name, an optional `label` that titles it wherever it is shown, and a description."""

    name: str
    label: str = Field("", description=LABEL_HELP)

    @field_validator("label")
    @classmethod
    def _one_line(cls, v: str) -> str:
        return _label(v)

    @field_validator("name")
    @classmethod
    def _printable(cls, v: str) -> str:
        return _no_control(v)

    @property
    def title(self) -> str:
        """What people read: the label, else the name."""
        return self.label or self.name


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


class Site(Labelled):
    """A place whose room several states share, e.g. a mission's compound."""

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
        bad = [k for k, x in v.items() if not 0 <= x <= MAX_LEVEL]
        if bad:
            raise ValueError(f"needs per person per day between 0 and {MAX_LEVEL:g} (`{bad[0][:40]}`)")
        return v


Site = extended(Site, "site")  # type: ignore[misc]  # with the fields mechanisms add (refuge.scenario.extend)


class State(Labelled):
    """A place or condition people are in (hiding, a mission, custody, ...): its `kind`, the `site` whose room it
    shares (or the route network's location it is `at`), the people there at the start (`initial`), and periods
    it is `closed` to entry."""

    kind: Literal["origin", "hiding", "refuge", "custody", "transit", "destination", "returned", "other"]
    site: str | None = None
    at: str | None = Field(None, description="a location of the route network its people are at (processing "
                           "there): they count in its population, its room and a stock of it, and do not move "
                           "by the network's rules")
    initial: Number = 0.0
    closed: list[Period] = Field(default_factory=list)
    track_stays: bool = Field(False, description="record each person's entry day even if exits are memoryless")
    description: str = ""


State = extended(State, "state")  # type: ignore[misc]


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


class Transition(Labelled):
    """A move out of a state (`from`): to one state (`to`) or several (`split`), at a constant daily `rate` or
    after a time in state (`duration`); optionally in groups (`group_size`); `when_blocked` by a full or closed
    target, people wait or are redirected."""

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
    whole: bool = Field(False, description="groups stay whole at the capacity: a group bigger than what is left "
                        "of it waits for a period with room for all (default: the step serves people, so a group "
                        "is split at the capacity and the rest wait for the next period)")
    description: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> "Transition":
        if (self.to is None) == (self.split is None):
            raise ValueError("give exactly one of `to` (a state) or `split` (a list of {to, p})")
        if (self.rate is None) == (self.duration is None):
            raise ValueError("give exactly one of `rate` (daily hazard) or `duration` (time-in-state distribution)")
        if self.split is not None and len(self.split) < 2:
            raise ValueError("a split needs at least two targets")
        if self.whole and self.capacity is None:
            raise ValueError("`whole` needs a `capacity` (groups are kept whole or split only at a capacity)")
        return self

    def targets(self) -> list[str]:
        """The states this transition can move people to (one, or each of a split)."""
        return [self.to] if self.to is not None else [s.to for s in self.split or []]


Transition = extended(Transition, "transition")  # type: ignore[misc]  # with the mechanisms' fields


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
