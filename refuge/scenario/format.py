"""The scenario file format: declarative, validated, with calendar dates.

A scenario is YAML (or a dict). Pydantic checks the shape and the types of
every field; `refuge.model.compile_scenario` then resolves every name and
checks what needs the whole file (splits, loops, dates in the period).

Any number in a transition, arrival, site or rule may be written as a number
or as the name of a parameter; parameters may change over time through
schedules and rules.

The parts of the format live in one module per concept (`base`, `sources`, `parameters`, `distributions`,
`structure`, `rules`, `evidence`, `network`; safe YAML reading in `yaml_safe`); this module holds the whole
`Scenario`, its `outcomes`, and reading a file, and names every part (`from refuge.scenario.format import X`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from refuge.errors import Problem, ScenarioError, suggest
from refuge.scenario.base import STATE_KINDS, FormatModel, Number
from refuge.scenario.distributions import DIST_TAGS, Distribution, Empirical, Exponential, Fixed, Gamma, Lognormal
from refuge.scenario.evidence import MEASURE_KINDS, SERIES_MEASURES, Evidence, Measure, Series, SeriesPoint
from refuge.scenario.limits import MAX_FILE_BYTES, MAX_PARAMETER
from refuge.scenario.network import Closure, Conflict, Location, Movement, Network, Route, Spawning
from refuge.scenario.parameters import Drift, Parameter, Prior, Schedule, SchedulePoint, Variant
from refuge.scenario.rules import Action, MultiplyAction, Rule, SetAction, Signal
from refuge.scenario.series import attach_series
from refuge.scenario.sources import Reference, Source
from refuge.scenario.structure import (
    Arrival,
    Event,
    Period,
    Redirect,
    Site,
    SiteClosure,
    SplitTarget,
    State,
    Throughput,
    Transition,
)
from refuge.scenario.yaml_safe import load_yaml

# The format's public names (each defined in the module of its concept; `refuge.scenario` re-exports them).
__all__ = [
    "Number", "STATE_KINDS", "FormatModel", "Reference", "Source", "Prior", "Parameter", "Fixed", "Exponential",
    "Gamma", "Lognormal", "Empirical", "Distribution", "DIST_TAGS", "Period", "SiteClosure", "Site", "State",
    "Redirect", "SplitTarget", "Throughput", "Transition", "Arrival", "Event", "SchedulePoint", "Schedule", "Signal",
    "SetAction", "MultiplyAction", "Action", "Rule", "MEASURE_KINDS", "Measure", "SeriesPoint", "Series",
    "SERIES_MEASURES", "Evidence", "Location", "Route", "Conflict", "Closure", "Spawning", "Movement", "Network",
    "Variant", "Drift", "OUTCOME_KINDS", "Outcome", "Scenario", "parse", "load_yaml", "read", "builtin_path",
    "builtin_names", "json_schema",
]


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
    drift: list[Drift] = Field(default_factory=list, description="drivers that drift at random over time (a random "
                               "walk in log space), each run its own path")
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

    @model_validator(mode="after")
    def _rests(self) -> "Scenario":
        """Each `rest_of` parameter's value: 1 minus the share it names (`refuge.model.schedules` checks the name)."""
        self.parameters.update(_rests_set(self.parameters))
        return self

    @model_validator(mode="after")
    def _drift_names(self) -> "Scenario":
        seen: set[str] = set()
        for i, d in enumerate(self.drift):
            for field in ("parameter", "size", "noise"):
                name = getattr(d, field)
                if name is None:
                    continue
                if name not in self.parameters:
                    raise ValueError(f"drift[{i}].{field} to name a parameter of the scenario (`{name}` is "
                                     f"none{suggest(name, self.parameters)})")
            if d.parameter in seen:
                raise ValueError(f"drift[{i}].parameter to name a parameter no other drift names (`{d.parameter}` "
                                 "drifts twice)")
            seen.add(d.parameter)
        return self

    @model_validator(mode="after")
    def _one_other_error(self) -> "Scenario":
        """Another tool's error is said once for a group (on any one of its series)."""
        said: dict[str, int] = {}
        for i, ev in enumerate(self.evidence):
            if ev.other_error is not None and ev.group is not None:
                if ev.group in said:
                    raise ValueError(f"evidence[{i}].other_error: expected once for group `{ev.group}` (evidence"
                                     f"[{said[ev.group]}] gives it already)")
                said[ev.group] = i
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

    def with_values(self, values: dict[str, Any]) -> "Scenario":
        """A copy with some parameter defaults replaced (what-ifs, calibration draws). Also takes
        `parameter@YYYY-MM-DD: value` (from that date on) and `point_name: date` (a named schedule point moved):
        see `refuge.scenario.whatif`."""
        from refuge.scenario.whatif import apply_changes, split_values

        values, changes = split_values(self, values)
        unknown = [k for k in values if k not in self.parameters]
        if unknown:
            hints = [f"{k}{suggest(k, self.parameters)}" for k in unknown]
            raise ScenarioError(self.name, [Problem("parameters", "a parameter of the scenario", h) for h in hints])
        bad = [k for k in values if not abs(float(values[k])) <= MAX_PARAMETER]
        if bad:
            raise ScenarioError(self.name, [Problem(f"parameters.{k}.value", f"a finite number between "
                                                    f"-{MAX_PARAMETER:g} and {MAX_PARAMETER:g}", values[k])
                                            for k in bad])
        params = {k: p.model_copy(update={"value": float(values[k])}) if k in values else p
                  for k, p in self.parameters.items()}
        params.update(_rests_set(params))
        out = apply_changes(self.model_copy(update={"parameters": params}), changes)
        rests = {p.rest_of: k for k, p in params.items() if p.rest_of is not None}
        moved = sorted({s.parameter for s in out.schedules} & set(rests) - {s.parameter for s in self.schedules})
        if moved:
            raise ScenarioError(self.name, [Problem(f"parameters.{k}", f"a change throughout (`{rests[k]}` is its "
                                                    "rest, `rest_of`, and would not follow a dated change)",
                                                    "a change from a date") for k in moved])
        return out


def _rests_set(params: dict[str, Parameter]) -> dict[str, Parameter]:
    """The `rest_of` parameters with their values: 1 minus the share each names."""
    return {k: p.model_copy(update={"value": 1.0 - params[p.rest_of].value})
            for k, p in params.items() if p.rest_of is not None and p.rest_of in params
            and params[p.rest_of].rest_of is None}


# --- loading ------------------------------------------------------------------------


def parse(data: object, origin: str = "<scenario>") -> Scenario:
    """Validate a mapping into a Scenario, raising ScenarioError with field paths."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise ScenarioError(origin, [Problem("", "a mapping of scenario fields (name:, start:, states:, ...)",
                                             _kind(data))])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError.from_pydantic(origin, exc, data, model=Scenario) from None


def _kind(data: object) -> str:
    """What a file holds instead of a mapping, in a user's words (not a Python type name)."""
    if data is None:
        return "an empty file (or only comments)"
    if isinstance(data, list):
        return "a list (start each field at the beginning of a line, as `name: ...`)"
    if isinstance(data, str):
        return f"plain text ({data[:40]!r})"
    return f"a single value ({str(data)[:40]})"


def read(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file."""
    import yaml

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
