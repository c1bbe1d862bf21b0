"""The fast engine gives bit-identical runs across refactorings that must not change results.

`tests/fixtures/engine_digests.json` holds a SHA-256 digest of every output array of runs of several
scenarios and seeds, written by the engine as it stood before a restructuring. A change that is meant to
alter results (a new semantics) regenerates the file and says so in its commit:

    PYTHONPATH=. python tests/test_engine_identical.py      # rewrites the fixture from the current engine
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "engine_digests.json"
SCENARIOS = ("north-korea-china", "ref_mission", "ref_camp", "ref_chain", "ref_sweep", "toy", "whatif",
             "synthetic")
SEEDS = (0, 1, 7)
ARRAYS = ("stocks", "flows", "arrived", "closed_sites", "closed_states", "rules_active", "max_stay", "params",
          "stays", "ongoing", "ongoing_size", "backlog")


def _model(name: str):
    from refuge.api import load
    from refuge.model.compiler import compile_scenario

    if name == "synthetic":
        sys.path.insert(0, str(HERE.parent / "benchmarks"))
        from synthetic import synthetic

        return compile_scenario(synthetic(reservoir=20_000, through=2_000, years=3))
    path = HERE / "scenarios" / f"{name}.yaml"
    return load(path if path.exists() else name)


def digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()[:20]


def run_digests(name: str, seed: int) -> dict[str, str]:
    from refuge.api import simulate

    run = simulate(_model(name), seed=seed)
    return {k: digest(getattr(run, k)) for k in ARRAYS}


@pytest.mark.parametrize("name", SCENARIOS)
def test_runs_are_bit_identical_to_the_recorded_engine(name):
    recorded = json.loads(FIXTURE.read_text())
    for seed in SEEDS:
        now = run_digests(name, seed)
        want = recorded[f"{name}/{seed}"]
        changed = [k for k in ARRAYS if now[k] != want[k]]
        assert not changed, f"{name}, seed {seed}: {', '.join(changed)} differ from the recorded engine"


if __name__ == "__main__":
    out = {f"{n}/{s}": run_digests(n, s) for n in SCENARIOS for s in SEEDS}
    FIXTURE.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE} ({len(out)} runs)")


@pytest.mark.parametrize("name, tight_rows", [("ref_camp", (2, 2, 1, 1)), ("net/mixed", (1024, 1024, 16, 2))])
def test_a_run_that_outgrows_its_tables_is_made_again_with_the_same_result(monkeypatch, name, tight_rows):
    """Tables of units, stays, waiting groups and people one by one on a route network have fixed rows within a
    run; a run that fills one is made again from the same seed with bigger tables, so the result does not depend
    on the first guess."""
    from refuge.api import simulate
    from refuge.sim import run as kernel

    model = _model(name)
    monkeypatch.setattr(kernel, "_TABLE_ROWS", {})
    roomy = simulate(model, seed=3)
    key = (model.scenario.name, model.days)
    monkeypatch.setattr(kernel, "_TABLE_ROWS", {key: tight_rows})
    calls = []
    real = kernel.run_days
    monkeypatch.setattr(kernel, "run_days", lambda *a: calls.append(a[4].copy()) or real(*a))
    tight = simulate(model, seed=3)
    assert len(calls) > 1 and (calls[-1] > calls[0]).any()  # it grew
    for k in ARRAYS + (("entered", "net_change", "spawned") if model.net is not None else ()):
        assert np.array_equal(getattr(roomy, k), getattr(tight, k)), k
