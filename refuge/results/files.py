"""Writing results to disk: tidy CSV and Parquet, each file written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # type hints only: run.py imports this module (Run.write)
    from refuge.results.run import Run


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write(tmp_path)` then rename into place, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_frame(df: Any, path: Path) -> Path:
    """Write a DataFrame atomically as Parquet (`.parquet`) or CSV (anything else); return the path."""
    if path.suffix == ".parquet":
        atomic_write(path, lambda p: df.to_parquet(p, index=False))
    else:
        atomic_write(path, lambda p: df.to_csv(p, index=False))
    return path


RUN_TABLES = ("stocks", "flows", "sites", "stays")
RUN_META = "run.json"
_IDENTITY = ("scenario_digest", "seed", "until", "set", "refuge_version")


def run_meta(run: Run, overrides: dict[str, float] | None = None) -> dict:
    """How a run was made: scenario (digest and in full), seed, last day, parameters set, refuge version."""
    import datetime as dt

    import refuge

    m = run.model
    return {
        "format": 1,
        "refuge_version": refuge.__version__,
        "scenario_name": m.scenario.name,
        "scenario_title": m.scenario.title,
        "scenario_origin": m.origin,
        "scenario_digest": m.digest,
        "seed": int(run.seed),
        "until": str(m.dates[run.days - 1].date()) if run.days else None,
        "set": {k: float(v) for k, v in (overrides or {}).items()},
        "engine": run.engine,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "scenario": m.scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True),
    }


def _run_files() -> list[str]:
    return [RUN_META] + [f"{what}.{ext}" for what in RUN_TABLES for ext in ("csv", "parquet")]


def _check_out(out: Path, meta: dict, overwrite: bool) -> None:
    """A run goes into an empty folder, or replaces the same run (same scenario, seed, period, values and
    version); anything else is refused with what differs, unless `overwrite`."""
    import json

    from refuge.errors import RefugeError

    if out.exists() and not out.is_dir():
        raise RefugeError(f"{out}: exists and is not a directory; give --out a directory")
    present = sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.is_dir() else []
    if not present:
        return
    if (out / "experiment.json").exists() or (out / "calibration.json").exists():
        raise RefugeError(f"{out}: holds an experiment; write this run to another directory (--out DIR)")
    if overwrite:
        return
    old_file = out / RUN_META
    if not old_file.exists():
        shown = ", ".join(present[:4]) + (", ..." if len(present) > 4 else "")
        raise RefugeError(f"{out}: already holds files not written by a run ({shown}); write to another "
                          "directory (--out DIR), or add --overwrite to replace the run files in it")
    try:
        old = json.loads(old_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RefugeError(f"{old_file}: unreadable ({exc}); use another --out DIR, or --overwrite") from None
    diff = [f"{k}: stored {old.get(k)!r}, now {meta.get(k)!r}" for k in _IDENTITY if old.get(k) != meta.get(k)]
    if diff:
        raise RefugeError(f"{out}: holds another run ({'; '.join(diff)}); write to another directory "
                          "(--out DIR), or add --overwrite to replace it")


def write_run(run: Run, out: Path | str, overrides: dict[str, float] | None = None,
              overwrite: bool = False) -> list[Path]:
    """stocks, flows, sites and stays of one run, as CSV and Parquet, and `run.json`: how the run was made.

    `out` must be empty or hold the same run (written again, the same files); a folder holding another
    run or other files is refused with a RefugeError, unless `overwrite` (which replaces the run's files
    and leaves others alone). `overrides`: the parameter values set on top of the scenario file."""
    import json

    out = Path(out)
    meta = run_meta(run, overrides)
    _check_out(out, meta, overwrite)
    if overwrite:
        (out / RUN_META).unlink(missing_ok=True)  # the run is not described until its tables are all written
    files = []
    for what in RUN_TABLES:
        df = run.to_df(what)
        for ext in ("csv", "parquet"):
            files.append(write_frame(df, out / f"{what}.{ext}"))
    text = json.dumps(meta, indent=1) + "\n"
    atomic_write(out / RUN_META, lambda p: p.write_text(text, encoding="utf-8"))
    return files + [out / RUN_META]


def save_figure(fig: Any, path: Path | str, dpi: int = 110) -> Path:
    """Lay out a matplotlib figure, write it as PNG atomically, and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=dpi))
    plt.close(fig)
    return path
