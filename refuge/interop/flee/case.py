"""A Flee case read whole: its input folder, validation folder and settings, checked, before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from refuge.interop.flee.closures import read_closures
from refuge.interop.flee.conflicts import read_conflicts
from refuge.interop.flee.csvread import FleeInputError, Notes, rows
from refuge.interop.flee.flood import read_levels
from refuge.interop.flee.locations import FleeLocation, read_locations
from refuge.interop.flee.period import check_period, period_file, read_period
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
    notes: Notes
    as_flee: bool = False
    layout: Layout = field(default_factory=list)
    extra: Layout = field(default_factory=list)  # rows only Flee's spawn total reads (kept when as_flee)
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    extra_series: list[list[tuple[int, float]]] = field(default_factory=list)
    floods: dict[str, list[int]] | None = None  # with flood rules: flood_level.csv's levels by location and day

    @property
    def names(self) -> set[str]:
        """The names of the case's locations."""
        return {loc.name for loc in self.locs}


def read_case(input_dir: str | Path, validation: str | Path | None = None, settings: str | Path | None = None,
              name: str | None = None, *, as_flee: bool = False, start: dt.date | None = None,
              days: int | None = None) -> FleeRead:
    """Read and check every file of a case (FleeInputError on the first problem found). `start` and `days`
    give the period where the case has no sim_period.csv, or replace its values (as the length argument of
    Flee's runner does); `as_flee` does as Flee does where refuge's default differs (see read_layout)."""
    idir = Path(input_dir)
    if not idir.is_dir():
        raise FleeInputError(idir, None, None, "a folder of Flee input files", "no such folder")
    vdir = Path(validation) if validation is not None else None
    if vdir is not None and not vdir.is_dir():
        raise FleeInputError(vdir, None, None, "a Flee validation folder", "no such folder")
    spath = Path(settings) if settings is not None else None
    notes = Notes()
    st = read_settings(spath, notes)
    period, (start, length) = _period(idir, start, days)
    locs = read_locations(idir / "locations.csv", notes)
    names = {loc.name for loc in locs}
    routes = read_routes(idir / "routes.csv", names, notes, as_flee)
    closures = read_closures(idir / "closures.csv", locs, routes, notes)
    conflicts = read_conflicts(idir / "conflicts.csv")
    case = name or (idir.parent.name if idir.name == "input" else idir.name)
    r = FleeRead(case, idir, vdir, spath, st, period, start, length, locs, routes, closures, conflicts, notes,
                 as_flee)
    if st.flood is not None:
        r.floods = read_levels(idir / "flood_level.csv", [loc.name for loc in locs], length, st.flood, notes)
        for loc in locs:  # Flee's `hasten`: one agent per `hasten` people (spawning here grows with populations)
            loc.number //= st.hasten
        r.conflicts = None  # with flood rules on, Flee reads no conflicts (nobody spawns at conflict zones)
    if vdir is not None:
        _read_validation(r)
    elif st.flood is None and st.conflict_driven is None:
        notes.add(idir, None, "no validation folder (--validation): nobody spawns (Flee's runner spawns from the "
                  "camps' data) and nothing is scored; people start only where the case places them")
    else:
        notes.add(idir, None, "no validation folder (--validation): people spawn by the settings' rules, and "
                  "nothing is scored")
    return r


def _period(idir: Path, start: dt.date | None, days: int | None) -> tuple[str, tuple[dt.date, int]]:
    """Where the period comes from, and (start, days): the period file, with `start` and `days` in its place."""
    path = period_file(idir)
    if path.exists() and (start is None or days is None):
        s0, n0 = read_period(path)
        start, days = start or s0, days or n0
        return path.name + (" (with --start/--days)" if (start, days) != (s0, n0) else ""), (start, days)
    if start is None or days is None:
        raise FleeInputError(path, None, None, "a file of a Flee case", "no such file (give the period with "
                             "--start DATE --days N, as a run script would)")
    check_period("--start/--days", start, days)
    return "--start/--days", (start, days)


def _read_validation(r: FleeRead) -> None:
    """The camps' data: read, summed per layout row, corrected, as days of the period."""
    assert r.vdir is not None
    kinds = {loc.name: loc.kind for loc in r.locs}
    if r.floods is not None:  # Flee's output (and add_initial_refugees) then reads every location's data
        kinds = {n: "camp" for n in kinds}
    r.layout, r.extra = read_layout(r.vdir, kinds, r.notes, r.st.sum_from_camps, r.as_flee, r.floods is not None)
    if r.floods is not None:
        missing = [n for n in kinds if n not in {row[0] for row in r.layout}]
        if missing:
            raise FleeInputError(r.vdir / "data_layout.csv", None, None, "a row for every location of "
                                 "locations.csv (with flood rules, Flee's runner reads every location's data, and "
                                 "stops at one without)", "none for " + ", ".join(missing[:8])
                                 + (f" and {len(missing) - 8} more" if len(missing) > 8 else ""))
    for n, fs, _ in r.layout:
        r.series[n] = summed_counts(fs, r.start, r.notes)
    r.extra_series = [summed_counts(fs, r.start, r.notes) for _, fs, _ in r.extra]
    if r.floods is not None and r.st.hasten != 1:  # Flee divides the data by `hasten` too
        r.series = {n: [(d, v / r.st.hasten) for d, v in pts] for n, pts in r.series.items()}
    ignored = ({n for n in kinds} | {cells[0] for _, cells in rows(r.vdir / "data_layout.csv")}) - set(r.series)
    apply_corrections(r.idir / "registration_corrections.csv", r.series, r.start, ignored)
