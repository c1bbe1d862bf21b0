"""`network.spawning.scale`: a multiplier of a spawning total, so that a forecast's drift can move how many set
out (mali2012's and burundi2015's `spawn_drift`). Whole people, the fraction a chance of one more; a scale of 1
draws nothing, so a scenario runs exactly as without one; both engines agree in distribution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import refuge
from refuge.api import as_model, simulate_reference
from refuge.errors import ScenarioError
from refuge.scenario import parse
from refuge.sim.invariants import check_invariants

NET = Path(__file__).parent / "scenarios" / "net"


def _line(scale=None, **params) -> dict:
    """line.yaml (100 spawn at A on day 1, 50 on day 6), with a spawning scale and parameters."""
    data = yaml.safe_load((NET / "line.yaml").read_text())
    if scale is not None:
        data["network"]["spawning"]["scale"] = scale
    if params:
        data["parameters"] = params
    return data


def _model(data: dict):
    return as_model(parse(data, "line.yaml"))


def test_a_whole_scaled_total_is_exact_in_both_engines():
    model = _model(_line(1.5))
    for seed in range(3):
        for engine in (refuge.simulate, simulate_reference):
            run = engine(model, seed=seed)
            assert run.spawned.tolist()[:8] == [0, 150, 0, 0, 0, 0, 75, 0]
            check_invariants(run)


def test_a_fraction_is_a_chance_of_one_more_with_the_exact_mean():
    """50 x 1.37 = 68.5 on day 6: 68 or 69, half the time each, in both engines (200 runs: the mean within 4.5
    standard errors of 68.5); 100 x 1.37 = 137 on day 1 is whole."""
    model = _model(_line(1.37))
    runs = 200
    for engine in (refuge.simulate, simulate_reference):
        n = np.array([engine(model, seed=s).spawned for s in range(runs)])
        assert set(n[:, 1].tolist()) == {137}
        assert set(n[:, 6].tolist()) == {68, 69}
        assert abs(n[:, 6].mean() - 68.5) < 4.5 * 0.5 / np.sqrt(runs)


def test_a_scale_of_one_runs_exactly_as_without_one():
    plain = _model(_line())
    named = _model(_line("s", s={"value": 1, "assumption": True}))
    for seed in range(3):
        a, b = refuge.simulate(plain, seed=seed), refuge.simulate(named, seed=seed)
        assert np.array_equal(a.stocks, b.stocks) and np.array_equal(a.spawned, b.spawned)
        a, b = simulate_reference(plain, seed=seed), simulate_reference(named, seed=seed)
        assert np.array_equal(a.stocks, b.stocks)


def test_a_drifting_scale_moves_the_numbers_and_both_engines_agree():
    """A daily drift of size 0.3 on the scale: each run its own path (the spawned numbers differ between runs,
    the people are kept), the same in distribution in both engines (150 runs each: the mean number spawned on
    each day and at each location each day, |z| < 4.5)."""
    data = _line("s", s={"value": 1, "assumption": True}, s_drift={"value": 0.3, "assumption": True})
    data["drift"] = [{"parameter": "s", "size": "s_drift", "step": "day"}]
    model = _model(data)
    runs = 150
    figures = []
    for engine in (refuge.simulate, simulate_reference):
        got = []
        for seed in range(runs):
            run = engine(model, seed=seed)
            if seed < 3:
                check_invariants(run)
            got.append(np.concatenate([run.spawned, run.stocks.ravel()]).astype(float))
        figures.append(np.array(got))
    fast, ref = figures
    assert len({tuple(r[:8]) for r in fast}) > 10  # the runs' paths differ
    se = np.sqrt(fast.var(0) / runs + ref.var(0) / runs)
    diff = np.abs(fast.mean(0) - ref.mean(0))
    z = np.where(se > 0, diff / np.where(se > 0, se, 1), diff * 1e9)
    assert z.max() < 4.5, (z.argmax(), fast.mean(0)[z.argmax()], ref.mean(0)[z.argmax()])


@pytest.mark.parametrize("data, words", [
    (_line("nope"), r"network.spawning.scale: expected a number or a parameter name; found `nope`"),
    (_line(1000.0), r"network.spawning.scale: .*multiplier of a network's spawning total"),
    (_line(-1.0), r"network.spawning.scale"),
])
def test_a_bad_scale_is_refused_naming_the_field(data, words):
    with pytest.raises(ScenarioError, match=words):
        _model(data)


def test_a_scale_with_conflict_driven_spawning_is_refused():
    data = yaml.safe_load((NET / "spawn.yaml").read_text())
    data["network"]["spawning"]["scale"] = 2
    with pytest.raises(ScenarioError, match=r"spawning.scale multiplies a `total`"):
        as_model(parse(data, "spawn.yaml"))
