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
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from refuge.errors import RefugeError

FORMAT = 2  # 2: run files carry their fingerprint
STAMP_KEY = b"refuge"
TABLES = ("stays", "measures", "daily")  # write order: the daily file marks the run finished
# as results.run.DAILY
WHATS = ("stocks", "sites", "capacity", "closed", "flows", "max_stay", "arrivals", "rules", "entered")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
RUN_RE = re.compile(r"^run-(\d+)\.parquet$")
DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MEMORY_BUDGET = 512 * 2**20  # bytes a query may hold at once. Opening 1,000 files costs more than decoding
# their columns, so a query reads as many columns per pass as this allows.


# --- what a run contributes ------------------------------------------------------------


def daily_columns(model: Any) -> dict[str, list[str]]:
    """The daily quantities stored per run, by kind (`what`), with their member names."""
    from refuge.results.run import daily_names

    return {what: daily_names(model, what) for what in WHATS}


def run_tables(run: Any, replicate: int, measures: dict[str, float]) -> Any:
    """The three tables of one run (pyarrow), in the store's layout."""
    import pyarrow as pa

    from refuge.experiments.runsummary import run_summary

    m = run.model
    days = run.days
    rid = pa.array(np.full(days, replicate, np.int32))
    cols: dict[str, Any] = {"run": rid, "day": pa.array(np.arange(days, dtype=np.int32)),
                            "date": pa.array(np.datetime64(m.start, "D") + np.arange(days), pa.date32())}
    columns = daily_columns(m)
    for what, names in columns.items():
        a = run.daily(what)
        kind = {np.dtype(np.bool_): np.bool_, np.dtype(np.float64): np.float32}.get(a.dtype, np.int32)
        for k, name in enumerate(names):
            cols[f"{what}:{name}"] = pa.array(np.ascontiguousarray(a[:, k], dtype=kind))
    daily = pa.table(cols)

    names = np.array(m.state_names, dtype=object)
    last = days - 1
    state = np.concatenate([run.stays[:, 0], run.ongoing[:, 0]]).astype(np.int64)
    entry = np.concatenate([run.stays[:, 1], run.ongoing[:, 2]])
    length = np.concatenate([run.stays[:, 2] - run.stays[:, 1], last - run.ongoing[:, 2]])
    people = np.concatenate([run.stays[:, 3], run.ongoing_size])
    done = np.concatenate([np.ones(len(run.stays), np.bool_), np.zeros(len(run.ongoing), np.bool_)])
    stays = pa.table({"run": pa.array(np.full(len(state), replicate, np.int32)),
                      "state": pa.array(names[state].tolist() if len(state) else [], pa.string()),
                      "entry": pa.array(entry.astype(np.int32)), "days": pa.array(length.astype(np.int32)),
                      "people": pa.array(people.astype(np.int32)), "completed": pa.array(done)})

    row = {"run": pa.array([replicate], pa.int32()), "seed": pa.array([run.seed], pa.int64())}
    row.update({k: pa.array([float(v)], pa.float64()) for k, v in measures.items()})
    row.update(run_summary(run, columns))
    return {"stays": stays, "measures": pa.table(row), "daily": daily}


def encode(table: Any, stamp: dict | None = None) -> bytes:
    """Parquet bytes of a table (with the run's fingerprint `stamp`): compact, the same bytes for the same data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if stamp is not None:
        table = table.replace_schema_metadata({STAMP_KEY: json.dumps(stamp, sort_keys=True).encode()})

    # Daily counts change little from day to day: delta encoding halves the files and costs no time;
    # dictionaries only pay for strings; statistics only help the columns queries filter on.
    fields = table.schema
    ints = [f.name for f in fields if pa.types.is_integer(f.type)]
    strings = [f.name for f in fields if pa.types.is_string(f.type)]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", compression_level=1, use_dictionary=strings or False,
                   column_encoding={c: "DELTA_BINARY_PACKED" for c in ints} or None,
                   write_statistics=[c for c in ("run", "day") if c in fields.names] or False)
    return sink.getvalue().to_pybytes()


# --- metadata -------------------------------------------------------------------------------


def make_meta(scenario: Any, origin: str, digest: str, seed: int, runs: int, variants: list[dict],
              base_set: dict[str, float], until: dt.date | None) -> dict:
    """The experiment's `experiment.json`: scenario (in full), digest, seed, runs, variants, version."""
    import refuge

    return {
        "format": FORMAT,
        "refuge_version": refuge.__version__,
        "scenario_name": scenario.name,
        "scenario_title": scenario.title,
        "scenario_origin": origin,
        "scenario_digest": digest,
        "seed": int(seed),
        "runs": int(runs),
        "until": None if until is None else str(until),
        "set": {k: float(v) for k, v in base_set.items()},
        "variants": [{"name": v["name"], "description": v.get("description", ""),
                      "set": {k: float(x) for k, x in v["set"].items()}} for v in variants],
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "scenario": scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True),
    }


_IDENTITY = ("format", "refuge_version", "scenario_digest", "seed", "until", "variants", "posterior")


def experiment_key(meta: dict) -> str:
    """A digest of what makes an experiment's runs what they are (not how many there are)."""
    import hashlib

    ident = {k: _comparable(meta.get(k)) for k in _IDENTITY}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_stamp(meta: dict, variant: str, run: int) -> dict:
    """The fingerprint written into each file of run `run` of `variant`."""
    v = next(x for x in meta["variants"] if x["name"] == variant)
    return {"experiment": experiment_key(meta), "scenario_digest": meta["scenario_digest"], "variant": variant,
            "set": v["set"], "run": int(run), "seed": int(meta["seed"]) + int(run), "until": meta.get("until"),
            "refuge_version": meta.get("refuge_version")}


_REQUIRED = {"format": int, "scenario_digest": str, "seed": int, "runs": int, "variants": list, "scenario": dict}


def _meta_problem(meta: Any) -> str:
    """'' for a usable experiment.json, else what is wrong with it."""
    if not isinstance(meta, dict):
        return "not a mapping"
    wrong = [k for k, t in _REQUIRED.items() if not isinstance(meta.get(k), t)]
    if wrong:
        return f"missing or wrong: {', '.join(wrong)}"
    if not meta["variants"] or not all(isinstance(v, dict) and isinstance(v.get("name"), str) and
                                       isinstance(v.get("set"), dict) for v in meta["variants"]):
        return "wrong: variants"
    return ""


def _mismatch(old: dict, new: dict) -> list[str]:
    return [k for k in _IDENTITY if _comparable(old.get(k)) != _comparable(new.get(k))]


def _comparable(x: Any) -> Any:
    if isinstance(x, list):
        return [{"name": v["name"], "set": v["set"]} if isinstance(v, dict) else v for v in x]
    return x


def check_variant_name(name: str, where: str = "variant") -> str:
    """A variant name usable as a folder name; a RefugeError naming `where` otherwise."""
    if not NAME_RE.match(name):
        raise RefugeError(f"{where}: expected a name of letters, digits, _ . + - (no spaces or slashes); "
                          f"found {name!r}")
    return name


# --- the experiment -----------------------------------------------------------------------------


class Experiment:
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

    # -- datasets ----------------------------------------------------------------------------
    def dataset(self, table: str = "daily") -> Any:
        """A pyarrow dataset over the finished runs' files of one table, with a `variant` column."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        if table not in TABLES:
            raise RefugeError(f"table: expected one of {', '.join(TABLES)}; found {table!r}")
        files = [str(self.file(table, v, r)) for v in self.variants for r in self.finished(v)]
        cached = self._datasets.get(table)
        if cached is not None and cached[0] == files:  # opening a dataset reads every footer: reuse it
            return cached[1]
        part = ds.partitioning(pa.schema([("variant", pa.string())]), flavor="hive")
        dset = ds.dataset(files, format="parquet", partitioning=part, partition_base_dir=str(self.path / table))
        self._datasets[table] = (files, dset)
        return dset

    def _read(self, table: str, columns: list[str], variants: Iterable[str] | None = None):
        import pyarrow.compute as pc

        dset = self.dataset(table)
        flt = None
        if variants is not None:
            flt = pc.field("variant").isin([check_variant_name(v) for v in variants])
        return dset.to_table(columns=columns, filter=flt)

    def runs(self) -> Any:
        """One row per finished run: variant, run, seed."""
        t = self._read("measures", ["variant", "run", "seed"])
        return t.to_pandas().sort_values(["variant", "run"], ignore_index=True)

    def measures(self, variants: Iterable[str] | None = None) -> Any:
        """One row per finished run: its evidence measures (`evidence:ID`) and outcomes (`outcome:NAME`)."""
        import pandas as pd

        from refuge.experiments import sql

        frames = []
        for v in self.variants:
            paths = [str(self.file("measures", v, r)) for r in self.finished(v)]
            cached = self._measures.get(v)
            if cached is None or cached[0] != paths:  # one small file per run: read once (DuckDB), not per query
                df = None
                if paths:  # not the run summaries (lists, for reports): `run_summaries`
                    df = sql.read_files(sql.connect(), paths, "COLUMNS(lambda c: NOT starts_with(c, 'summary'))")
                self._keep_measures(v, paths, df)
            if self._measures[v][1] is not None:
                frames.append(self._measures[v][1])
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["variant", "run", "seed"])
        df = df[["variant"] + [c for c in df.columns if c != "variant"]]
        df = df.sort_values(["variant", "run"], ignore_index=True)
        if variants is not None:
            df = df[df.variant.isin(list(variants))].reset_index(drop=True)
        return df

    def _keep_measures(self, variant: str, paths: list[str], table: Any) -> None:
        """Keep a variant's measures (the columns other than the summary's) until its runs change."""
        from refuge.experiments.runsummary import COLUMNS

        if table is not None:
            table = table.drop_columns([c for c in COLUMNS if c in table.column_names])
            table = table.to_pandas().assign(variant=variant)
        self._measures[variant] = (paths, table)

    def run_summaries(self, variant: str, skip: Iterable[str] = ()) -> Any:
        """The finished runs' summaries of one variant (`refuge.experiments.runsummary`) as a pyarrow table
        (with `run`; rows in no particular order; without the columns in `skip`, which `summary_batches` reads
        a few runs at a time), read anew at each call (a few tens of MB for 1,000 runs of the flagship, not
        kept; the measures read with them are); None when a run has none (written by an older refuge): read
        the daily tables then."""
        import duckdb
        import pyarrow.compute as pc

        from refuge.experiments import sql
        from refuge.experiments.runsummary import COLUMNS, SUMMARY_VERSION

        paths = [str(self.file("measures", variant, r)) for r in self.finished(variant)]
        if not paths:
            return None
        skip = [c for c in skip if c in COLUMNS and c != "summary"]
        columns = f"* EXCLUDE ({', '.join(sql.name(c) for c in skip)})" if skip else "*"
        try:
            t = sql.read_files(sql.connect(), paths, columns)
        except duckdb.Error:  # a damaged file, or (with `skip`) no summary in the first file: scan the daily tables
            return None
        self._keep_measures(variant, paths, t)
        wanted = [c for c in COLUMNS if c not in skip]
        if not all(c in t.column_names for c in wanted):  # DuckDB takes the columns of the first file
            return None
        version = t.column("summary")
        if version.null_count or not pc.all(pc.equal(version, SUMMARY_VERSION)).as_py():
            return None
        return t.select(["run", *wanted])

    def summary_batches(self, variant: str, column: str, rows: int = 64) -> Iterator[tuple[np.ndarray, Any]]:
        """(run ids, list array) of one summary column, `rows` runs at a time (after `run_summaries` has found
        every run's summary)."""
        from refuge.experiments import sql

        paths = [str(self.file("measures", variant, r)) for r in self.finished(variant)]
        reader = sql.connect().sql(f"SELECT run, {sql.name(column)} FROM {sql.files(paths)}").to_arrow_reader(rows)
        for batch in reader:
            yield batch.column("run").to_numpy().astype(np.int64), batch.column(column)

    def matrix(self, what: str, name: str, variant: str) -> tuple[np.ndarray, np.ndarray]:
        """(run ids, (runs x days) values) of one daily quantity of one variant."""
        _, ids, mat = next(self.matrices(what, [name], variant))
        return ids, mat

    def matrices(self, what: str, names: list[str], variant: str) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """(name, run ids, (runs x days) values) per member, reading a few columns at a time so that
        memory stays bounded (about MEMORY_BUDGET bytes) whatever the number of runs."""
        _check_what(what)
        known = self.names(what)
        for name in names:
            if name not in known:
                from refuge.errors import suggest

                raise RefugeError(f"{what}: no `{name}` in this experiment{suggest(name, known)}")
        ids = np.array(self.finished(variant), np.int64)
        days = self._days()
        cells = max(1, len(ids) * days)
        per_column = cells * 4 * 2.5  # a 4-byte column, and about as much again held while reading the files
        fixed = cells * 24  # run and day columns, row indices, the float64 matrix handed out
        batch = max(1, min(len(names), int((MEMORY_BUDGET - fixed) // per_column)))
        for k in range(0, len(names), batch):
            group = names[k:k + batch]
            t = self._read("daily", ["run", "day"] + [f"{what}:{n}" for n in group], [variant])
            rows = np.searchsorted(ids, t.column("run").to_numpy())
            cols = t.column("day").to_numpy()
            for n in group:
                out = np.zeros((len(ids), days), np.float64)  # closures and rules become 0/1: the mean is a share
                out[rows, cols] = t.column(f"{what}:{n}").to_numpy(zero_copy_only=False)
                yield n, ids, out

    def per_run(self, what: str, names: list[str] | None = None, variant: str | None = None,
                stats: Iterable[str] = ("sum",)) -> dict:
        """Each run's total (`sum`), daily `mean`, `max` or `median` of daily quantities of one variant:
        {stat: DataFrame indexed by run, one column per member}."""
        import pandas as pd

        funcs = {"sum": np.sum, "mean": np.mean, "max": np.max, "median": np.median}
        stats = list(stats)
        bad = [x for x in stats if x not in funcs]
        if bad:
            raise RefugeError(f"stats: expected some of {', '.join(funcs)}; found {', '.join(bad)}")
        names = list(self.names(what) if names is None else names)
        variant = variant or self.variants[0]
        cols: dict[str, dict[str, np.ndarray]] = {x: {} for x in stats}
        ids = np.array(self.finished(variant), np.int64)
        for n, ids, mat in self.matrices(what, names, variant):
            for x in stats:
                cols[x][n] = funcs[x](mat, axis=1)
        index = pd.Index(ids, name="run")
        return {x: pd.DataFrame(cols[x], index=index, columns=names) for x in stats}

    def _members(self, what: str, names: list[str] | None, variants: Iterable[str] | None):
        """(variant, member, run ids, runs x days) for each requested member: the loop every daily query shares."""
        _check_what(what)
        names = list(names or self.names(what))
        for v in list(variants or self.variants):
            for n, ids, mat in self.matrices(what, names, v):
                yield v, n, ids, mat

    def to_df(self, what: str = "stocks", names: list[str] | None = None, variants: Iterable[str] | None = None) -> Any:
        """Tidy daily values of every finished run: date, variant, run, <member>, value (the dtypes of
        `Run.to_df`; `run` is the replicate, whose seed is the experiment's seed + run)."""
        import pandas as pd

        from refuge.results.run import tidy_dtypes

        member = _check_what(what)
        dates = self.dates
        frames = []
        for v, n, ids, mat in self._members(what, names, variants):
            frames.append(pd.DataFrame({
                "date": np.tile(dates.values, len(ids)), "variant": v, "run": np.repeat(ids, len(dates)),
                member: n, "value": mat.reshape(-1)}))
        if not frames:
            frames = [pd.DataFrame({"date": [], "variant": [], "run": [], member: pd.Series([], dtype=object),
                                    "value": []})]
        return tidy_dtypes(pd.concat(frames, ignore_index=True), what)

    def reduce(self, what: str = "stocks", names: list[str] | None = None, variants: Iterable[str] | None = None,
               quantiles: Iterable[float] = DEFAULT_QUANTILES) -> Any:
        """Per day and member: the mean, median and quantile bands over runs (a few columns read at a time)."""
        import pandas as pd

        qs = [float(q) for q in quantiles]
        member = _check_what(what)
        dates = self.dates
        frames = []
        for v, n, ids, mat in self._members(what, names, variants):
            if not len(ids):
                continue
            row = {"date": dates, "variant": v, member: n, "runs": len(ids), "mean": mat.mean(axis=0)}
            for q, vals in zip(qs, np.quantile(mat, qs, axis=0)):
                row[quantile_name(q)] = vals
            frames.append(pd.DataFrame(row))
        if not frames:
            return pd.DataFrame(columns=["date", "variant", member, "runs", "mean"] + [quantile_name(q) for q in qs])
        return pd.concat(frames, ignore_index=True)

    def by_year(self, what: str = "flows", names: list[str] | None = None, variants: Iterable[str] | None = None,
                level: float = 0.90) -> Any:
        """Calendar-year totals per run (e.g. people moved along each edge), reduced to median and interval.

        `days` says how many days of the year the scenario covers: a partial first or last year
        has smaller totals."""
        import pandas as pd

        member = _check_what(what)
        years = self.dates.year.to_numpy()
        uniq, covered = np.unique(years, return_counts=True)
        lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
        rows = []
        for v, n, ids, mat in self._members(what, names, variants):
            if not len(ids):
                continue
            totals = np.stack([mat[:, years == y].sum(axis=1) for y in uniq], axis=1)
            med, low, high = np.quantile(totals, [0.5, lo_q, hi_q], axis=0)
            for k, y in enumerate(uniq):
                rows.append({"variant": v, member: n, "year": int(y), "days": int(covered[k]),
                             "runs": len(ids), "mean": float(totals[:, k].mean()), "median": float(med[k]),
                             "low": float(low[k]), "high": float(high[k])})
        return pd.DataFrame(rows, columns=["variant", member, "year", "days", "runs", "mean", "median", "low",
                                           "high"])

    def stays(self, states: list[str] | None = None, variants: Iterable[str] | None = None) -> Any:
        """Stays in tracked states, one row per stay: variant, run, state, entry day, days, people, completed.

        Large ensembles hold millions of stays: `stay_totals` aggregates them without loading them all."""
        cols = ["variant", "run", "state", "entry", "days", "people", "completed"]
        return self.dataset("stays").to_table(columns=cols, filter=_stay_filter(states, variants)).to_pandas()

    def stay_totals(self, by: Iterable[str] = ("variant", "state", "completed", "days"),
                    states: list[str] | None = None, variants: Iterable[str] | None = None,
                    completed: bool | None = None) -> Any:
        """People in stays, summed over everything but the columns `by` (e.g. a histogram of stay lengths per
        state and variant, or people still waiting per run), reading the stays a batch at a time."""
        import pyarrow as pa

        by = list(by)
        unknown = set(by) - {"variant", "run", "state", "entry", "days", "completed"}
        if unknown:
            raise RefugeError(f"by: expected columns of the stays table; found {', '.join(sorted(unknown))}")
        parts = []
        flt = _stay_filter(states, variants, completed)
        for batch in self.dataset("stays").to_batches(columns=by + ["people"], filter=flt, batch_size=1 << 20):
            if batch.num_rows:
                parts.append(pa.Table.from_batches([batch]).group_by(by).aggregate([("people", "sum")]))
        if not parts:
            import pandas as pd

            return pd.DataFrame(columns=by + ["people"])
        total = pa.concat_tables(parts).group_by(by).aggregate([("people_sum", "sum")])
        df = total.to_pandas().rename(columns={"people_sum_sum": "people"})
        return df.sort_values(by, ignore_index=True)[by + ["people"]]

    def summary(self, level: float = 0.90) -> Any:
        """Per outcome (the scenario's, see `refuge.model.outcomes`) and variant: label, unit, and the median
        and central interval over runs."""
        import pandas as pd

        df = self.measures()
        lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
        rows = []
        for o in self.model().outcomes:
            col = f"outcome:{o['name']}"
            for v in self.variants:
                x = df.loc[df.variant == v, col].to_numpy(float) if len(df) and col in df else np.zeros(0)
                x = x[~np.isnan(x)]
                q = np.quantile(x, [0.5, lo_q, hi_q]) if len(x) else [np.nan] * 3
                rows.append({"outcome": o["name"], "label": o["label"], "unit": o["unit"], "variant": v,
                             "runs": len(x), "median": q[0], "low": q[1], "high": q[2]})
        return pd.DataFrame(rows, columns=["outcome", "label", "unit", "variant", "runs", "median", "low", "high"])

    def evidence(self, variant: str | None = None, level: float = 0.90) -> Any:
        """The evidence table of a variant (see `refuge.evidence.evaluate`)."""
        from refuge.evidence.measures import evaluate

        variant = variant or self.variants[0]
        model = self.model(variant)
        df = self.measures([variant])
        cols = [f"evidence:{f['id']}" for f in model.evidence]
        values = df[cols].to_numpy(float) if len(df) else np.zeros((0, len(cols)))
        return evaluate(model, values.reshape(len(df), len(cols)), level=level)

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


def _stay_filter(states, variants, completed: bool | None = None):
    import pyarrow.compute as pc

    parts = []
    if variants is not None:
        parts.append(pc.field("variant").isin(list(variants)))
    if states is not None:
        parts.append(pc.field("state").isin(list(states)))
    if completed is not None:
        parts.append(pc.field("completed") == bool(completed))
    flt = None
    for p in parts:
        flt = p if flt is None else flt & p
    return flt


def quantile_name(q: float) -> str:
    """The column name of a quantile: `median`, `q5`, `q95`, ..."""
    return "median" if q == 0.5 else f"q{100 * q:g}"


def _check_what(what: str) -> str:
    """The member column of a daily quantity (`state`, `site`, ...); a short error for an unknown one."""
    from refuge.results.run import check_quantity

    return check_quantity(what, WHATS)


def _explain(key: str, stored: Any, asked: Any) -> str:
    if key != "variants":
        return f"{key}: stored {_short(stored)}, asked {_short(asked)}"

    def text(vs: list) -> str:
        return ", ".join(v["name"] + (" (" + " ".join(f"{k}={x:g}" for k, x in v["set"].items()) + ")"
                                      if v["set"] else "") for v in vs)

    return f"variants: stored {text(stored)}; asked {text(asked)}"


def _check_file(f: Path, table: str, key: str, variant: str, run: int, days: int, columns: list[str]) -> str:
    """'' when the run file is sound and this experiment's; 'foreign'; or what is wrong with it."""
    import pyarrow.parquet as pq

    if not f.is_file():
        return "not a file"
    try:
        md = pq.read_metadata(f)
        stamp = json.loads((md.metadata or {}).get(STAMP_KEY, b"null"))
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        return f"unreadable ({str(exc).splitlines()[0][:80]})"
    if not isinstance(stamp, dict):
        return "foreign"
    if stamp.get("experiment") != key:
        return "foreign"
    if stamp.get("variant") != variant or stamp.get("run") != run:
        return "in the wrong place"
    if table == "daily" and (md.num_rows != days or md.schema.names != columns):
        return f"{md.num_rows} rows of {md.num_columns} columns, expected {days} of {len(columns)}"
    if table == "measures" and md.num_rows != 1:
        return f"{md.num_rows} rows, expected 1"
    return ""


def _remove(f: Path) -> None:
    """Delete a damaged or temporary run file (an empty directory in its place too)."""
    try:
        f.rmdir() if f.is_dir() else f.unlink(missing_ok=True)
    except OSError as exc:
        raise RefugeError(f"{f}: damaged, and cannot be removed ({exc.strerror}); remove it, or use another "
                          "--out") from None


def _short(x: Any) -> str:
    text = json.dumps(x) if not isinstance(x, str) else x
    return text if len(text) <= 80 else text[:77] + "..."
