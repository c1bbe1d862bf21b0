"""The files of a calibration experiment, and its metadata (calibration.json)."""

from __future__ import annotations

import json
from pathlib import Path

from refuge.errors import RefugeError

DB_NAME = "calibration.db"
META_NAME = "calibration.json"
POSTERIOR_NAME = "posterior.parquet"
SUMMARY_NAME = "posterior_summary.csv"
PREDICTIVE_NAME = "posterior_predictive.csv"
MARGINALS_NAME = "marginals.png"
PREDICTIVE_DIR = "predictive"


def read_meta(experiment: Path) -> dict:
    """The calibration's metadata (`calibration.json`) in an experiment directory."""
    p = Path(experiment) / META_NAME
    if not p.exists():
        raise RefugeError(f"{experiment}: not a calibration experiment (no {META_NAME})")
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RefugeError(f"{p}: not readable as a calibration's metadata ({type(exc).__name__}: "
                          f"{str(exc)[:80]}); run the calibration again with --restart") from None
    if not isinstance(meta, dict):
        raise RefugeError(f"{p}: expected a JSON object; found {type(meta).__name__}")
    return meta


def write_meta(experiment: Path, meta: dict) -> None:
    """Write the calibration's metadata atomically."""
    from refuge.results.files import atomic_write

    atomic_write(experiment / META_NAME, lambda p: p.write_text(json.dumps(meta, indent=2, default=str),
                                                                   encoding="utf-8"))
