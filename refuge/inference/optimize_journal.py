"""The policy search's files: Optuna's journal (resumable, never pickle), the spec it belongs to, atomic writes,
and a lever's grid step as Optuna takes it (shared by the single-answer search and the Pareto front)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refuge.errors import RefugeError
from refuge.inference.optimize_spec import OptimizeSpec

STUDY = "refuge-optimize"
JOURNAL = "study.journal"


def _journal(spec: OptimizeSpec, model: Any, folder: Path | None) -> Any:
    """Optuna's journal file in `folder` (None: in memory), refusing a folder that holds another search."""
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    # what the trials depend on (more trials, or a longer re-check, continue the same search)
    fp = {"scenario": model.digest,
          "spec": json.loads(spec.model_dump_json(by_alias=True, exclude={"trials", "check_runs"}))}
    meta = folder / "spec.json"
    if meta.exists():
        try:
            old = json.loads(meta.read_text())
        except (OSError, ValueError):
            old = None
        if old != fp:
            raise RefugeError(f"{folder}: holds another search (a different scenario or spec); "
                              "give another --out or empty it")
    else:
        _atomic(meta, json.dumps(fp, indent=1, default=str))
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(folder / JOURNAL)))


def _step(lv) -> float | None:
    """The lever's grid step when it divides the range (Optuna's requirement), else none."""
    if not lv.step:
        return None
    n = (lv.high - lv.low) / lv.step
    return lv.step if abs(n - round(n)) < 1e-9 else None


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
