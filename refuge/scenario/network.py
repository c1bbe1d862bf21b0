"""Network movement in the scenario format: locations joined by routes, conflicts, closures, spawning and
the movement rules (as Flee models flight to camps)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from refuge.scenario.base import FormatModel, Number
from refuge.scenario.evidence import Series
from refuge.scenario.sources import Source


class Location(FormatModel):
    """A state of the scenario that is a place on the route network."""

    state: str
    type: Literal["town", "camp", "idpcamp", "forward", "marker", "flood_zone"] = Field(
        "town", description="a conflict zone is a town except while a `conflicts` entry makes it one; people "
                            "leave a forwarding hub (`forward`) the day they reach it; a `marker` (Flee's) is a "
                            "point on the way that nobody sets out for: route choice looks past it to the places "
                            "beyond (over the length through it), and people pass it on their way; a "
                            "`flood_zone` (Flee's) is a town whose score takes its flood weight every day (also "
                            "at level 0) and that a short stint does not make people leave")
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
    """Routes shut for a period (both directions): between two countries, all routes of a location, or one route;
    or a camp closed as a camp (Flee's camp closure): for the period it works as a town (no camp weight, a town's
    move chance, never too full to set out for), and routes into it stay open."""

    countries: list[str] | None = Field(None, min_length=2, max_length=2)
    location: str | None = None
    route: list[str] | None = Field(None, min_length=2, max_length=2)
    camp: str | None = Field(None, description="a camp (or IDP camp) that works as a town for the period")
    one_way: bool = Field(False, description="a route closed only from its first location to its second")
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(None, alias="to", description="last day closed (to the end when left out)")

    @model_validator(mode="after")
    def _exactly_one(self) -> "Closure":
        self._one_of("a closure", ("countries", "location", "route", "camp"))
        return self


class ConflictDriven(FormatModel):
    """Flee's conflict-driven spawning: each day every conflict zone makes its own new people from its intensity
    c (and its population, less those it has lost, with `take_from_population`), instead of a total spread."""

    mode: Literal["constant", "pop_ratio", "poisson"] = Field(
        "constant", description="constant: floor(per_day x c) a day; pop_ratio: floor(per_day x population x c); "
                                "poisson: a Poisson draw of mean per_day x c")
    per_day: Number = Field(description="people a day (constant, poisson) or share of the population a day "
                                        "(pop_ratio) at intensity 1")


class Spawning(FormatModel):
    """New people at conflict zones: each day the increase of a cumulative total (a decrease is owed and
    offset against later increases), spread over active conflict zones by population x intensity x decay; or,
    with `conflict_driven`, each conflict zone's own number by its intensity."""

    total: Series | None = Field(None, description="cumulative count: linearly interpolated, whole people")
    conflict_driven: ConflictDriven | None = Field(None, description="each conflict zone spawns by its own "
                                                   "intensity (Flee's conflict_driven_spawning), not a total")
    take_from_population: bool = Field(False, description="people spawned at a location leave its population "
                                       "(its weight, or its pop_ratio spawning, falls with them)")
    first_day: bool = Field(False, description="also spawn the total of the first day on that day")
    scale: Number = Field(1.0, description="with `total`: multiplies each day's increase (whole people, the "
                          "fraction a chance of one more); a parameter name lets a drift move it in a forecast")
    decay_interval: int = Field(30, ge=1, description="days per step of the decay by time since a conflict began")
    decay: list[float] = Field(default_factory=lambda: [1.0], min_length=1,
                               description="factor for each interval since the conflict began (last one holds)")

    @model_validator(mode="after")
    def _one_source(self) -> "Spawning":
        self._one_of("spawning", ("total", "conflict_driven"))
        if self.conflict_driven is not None and self.scale != 1.0:
            raise ValueError("spawning.scale multiplies a `total`; with `conflict_driven`, `per_day` sets the "
                             "numbers (a parameter name there can drift)")
        return self


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
    awareness: int = Field(1, ge=0, le=8, description="1: choose among neighbours by weight; 0: uniformly; 2 or "
                           "more: among the ways of up to that many routes that pass no place twice, by the "
                           "weight of where each ends over its whole length (Flee's awareness level)")


class Floods(FormatModel):
    """Flooding (Flee's flood rules, "DFlee"): a whole flood level per location and day, and lists indexed by level.
    At a place flooded that day (level above 0) people leave with `move_chance[level]` instead of the place's
    own chance, and as many set out from it as `spawn` says; a place at level above 0 counts, as a destination,
    with its score x `weight[level]` (a `flood_zone` location takes `weight[level]` also at level 0, and a
    flooded flood zone takes it twice, as Flee does)."""

    levels: dict[str, list[float]] = Field(description="location -> its flood level on each day from the start "
                                           "(whole numbers from 0; a location left out is at 0; a list shorter "
                                           "than the period holds its last level)")
    move_chance: list[float] = Field(min_length=1, description="daily chance of leaving a place at each level")
    weight: list[float] = Field(min_length=1, description="factor on a place's score at each level")
    spawn: list[float] = Field(default_factory=lambda: [0.0], min_length=1,
                               description="new people a day at a flooded place at each level: a share of what is "
                                           "left of its population (rounded down), or a count")
    spawn_mode: Literal["share", "count"] = Field("share", description="`share`: spawn[level] x the population "
                                                  "left (each spawned person leaves it); `count`: spawn[level] "
                                                  "people")
    source: Source | None = None


class Network(FormatModel):
    """Locations (states) joined by routes; people choose a neighbour by weights and take days to travel."""

    en_route: str = Field(description="the state that holds people travelling along a route")
    home_country: str | None = Field(None, description="locations elsewhere are foreign (default: the first "
                                                       "location's country)")
    locations: list[Location] = Field(default_factory=list, description="at least one (here or in `locations_file`)")
    routes: list[Route] = Field(default_factory=list)
    locations_file: str | None = Field(None, description="a CSV file of more locations (a path relative to the "
                                       "scenario file; header state,type,country,population,capacity): a data "
                                       "file, not counted in the scenario file's size limit")
    routes_file: str | None = Field(None, description="a CSV file of more routes (header a,b,km), likewise")
    conflicts: list[Conflict] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)
    spawning: Spawning | None = None
    floods: Floods | None = None
    movement: Movement = Field(default_factory=Movement)
    source: Source | None = None

    @model_validator(mode="after")
    def _some_location(self) -> "Network":
        if not self.locations and self.locations_file is None:
            raise ValueError("at least one location (in `locations` or a `locations_file`)")
        return self
