"""Candidates already simulated in the generation under way (`pending/`), so an interrupted one loses none."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any


class Pending:
    """Candidates already simulated in the generation under way, appended to a file as they finish."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, t: int) -> Path:
        return self.folder / f"generation-{t}.pkl"

    def load(self, t: int, key: tuple) -> dict[int, Any]:
        """Candidates of generation `t` simulated under the same key; drop any other generation's leftovers."""
        if self.folder.exists():
            for p in self.folder.glob("generation-*.pkl"):
                if p != self.path(t):
                    p.unlink()
        found: dict[int, Any] = {}
        p = self.path(t)
        if not p.exists():
            return found
        with p.open("rb") as fh:
            try:
                if pickle.load(fh) != key:
                    raise EOFError
                while True:
                    found.update(pickle.load(fh))
            except (EOFError, pickle.UnpicklingError, AttributeError, ValueError):
                pass  # a record cut short by an interruption ends the usable part
        if not found:
            p.unlink(missing_ok=True)
        return found

    def append(self, t: int, key: tuple, particles: dict[int, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        p = self.path(t)
        new = not p.exists()
        with p.open("ab") as fh:
            if new:
                pickle.dump(key, fh)
            pickle.dump(particles, fh)
            fh.flush()
            os.fsync(fh.fileno())


