"""Writing results to disk: tidy CSV and Parquet, each file written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from refuge.results.run import Run


def atomic_write(path: Path, write) -> None:
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


def write_frame(df, path: Path) -> Path:
    if path.suffix == ".parquet":
        atomic_write(path, lambda p: df.to_parquet(p, index=False))
    else:
        atomic_write(path, lambda p: df.to_csv(p, index=False))
    return path


def write_run(run: Run, out: Path | str) -> list[Path]:
    """stocks, flows, sites and stays of one run, as CSV and Parquet."""
    out = Path(out)
    files = []
    for what in ("stocks", "flows", "sites", "stays"):
        df = run.to_df(what)
        for ext in ("csv", "parquet"):
            files.append(write_frame(df, out / f"{what}.{ext}"))
    return files


def save_figure(fig, path: Path | str, dpi: int = 110) -> Path:
    """Lay out a matplotlib figure, write it as PNG atomically, and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=dpi))
    plt.close(fig)
    return path
