"""Common random numbers per decision (issue 17, item 3): each transition, arrival stream and event draws from a
stream of its own, keyed by the run seed, its name and the day, so a variant that changes one transition leaves
everything upstream of it identical run for run, in both engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from refuge.api import load, simulate, simulate_reference

# A -> B -> C, with people arriving into A and B -> C the only thing a variant changes. A is counted (or tracked,
# with a duration), B tracked (its exit a duration) or counted (a rate); groups arrive by an event too.
CHAIN = """
name: crn_chain
start: 2010-01-01
end: 2010-12-31
states:
  - {{name: a, kind: hiding, initial: 40{a_tracked}}}
  - {{name: b, kind: refuge, initial: 5}}
  - {{name: c, kind: destination}}
  - {{name: d, kind: returned}}
transitions:
  - {{name: ab, from: a, {a_exit}, to: b}}
  - {{name: ad, from: a, rate: 0.01, to: d}}
  - {{name: bc, from: b, {b_exit}, split: [{{to: c, p: 0.6}}, {{to: d, p: rest}}]}}
arrivals:
  - {{name: steady, to: a, rate: 3.5}}
events:
  - {{name: boat, date: 2010-06-01, to: a, size: 30, assumption: true}}
"""

VARIANTS = {  # (A's exit, B's exit before, B's exit after)
    "counted": ("rate: 0.05", "", "rate: 0.02", "rate: 0.09"),
    "tracked": ("rate: 0.05", "", "duration: {dist: gamma, mean: 12, sd: 5}",
                "duration: {dist: gamma, mean: 30, sd: 9}"),
    "tracked_a": ("duration: {dist: exponential, mean: 20}", ", track_stays: true",
                  "duration: {dist: lognormal, median: 8, sigma: 0.5}", "duration: {dist: fixed, value: 3}"),
}


def _pair(tmp_path: Path, case: str):
    a_exit, a_tracked, before, after = VARIANTS[case]
    out = []
    for k, b_exit in enumerate((before, after)):
        path = tmp_path / f"{case}_{k}.yaml"
        path.write_text(CHAIN.format(a_exit=a_exit, a_tracked=a_tracked, b_exit=b_exit))
        out.append(load(path))
    return out


@pytest.mark.parametrize("case", list(VARIANTS))
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_a_change_to_b_to_c_leaves_every_a_to_b_flow_identical(tmp_path, case, engine):
    base, variant = _pair(tmp_path, case)
    run = simulate if engine == "fast" else simulate_reference
    ab = [e for e, n in enumerate(base.edge_names) if n == "ab->b"]
    bc = [e for e, n in enumerate(base.edge_names) if n.startswith("bc")]
    a, b = base.state_index("a"), base.state_index("b")
    downstream_differs = 0
    for seed in range(8 if engine == "fast" else 4):
        r0, r1 = run(base, seed=seed), run(variant, seed=seed)
        assert np.array_equal(r0.flows[:, ab], r1.flows[:, ab]), f"seed {seed}: A -> B flows differ"
        assert np.array_equal(r0.arrived, r1.arrived)
        assert np.array_equal(r0.stocks[:, a], r1.stocks[:, a])
        assert r0.flows[:, ab].sum() > 100
        downstream_differs += not np.array_equal(r0.flows[:, bc], r1.flows[:, bc])
        downstream_differs += not np.array_equal(r0.stocks[:, b], r1.stocks[:, b])
    assert downstream_differs  # the variant does change B -> C: the test is not vacuous


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_decisions_are_known_by_name_not_position(tmp_path, engine):
    """A new state and transition declared first (every other decision moves to another row) change nothing
    upstream of them: streams are keyed by names."""
    text = CHAIN.format(a_exit="rate: 0.05", a_tracked="", b_exit="rate: 0.02")
    moved = text.replace("states:\n", "states:\n  - {name: e, kind: destination}\n", 1).replace(
        "transitions:\n", "transitions:\n  - {name: ce, from: c, rate: 0.1, to: e}\n", 1)
    models = []
    for k, t in enumerate((text, moved)):
        (tmp_path / f"m{k}.yaml").write_text(t)
        models.append(load(tmp_path / f"m{k}.yaml"))
    run = simulate if engine == "fast" else simulate_reference
    for seed in range(3):
        r0, r1 = (run(m, seed=seed) for m in models)
        for name in ("ab->b", "ad->d", "bc->c", "bc->d"):
            e0, e1 = models[0].edge_names.index(name), models[1].edge_names.index(name)
            assert np.array_equal(r0.flows[:, e0], r1.flows[:, e1]), name
        assert models[1].state_names[0] == "e" and r1.flows[:, models[1].edge_names.index("ce->e")].sum() > 0


def test_paired_runs_of_a_variant_stay_close_downstream_too(tmp_path):
    """Where the variant acts, paired runs stay correlated to the end: the end-of-run count of B in paired runs
    correlates strongly (runs of different seeds would not)."""
    base, variant = _pair(tmp_path, "counted")
    b = base.state_index("b")
    ends = np.array([[simulate(m, seed=s).stocks[-1, b] for m in (base, variant)] for s in range(40)])
    assert np.corrcoef(ends[:, 0], ends[:, 1])[0, 1] > 0.5
