"""The experiment store: one directory per ensemble, one Parquet file per finished run.

Layout of an experiment directory::

    experiment.json                              what was run: scenario (in full), digest, seed,
                                                 variants and their parameter values, refuge version
    daily/variant=NAME/run-000123.parquet        one row per day: stocks, site occupancy, closures,
                                                 flows, longest ongoing stays, arrivals, rules
    stays/variant=NAME/run-000123.parquet        one row per stay in a tracked state
    measures/variant=NAME/run-000123.parquet     one row: evidence measures and outcomes of the run, and a
                                                 small summary of its daily tables and stays for reports
                                                 (`refuge.experiments.runsummary`)

Each file is written atomically, the daily file last: a run counts as finished
when its daily file exists, so an ensemble killed part-way is resumed by
running what has no daily file. Each file carries, in its Parquet metadata
(key `refuge`), the fingerprint of the run: the experiment's key (a digest of
scenario, seed, variants and their values, `until`, refuge version), the
variant, the run and its seed. Opening the store for a command checks every
kept file against that command: a file of another command is refused (the
store is never mixed, even when experiment.json is lost), a damaged one
(unreadable, cut short, of the wrong shape) is deleted and run again. The three folders are Parquet datasets
(hive-partitioned by variant) that pyarrow, pandas, DuckDB or Polars can query
without loading everything; `Experiment` reads one column at a time.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from refuge.errors import RefugeError
from refuge.experiments.store_files import (
    FORMAT,
    RUN_RE,
    STAMP_KEY,
    TABLES,
    WHATS,
    _check_file,
    _remove,
    daily_columns,
    encode,
    run_tables,
)
from refuge.experiments.store_meta import (
    NAME_RE,
    _explain,
    _meta_problem,
    _mismatch,
    check_variant_name,
    experiment_key,
    make_meta,
    run_stamp,
)
from refuge.experiments.store_queries import DEFAULT_QUANTILES, MEMORY_BUDGET, Queries, _check_what, quantile_name

# The store's names, wherever they are defined (`from refuge.experiments.store import ...` as before).
__all__ = ["FORMAT", "STAMP_KEY", "TABLES", "WHATS", "NAME_RE", "RUN_RE", "DEFAULT_QUANTILES", "MEMORY_BUDGET",
           "daily_columns", "run_tables", "encode", "make_meta", "experiment_key", "run_stamp", "check_variant_name",
           "Experiment", "quantile_name"]


# --- the experiment -----------------------------------------------------------------------------


class Experiment(Queries):
    """An ensemble on disk: metadata, finished runs, and queries that read only what they need."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        meta_file = self.path / "experiment.json"
        if not meta_file.exists():
            raise RefugeError(f"{self.path}: not an experiment directory (no experiment.json); "
                              "create one with `refuge run SCENARIO --runs N --out DIR`")
        try:
            self.meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RefugeError(f"{meta_file}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RefugeError(f"{meta_file}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
        problem = _meta_problem(self.meta)
        if problem:
            raise RefugeError(f"{meta_file}: not an experiment description ({problem}); run the command that made "
                              "the store again (it rewrites this file and checks the runs kept), or use another "
                              "--out")
        self._models: dict[str, Any] = {}
        self._datasets: dict[str, tuple[list[str], Any]] = {}
        self._measures: dict[str, tuple[list[str], Any]] = {}  # variant -> (files read, measures)

    # -- creating and resuming --------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, meta: dict) -> "Experiment":
        """Open the experiment at `path` for this meta: new, or the same experiment to resume."""
        import warnings

        from refuge.errors import RefugeWarning
        from refuge.results.files import atomic_write

        path = Path(path)
        meta_file = path / "experiment.json"
        if path.exists() and not path.is_dir():
            raise RefugeError(f"{path}: is a file, not a directory; give --out a directory (new or a store)")
        old = None
        if meta_file.exists():
            try:
                old = cls(path)
            except RefugeError as exc:
                warnings.warn(f"{exc} -- rewritten from this command; the runs kept are checked against it",
                              RefugeWarning, stacklevel=2)
        if old is not None:
            diff = _mismatch(old.meta, meta)
            if diff:
                details = "; ".join(_explain(k, old.meta.get(k), meta.get(k)) for k in diff)
                raise RefugeError(f"{path}: holds a different experiment ({details}). "
                                  "Use another --out directory, or delete this one to start again.")
            meta = {**meta, "created": old.meta.get("created", meta["created"]),
                    "runs": max(int(old.meta["runs"]), int(meta["runs"]))}
        if old is None or old.meta != meta:  # a finished store summarised again is not written to
            path.mkdir(parents=True, exist_ok=True)
            text = json.dumps(meta, indent=1, sort_keys=False) + "\n"
            atomic_write(meta_file, lambda p: p.write_text(text, encoding="utf-8"))
        exp = cls(path)
        exp.verify()
        return exp

    def verify(self) -> list[tuple[str, int]]:
        """Check every kept run file against this experiment; run again what is damaged, refuse what is foreign.

        Readable (its footer), complete (the rows it must have), the right shape (the daily columns of the
        scenario) and stamped by this experiment (`run_stamp`). A damaged run's files are deleted, so it is
        missing and runs again; files of another experiment raise a RefugeError and are left alone.
        """
        import warnings

        from refuge.errors import RefugeWarning

        key = experiment_key(self.meta)
        damaged: dict[tuple[str, int], str] = {}
        foreign: list[str] = []
        days = columns = None
        for table in TABLES:
            for folder in sorted((self.path / table).glob("variant=*")) if (self.path / table).is_dir() else []:
                variant = folder.name.removeprefix("variant=")
                for f in sorted(folder.iterdir()):
                    if f.name.startswith(".run-"):  # temporary file of a run killed while writing
                        _remove(f)
                        continue
                    m = RUN_RE.match(f.name)
                    if not m:
                        continue
                    run = int(m.group(1))
                    if days is None:
                        days, columns = self._days(), self._daily_names()
                    why = _check_file(f, table, key, variant, run, days, columns)
                    if why == "foreign":
                        foreign.append(str(f.relative_to(self.path)))
                    elif why:
                        damaged.setdefault((variant, run), f"{f.relative_to(self.path)}: {why}")
        if foreign:
            raise RefugeError(f"{self.path}: holds {len(foreign)} run file{'s' if len(foreign) > 1 else ''} of "
                              f"another command (e.g. {foreign[0]}: other scenario, seed, values or refuge version); "
                              "use another --out directory, or delete this one to start again")
        for (variant, run) in damaged:
            for table in TABLES:
                _remove(self.file(table, variant, run))
        if damaged:
            first = next(iter(damaged.values()))
            warnings.warn(f"{self.path}: {len(damaged)} damaged run{'s' if len(damaged) > 1 else ''} will be run "
                          f"again ({first})", RefugeWarning, stacklevel=3)
        return sorted(damaged)

    def cut_short(self) -> list[Path]:
        """Finished runs' files that no longer end as a Parquet file does (cut short, overwritten, replaced by a
        folder) since they were written: a check of a few bytes per file, for readers (the report) that do
        not open every file. `verify` (run by every command that writes) checks them in full."""
        bad = []
        for v in self.variants:
            for r in self.finished(v):
                for table in TABLES:
                    f = self.file(table, v, r)
                    try:
                        with open(f, "rb") as fh:
                            fh.seek(-4, 2)
                            if fh.read(4) != b"PAR1":
                                bad.append(f)
                    except OSError:  # missing, a folder, too short to seek back
                        bad.append(f)
        return bad

    def _daily_names(self) -> list[str]:
        cols = ["run", "day", "date"]
        for what, names in daily_columns(self.model()).items():
            cols += [f"{what}:{n}" for n in names]
        return cols

    def file(self, table: str, variant: str, run: int) -> Path:
        """The file of one table of one run of a variant."""
        return self.path / table / f"variant={variant}" / f"run-{run:06d}.parquet"

    def write_run(self, variant: str, run: int, blobs: dict[str, bytes]) -> None:
        """Write one finished run; its daily file goes last and marks it finished."""
        from refuge.results.files import atomic_write

        for table in TABLES:
            data = blobs[table]
            atomic_write(self.file(table, variant, run), lambda p, data=data: p.write_bytes(data))

    # -- what is there ----------------------------------------------------------------------
    @property
    def variants(self) -> list[str]:
        """Names of the experiment's variants, in order."""
        return [v["name"] for v in self.meta["variants"]]

    @property
    def n_runs(self) -> int:
        """Runs per variant the experiment asks for."""
        return int(self.meta["runs"])

    def finished(self, variant: str) -> list[int]:
        """Replicates of a variant that are finished (their daily file exists)."""
        folder = self.path / "daily" / f"variant={variant}"
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for f in folder.iterdir() if (m := RUN_RE.match(f.name)) and f.is_file())

    def missing(self) -> list[tuple[str, int]]:
        """(variant, run) pairs not yet finished, replicate by replicate."""
        done = {v: set(self.finished(v)) for v in self.variants}
        return [(v, r) for r in range(self.n_runs) for v in self.variants if r not in done[v]]

    @property
    def complete(self) -> bool:
        """Whether every run of every variant is finished."""
        return not self.missing()

    def variant_set(self, variant: str) -> dict[str, float]:
        """The parameter values a variant sets."""
        return dict(self._variant(variant)["set"])

    def _variant(self, variant: str) -> dict:
        for v in self.meta["variants"]:
            if v["name"] == variant:
                return v
        from refuge.errors import suggest

        raise RefugeError(f"{self.path}: no variant `{variant}`{suggest(variant, self.variants)}; "
                          f"the experiment has {', '.join(self.variants)}")

    @cached_property
    def scenario(self):
        from refuge.scenario import parse

        return parse(self.meta["scenario"], str(self.path / "experiment.json") + ": scenario")

    def model(self, variant: str | None = None) -> Any:
        """The compiled model of a variant (the first variant by default), rebuilt from the stored scenario."""
        from refuge.model.compiler import compile_scenario

        variant = variant or self.variants[0]
        if variant not in self._models:
            sc = self.scenario.with_values(self.variant_set(variant))
            self._models[variant] = compile_scenario(sc, self.meta.get("scenario_origin") or sc.name)
        return self._models[variant]

    @cached_property
    def dates(self) -> Any:
        """Every simulated day (made once: queries and the report ask for it many times)."""
        import pandas as pd

        return pd.date_range(self.meta["scenario"]["start"], periods=self._days(), freq="D")

    def _days(self) -> int:
        m = self.model()
        if self.meta.get("until"):
            return min(m.days, m.day(dt.date.fromisoformat(self.meta["until"])) + 1)
        return m.days

    def names(self, what: str) -> list[str]:
        """Members of a daily quantity (states, sites, transitions, ...)."""
        _check_what(what)
        return daily_columns(self.model())[what]


    def __repr__(self) -> str:
        done = sum(len(self.finished(v)) for v in self.variants)
        from refuge.numbers import plural

        variants = plural(len(self.variants), "variant")
        return (f"Experiment({str(self.path)!r}: {self.meta['scenario_name']}, {variants}, "
                f"{done}/{self.n_runs * len(self.variants)} runs finished)")


    def _repr_html_(self) -> str:
        from refuge._html import html_table

        rows = [(v, " ".join(f"{k}={x:g}" for k, x in self.variant_set(v).items()) or "as written",
                 len(self.finished(v)), self.n_runs) for v in self.variants]
        m = self.meta
        return html_table(f"{m['scenario_title'] or m['scenario_name']} — experiment {self.path}",
                          ("variant", "parameters", "runs finished", "runs"), rows,
                          f"seeds {m['seed']}..{m['seed'] + self.n_runs - 1}; refuge {m.get('refuge_version', '?')}")
