"""Import a Flee case (an input folder, optionally its validation folder and a settings file) as a scenario.

    from refuge.interop.flee import import_flee
    case = import_flee("mali2012/input", validation="mali2012/validation", settings="validation-modern125.yml")
    case.write("mali2012.yaml")      # the scenario, and its data files in mali2012-data/

What becomes what (Flee's rules as its code at 02cd2cbd applies them):

- each row of `locations.csv` becomes a state and a network location: conflict zones are `origin` states,
  towns and forwarding hubs `other`, camps `destination`; a camp's last column is its capacity, other places'
  their population. Locations outside the first row's country are foreign.
- `routes.csv` rows become routes (both directions); `closures.csv` rows closures of routes between two
  countries, of every route of a location, or of one route, from the start day to the day before the end day
  (an end at or before the start: closed to the end). A `link` closure shuts only name2 -> name1, as Flee's
  code does (its `remove_link` with `twoway` removes the reverse direction alone). A `camp` or `idpcamp`
  closure makes the camp work as a town for the period (`camp:` closures); one naming a place that is not a
  camp is left out with a warning (Flee would make that place a camp when the closure ends). `marker`
  locations become markers (route choice looks past them), and `awareness_level` 2 and more look-ahead.
- `conflicts.csv` (intensity by day) gives conflict periods: a period begins when the intensity becomes
  positive, at that day's intensity, and ends when it falls to zero (Flee ignores changes in between).
  Without it, a conflict zone's `conflict_date` starts a conflict of intensity 1 that lasts to the end.
- the validation folder's `data_layout.csv` names a data file per camp (and first the total; a row naming
  several files sums them on the union of their dates, each interpolated: Flee's own sum holds one file's
  last count instead of interpolating it, a difference only between dated counts): each camp
  becomes time-series evidence (group `camps`), its counts corrected as `registration_corrections.csv` says
  (points before a date scaled by the ratio of the count on that date to the one before). People spawn each
  day as many as the sum of the camps' whole-number interpolated counts grew (Flee's `sum_from_camps`);
  camps start with their count on the first day, and their capacity is reduced by it, as Flee does.
- the settings file's movement and spawning rules become parameters (cited to the file and key).

Every problem names the file, the line and the column; nothing is written when there is one.

Published cases as they are: what Flee runs silently is imported with a warning (file, line, what Flee
does, what refuge did), kept in the case's `warnings` and as comments at the top of the scenario: a name used
twice in `locations.csv` (the last row is kept: Flee's routes attach to it), a route from a place to itself
(left out), a closure naming nothing in the graph (left out: Flee does nothing for it), validation rows dated
at or before the row above (left out: Flee reads the days around them wrongly), an awareness level such as
1.5 (read as a whole number, as Flee does). Where Flee's behaviour is plainly an accident, refuge does the
sensible thing and `as_flee=True` (`--as-flee`) does as Flee does, for side-by-side runs: a `data_layout.csv`
row naming no camp (Flee adds its counts to the spawn total), a camp listed twice (Flee adds its first row's
counts again), a camp holding more than its capacity on the first day (Flee's room falls below zero, which
its capacity rule reads as no limit; refuge makes it full). Without `sim_period.csv`, `start` and `days`
(`--start DATE --days N`) give the period.

The package reads one Flee file per module (`period`, `locations`, `routes`, `closures`, `conflicts`,
`validation`, `settings`), checks the whole case (`case`), then writes the scenario (`writer`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from refuge.errors import RefugeError
from refuge.interop.flee.case import FleeRead, read_case
from refuge.interop.flee.csvread import FleeInputError
from refuge.interop.flee.locations import FleeLocation
from refuge.interop.flee.settings import Settings, read_settings
from refuge.interop.flee.writer import FLEE_NOTICE, FleeCase, write_case

__all__ = ["FLEE_NOTICE", "FleeCase", "FleeInputError", "FleeLocation", "FleeRead", "Settings", "import_flee",
           "main_import", "read_case", "read_settings"]


def import_flee(input_dir: str | Path, validation: str | Path | None = None, settings: str | Path | None = None,
                name: str | None = None, data_dir: str | None = None, *, as_flee: bool = False,
                start: dt.date | None = None, days: int | None = None) -> FleeCase:
    """Read a Flee case and build the scenario (FleeInputError on the first problem found). What Flee would
    do silently with a published quirk is in the case's `warnings` (and in comments of the scenario);
    `as_flee` does as Flee does where refuge's default differs; `start` and `days` give the period."""
    return write_case(read_case(input_dir, validation, settings, name, as_flee=as_flee, start=start, days=days),
                      data_dir)


def main_import(input_dir: str, out: str, validation: str | None = None, settings: str | None = None,
                name: str | None = None, *, as_flee: bool = False, start: dt.date | None = None,
                days: int | None = None, flee_output: list[str] | None = None) -> Path:
    """Import, check that the scenario compiles, then write it (nothing is written on any problem); each
    warning of the import is issued as a RefugeWarning (the CLI prints it as a `note:` line). `flee_output`:
    Flee's own output files of runs of the case, whose daily error the scenario records
    (`refuge.interop.flee.own_error`)."""
    import warnings

    from refuge.errors import RefugeWarning
    from refuge.interop.flee.own_error import with_own_error
    from refuge.model.compiler import compile_scenario
    from refuge.scenario import read

    r = read_case(input_dir, validation, settings, name, as_flee=as_flee, start=start, days=days)
    case = write_case(r, f"{Path(out).stem}-data")
    if flee_output:
        by = f"Flee's own runs ({Path(settings).name if settings else 'its default settings'}, {len(flee_output)} " \
             f"run{'s' * (len(flee_output) > 1)})"
        case = with_own_error(case, [Path(p) for p in flee_output], r.start, f"{Path(out).stem}-data", by)
    with tempfile.TemporaryDirectory() as tmp:
        probe = case.write(Path(tmp) / Path(out).name)
        try:
            compile_scenario(read(probe), str(probe))
        except RefugeError as exc:  # a limit of refuge's format that no line of the Flee files breaks alone
            text = str(exc).replace(str(probe), Path(out).name)
            raise FleeInputError(input_dir, None, None, "a case within refuge's limits; the scenario it makes "
                                 "would not load", text) from None
    for note in case.warnings:
        warnings.warn(note, RefugeWarning, stacklevel=2)
    return case.write(out)
