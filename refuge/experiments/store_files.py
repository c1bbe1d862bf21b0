"""The experiment store's run files: what a run contributes (its three tables, their columns, their Parquet
bytes with the run's fingerprint) and the check of a kept file (sound, and of this experiment)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError

FORMAT = 2  # 2: run files carry their fingerprint
STAMP_KEY = b"refuge"
TABLES = ("stays", "measures", "daily")  # write order: the daily file marks the run finished
# as results.run.DAILY
WHATS = ("stocks", "sites", "capacity", "closed", "flows", "max_stay", "arrivals", "rules", "entered")
RUN_RE = re.compile(r"^run-(\d+)\.parquet$")


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
