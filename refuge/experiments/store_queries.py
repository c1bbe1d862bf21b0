"""Queries of an experiment store (`Experiment`'s reading half): datasets over the run files, the runs'
measures and summaries, daily values per run (a few columns at a time), bands, yearly totals, stays,
outcomes and evidence."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import numpy as np

from refuge.errors import RefugeError
from refuge.experiments.store_files import TABLES, WHATS
from refuge.experiments.store_meta import check_variant_name

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MEMORY_BUDGET = 512 * 2**20  # bytes a query may hold at once. Opening 1,000 files costs more than decoding
# their columns, so a query reads as many columns per pass as this allows.


class Queries:
    """The queries of `Experiment` (a base class of it): they read the store through its `path`, `variants`,
    `finished`, `file`, `model`, `names`, `dates`, `_days` and the caches `_datasets` and `_measures`."""

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
