"""A Flee case read whole: its input folder, validation folder and settings, checked, before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from refuge.interop.flee.closures import read_closures
from refuge.interop.flee.conflicts import read_conflicts
from refuge.interop.flee.csvread import FleeInputError, Notes
from refuge.interop.flee.locations import FleeLocation, read_locations
from refuge.interop.flee.period import period_file, read_period
from refuge.interop.flee.routes import read_routes
from refuge.interop.flee.settings import Settings, read_settings
from refuge.interop.flee.validation import Layout, apply_corrections, read_layout, summed_counts


@dataclass
class FleeRead:
    """What the files of a case say, as Flee reads them (days count from the period's start)."""

    case: str
    idir: Path
    vdir: Path | None
    spath: Path | None
    st: Settings
    period: str  # where the period came from (a file's name)
    start: dt.date
    length: int
    locs: list[FleeLocation]
    routes: list[tuple[str, str, float, int]]
    closures: list[dict]
    conflicts: dict[str, list[float]] | None
    layout: Layout = field(default_factory=list)
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)

    @property
    def names(self) -> set[str]:
        return {loc.name for loc in self.locs}


def read_case(input_dir: str | Path, validation: str | Path | None = None, settings: str | Path | None = None,
              name: str | None = None) -> FleeRead:
    """Read and check every file of a case (FleeInputError on the first problem found)."""
    idir = Path(input_dir)
    if not idir.is_dir():
        raise FleeInputError(idir, None, None, "a folder of Flee input files", "no such folder")
    vdir = Path(validation) if validation is not None else None
    if vdir is not None and not vdir.is_dir():
        raise FleeInputError(vdir, None, None, "a Flee validation folder", "no such folder")
    spath = Path(settings) if settings is not None else None
    st = read_settings(spath)
    period = period_file(idir)
    start, length = read_period(period)
    locs = read_locations(idir / "locations.csv")
    names = {loc.name for loc in locs}
    routes = read_routes(idir / "routes.csv", names)
    closures = read_closures(idir / "closures.csv", locs, routes)
    conflicts = read_conflicts(idir / "conflicts.csv")
    case = name or (idir.parent.name if idir.name == "input" else idir.name)
    r = FleeRead(case, idir, vdir, spath, st, period.name, start, length, locs, routes, closures, conflicts)
    if vdir is not None:
        _read_validation(r)
    return r


def _read_validation(r: FleeRead) -> None:
    """The camps' data: read, summed per layout row, corrected, as days of the period."""
    assert r.vdir is not None
    camp_names = {loc.name for loc in r.locs if loc.kind in ("camp", "idpcamp")}
    r.layout = read_layout(r.vdir, r.names, camp_names)
    for n, fs, _ in r.layout:
        r.series[n] = summed_counts(fs, r.start)
    apply_corrections(r.idir / "registration_corrections.csv", r.series, r.start)
