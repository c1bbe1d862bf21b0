"""Candidates already simulated in the generation under way (`pending/`), so an interrupted one loses none.

One JSON Lines file per generation, `generation-T.jsonl`: a header line with the format and the
key the candidates were simulated under (generation, population, threshold, seed, parameter
names, number of facts), then one line per batch of finished candidates. Nothing here can run
code when read (the format used to be pickle, which can): every record is parsed as JSON and
checked field by field (types, the parameter names, coordinates in [0, 1], one value per fact,
acceptance consistent with the threshold). A line cut short by an interruption ends the usable
part; a damaged or foreign record also ends it, with a warning, and the candidates after it
are simply simulated again (each candidate's seed is fixed, so the result is the same).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

from refuge.errors import RefugeWarning

FORMAT = "refuge-pending-candidates"
VERSION = 1
MAX_LINE = 16 * 2**20  # bytes: a batch of a few thousand candidates; a longer line is not ours


class Pending:
    """The unfinished generation's candidates, appended as they finish; read back checked."""

    def __init__(self, folder: Path, names: Sequence[str] = (), n_facts: int | None = None):
        self.folder = Path(folder)
        self.names = list(names)
        self.n_facts = n_facts

    def path(self, t: int) -> Path:
        """The file of generation `t`'s pending particles."""
        return self.folder / f"generation-{t}.jsonl"

    def header(self, key: tuple) -> dict:
        """The first line of a generation file: format, version, the calibration's key, parameter names."""
        return {"format": FORMAT, "version": VERSION, "key": list(key), "parameters": self.names,
                "facts": self.n_facts}

    def load(self, t: int, key: tuple) -> dict[int, Any]:
        """Candidates of generation `t` simulated under the same key; drop any other generation's leftovers."""
        if self.folder.is_dir():
            for p in self.folder.glob("generation-*"):
                if p != self.path(t) and p.is_file():
                    p.unlink()  # other generations, and checkpoints of older versions (pickle), unread
        p = self.path(t)
        if not p.is_file():
            return {}
        found = self._read(p, t, key)
        if not found:
            p.unlink(missing_ok=True)
        return found

    def _read(self, p: Path, t: int, key: tuple) -> dict[int, Any]:
        found: dict[int, Any] = {}
        with p.open("rb") as fh:
            lines = _lines(fh)
            try:
                head = _json(next(lines, (b"", False)))
            except ValueError:
                return found
            if head != self.header(key):
                return found  # simulated under another key (or not our file): simulated again
            eps = float(key[2])
            for lineno, (raw, complete) in enumerate(lines, start=2):
                try:
                    found.update(self._batch(_json((raw, complete)), eps))
                except ValueError as exc:
                    if complete or fh.read(1):  # not merely the last line cut short by an interruption
                        warnings.warn(f"{p}: line {lineno} is damaged ({exc}); the candidates from there on "
                                      "are simulated again", RefugeWarning, stacklevel=3)
                    break
        return found

    def _batch(self, batch: Any, eps: float) -> dict[int, Any]:
        if not isinstance(batch, dict) or not isinstance(batch.get("candidates"), list):
            raise ValueError("expected {\"candidates\": [...]}")
        return dict(self._particle(c, eps) for c in batch["candidates"])

    def _particle(self, c: Any, eps: float) -> tuple[int, Any]:
        from pyabc.parameters import Parameter
        from pyabc.population import Particle

        if not isinstance(c, dict) or set(c) != _FIELDS:
            raise ValueError(f"expected a candidate with the fields {', '.join(sorted(_FIELDS))}")
        i = _int(c["i"], "i")
        par = c["parameter"]
        if not isinstance(par, dict) or list(par) != self.names:
            raise ValueError(f"candidate {i}: expected the parameters {', '.join(self.names)}")
        values = {k: _number(v, f"parameter {k}") for k, v in par.items()}
        if not all(0.0 <= v <= 1.0 for v in values.values()):
            raise ValueError(f"candidate {i}: a parameter coordinate outside [0, 1]")
        facts = c["facts"]
        if not isinstance(facts, list) or (self.n_facts is not None and len(facts) != self.n_facts):
            raise ValueError(f"candidate {i}: expected {self.n_facts} fact values")
        facts = [_number(x, "facts", nan=True) for x in facts]
        invalid = _number(c["invalid"], "invalid")
        distance = _number(c["distance"], "distance", inf=True)
        if not isinstance(c["accepted"], bool) or not isinstance(c["preliminary"], bool):
            raise ValueError(f"candidate {i}: accepted and preliminary are true or false")
        if invalid not in (0.0, 1.0) or (invalid == 1.0) != math.isinf(distance) or distance < 0:
            raise ValueError(f"candidate {i}: distance and validity disagree")
        if c["accepted"] != (distance <= eps):
            raise ValueError(f"candidate {i}: accepted does not match its distance and the threshold")
        import numpy as np

        particle = Particle(m=_int(c["m"], "m"), parameter=Parameter(values), weight=_number(c["weight"], "weight"),
                            sum_stat={"facts": np.array(facts, float), "invalid": invalid}, distance=distance,
                            accepted=c["accepted"], proposal_id=_int(c["proposal_id"], "proposal_id"),
                            preliminary=c["preliminary"])
        return i, particle

    def append(self, t: int, key: tuple, particles: dict[int, Any]) -> None:
        """Add finished particles of generation `t` to its file (created with its header when new)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        p = self.path(t)
        new = not p.exists()
        lines = [] if not new else [json.dumps(self.header(key))]
        lines.append(json.dumps({"candidates": [_record(i, x) for i, x in particles.items()]}))
        with p.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


_FIELDS = {"i", "m", "parameter", "weight", "facts", "invalid", "distance", "accepted", "proposal_id",
           "preliminary"}


def _record(i: int, x: Any) -> dict:
    """A pyabc Particle as plain JSON (floats keep every bit: json writes repr; NaN/Infinity allowed)."""
    return {"i": int(i), "m": int(x.m), "parameter": {k: float(v) for k, v in x.parameter.items()},
            "weight": float(x.weight), "facts": [float(v) for v in x.sum_stat["facts"]],
            "invalid": float(x.sum_stat["invalid"]), "distance": float(x.distance), "accepted": bool(x.accepted),
            "proposal_id": int(x.proposal_id), "preliminary": bool(x.preliminary)}


def _lines(fh):
    """(line, ends with a newline) pairs; an over-long line is cut at MAX_LINE and counts as incomplete."""
    while raw := fh.readline(MAX_LINE + 1):
        complete = raw.endswith(b"\n") and len(raw) <= MAX_LINE
        yield raw, complete
        if len(raw) > MAX_LINE:
            return


def _json(item: tuple[bytes, bool]) -> Any:
    raw, complete = item
    if not complete:
        raise ValueError("cut short")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not JSON: {str(exc)[:80]}") from None


def _number(x: Any, what: str, nan: bool = False, inf: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{what}: expected a number")
    x = float(x)
    if (math.isnan(x) and not nan) or (math.isinf(x) and not inf):
        raise ValueError(f"{what}: expected a finite number")
    return x


def _int(x: Any, what: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < 2**53:
        raise ValueError(f"{what}: expected a whole number >= 0")
    return x
