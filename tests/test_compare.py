"""What-if comparisons: common random numbers, paired differences with intervals, variants from the CLI or the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from refuge.api import load, simulate
from refuge.cli import app
from refuge.errors import RefugeError
from refuge.evidence.outcomes import outcomes
from refuge.experiments.compare import compare, differences, parse_values, parse_variant

DEFAULTS = ("entries", "waiting_mean", "waiting_peak", "longest_wait", "arrivals", "arrests", "returns")

HERE = Path(__file__).parent
WHATIF = HERE / "scenarios" / "whatif.yaml"
RUNS = 12


@pytest.fixture(scope="module")
def declared(tmp_path_factory):
    """The variants declared in the scenario file, against the baseline."""
    return compare(WHATIF, runs=RUNS, seed=3, workers=1, store=tmp_path_factory.mktemp("cmp") / "c")


def row(table, variant: str, outcome: str):
    return table[(table.variant == variant) & (table.outcome == outcome)].iloc[0]


def test_outcomes_of_a_run_count_people_by_state_kind():
    model = load(WHATIF)
    run = simulate(model, seed=1)
    out = outcomes(run)
    assert list(out) == list(DEFAULTS)  # the defaults by state kind: the scenario declares no outcomes
    mission = run.stocks[:, model.state_index("mission")]
    assert out["waiting_mean"] == pytest.approx(mission.mean())
    assert out["waiting_peak"] == mission.max()
    assert out["longest_wait"] == run.max_stay[:, model.state_index("mission")].max()
    assert out["arrivals"] == run.flow_of(["onward"]).sum()
    assert out["entries"] == run.flow_of(["attempt->mission"]).sum()
    custody = model.state_index("custody")
    into_custody = [e for e, target in enumerate(model.edge_target) if target == custody]
    assert len(into_custody) == 3  # failed attempts, attempts redirected from a full or closed mission, raids
    assert out["arrests"] == run.flows[:, into_custody].sum()
    assert out["returns"] == run.flow_of(["custody_end->returned"]).sum()


def test_declared_variants_run_against_the_baseline_with_the_same_seeds(declared):
    exp = declared.experiment
    assert exp.variants == ["baseline", "faster", "bigger", "same"]
    runs = exp.runs()
    for v in exp.variants:
        assert runs[runs.variant == v].seed.tolist() == [3 + r for r in range(RUNS)]


def test_a_variant_that_changes_nothing_differs_by_exactly_zero(declared):
    same = declared.table[declared.table.variant == "same"]
    assert len(same) == len(DEFAULTS)
    assert (same[["difference", "low", "high", "mean_difference"]].to_numpy() == 0).all()


def test_faster_clearance_means_shorter_waits_and_more_arrivals(declared):
    t = declared.table
    arrivals = row(t, "faster", "arrivals")
    assert arrivals.low > 0 and arrivals.mean_low > 0  # every run: more people reach the destination
    waiting = row(t, "faster", "waiting_mean")
    assert waiting.high < 0
    assert row(t, "bigger", "waiting_peak").difference > 0  # more room, more people sheltered at the peak
    assert (t.runs == RUNS).all()


def test_runs_of_a_variant_follow_the_baseline_until_its_policy_acts(declared):
    """Common random numbers: with twice the room, each run is the baseline's day for day until a group first
    finds the mission too full to enter (the only moment room matters); only then do the two paths part."""
    exp = declared.experiment
    _, turned_away = exp.matrix("flows", "attempt->custody (redirected)", "baseline")
    parted = 0
    for name in ("stocks", "flows"):
        for member in exp.names(name):
            _, base = exp.matrix(name, member, "baseline")
            _, big = exp.matrix(name, member, "bigger")
            for r in range(RUNS):
                binds = int(np.argmax(turned_away[r] > 0))
                assert binds > 0
                assert np.array_equal(base[r, :binds], big[r, :binds])
                parted += not np.array_equal(base[r], big[r])
    assert parted > 0


def test_differences_pair_runs_by_replicate(declared):
    m = declared.experiment.measures()
    b = m[m.variant == "baseline"].set_index("run")["outcome:arrivals"]
    f = m[m.variant == "faster"].set_index("run")["outcome:arrivals"]
    d = (f - b).to_numpy()
    r = row(differences(declared.experiment), "faster", "arrivals")
    assert r.difference == np.median(d) and r.mean_difference == pytest.approx(d.mean())
    assert r.low == pytest.approx(np.quantile(d, 0.05)) and r.high == pytest.approx(np.quantile(d, 0.95))
    assert r.mean_low < r.mean_difference < r.mean_high


def test_variant_texts_parse_or_name_the_option():
    sc = load(WHATIF).scenario
    assert parse_variant("quick:clear_days=10,success=0.5", sc)["set"] == {"clear_days": 10.0, "success": 0.5}
    assert parse_variant("bigger", sc)["set"] == {"room": 60.0}
    assert parse_values("a=1, b=2.5") == {"a": 1.0, "b": 2.5}
    with pytest.raises(RefugeError, match="--variant: .*found 'biger' \\(did you mean `bigger`\\?\\)"):
        parse_variant("biger", sc)
    with pytest.raises(RefugeError, match="--variant quick: expected a number or the name of a parameter after"):
        parse_variant("quick:clear_days=soon", sc)
    with pytest.raises(RefugeError, match="`baseline` is the scenario as written"):
        parse_variant("baseline:success=0.1", sc)


def test_a_scenario_without_variants_needs_some(tmp_path):
    with pytest.raises(RefugeError, match="no variants to compare"):
        compare(HERE / "scenarios" / "toy.yaml", runs=1, store=tmp_path / "n")


def test_cli_compare_prints_differences_and_writes_them(tmp_path):
    out = tmp_path / "c"
    res = CliRunner().invoke(app, ["compare", str(WHATIF), "--variant", "quick:clear_days=10", "--variant", "bigger",
                                   "--runs", "4", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "quick (clear_days=10), 4 paired runs" in res.output
    assert "bigger — twice the room (room=60)" in res.output
    assert "arrivals at a destination" in res.output
    assert (out / "differences.csv").read_text().startswith("variant,outcome,label,unit,runs,baseline,value,difference")
    bad = CliRunner().invoke(app, ["compare", str(WHATIF), "--variant", "quick:clear_dayz=1", "--out", str(out)])
    assert bad.exit_code == 2 and "variant quick: expected a parameter" in bad.output
