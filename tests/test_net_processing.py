"""Processing at a location of the route network keeps people there (issue 20 finding 9): a state `at:` a
location counts in its population (the room the network's taper reads, a stock of the location, the camp's
evidence, `to_df("locations")`) in both engines; what stays refused says what to write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import refuge
from refuge.api import as_model, simulate_reference
from refuge.cli import app
from refuge.errors import ScenarioError
from refuge.evidence.measures import measure
from refuge.sim.invariants import check_invariants

NET = Path(__file__).parent / "scenarios" / "net"
REG = NET / "registration.yaml"
IN_PROCESS = ("registering", "registered")


def _without_at(tmp_path: Path) -> Path:
    """registration.yaml as it had to be written before `at:`: the people in process outside the network."""
    path = tmp_path / "no_at.yaml"
    path.write_text(REG.read_text().replace(", at: C", ""))
    return path


def _camp(run) -> np.ndarray:
    """(days,) everyone at camp C: its own state and the states of its processing."""
    m = run.model
    return run.stocks[:, [m.state_index(n) for n in ("C", *IN_PROCESS)]].sum(axis=1)


def test_people_in_process_count_in_the_camps_stock_and_locations():
    model = as_model(REG)
    assert [model.state_names[s] for s in model.net.at_states(model.net.names.index("C"))] == list(IN_PROCESS)
    for engine in (refuge.simulate, simulate_reference):
        run = engine(model, seed=3)
        check_invariants(run)
        assert (run.stocks[:, [model.state_index(n) for n in IN_PROCESS]].sum(axis=1) > 0).any()
        assert np.array_equal(run.stock_of(["C"]), _camp(run))
        locations = run.to_df("locations").pivot(index="date", columns="location", values="value")
        assert np.array_equal(locations["C"].to_numpy(), _camp(run))
        assert np.array_equal(locations["D"].to_numpy(), run.stocks[:, model.state_index("D")])
        # the camp's count compared with its data counts them too
        series = model.series[0]
        assert series["states"] == sorted(model.state_index(n) for n in ("C", *IN_PROCESS))
        fact = {"kind": "stock", "day": 40, "places": ["C"]}
        assert measure(run, fact) == _camp(run)[40]


def test_a_location_in_outcomes_signals_and_into_counts_its_people_in_process(tmp_path):
    """`end: [C]`, a rule's `stock: [C]` and `into: [C]` mean the camp: with its states of processing, each
    state once; moving into registration is a move within the camp, not into it."""
    text = REG.read_text() + (
        "outcomes:\n  - {name: camp_end, label: people at camp C at the end, end: [C]}\n"
        "  - {name: reached, label: people reaching camp C, into: [C]}\n"
        "rules:\n  - {name: crowded, signal: {stock: [C, registered]}, above: 1000, actions: [{close: C}]}\n")
    model = as_model(_write(tmp_path, text))
    camp = sorted(model.state_index(n) for n in ("C", *IN_PROCESS))
    assert model.outcomes[0]["states"] == camp
    assert sorted(model.rule_sig_idx[model.rule_sig_ptr[0]:model.rule_sig_ptr[1]].tolist()) == camp
    run = refuge.simulate(model, seed=2)
    assert run.flow_of(["enrol"]).sum() > 0
    fact = {"kind": "into", "days": (0, run.days - 1), **{k: model.outcomes[1][k] for k in
                                                           ("edges", "arrivals", "entered")}}
    assert measure(run, fact) == run.entered[:, model.state_index("C")].sum()  # by the routes only


def test_the_camps_room_holds_its_people_in_process(tmp_path):
    """The taper reads everyone at the camp: with `at: C` the camp (in process or not) stays near its room of
    60 (it overshoots by those already on the way); before, only the few not in process counted, and people
    kept setting out for a camp holding three times its room."""
    runs = 30
    at = np.array([_camp(refuge.simulate(REG, seed=s)) for s in range(runs)])
    before = np.array([_camp(refuge.simulate(_without_at(tmp_path), seed=s)) for s in range(runs)])
    assert at.max(axis=1).mean() < 80 < 150 < before.max(axis=1).mean()
    assert at[:, 30:].mean() < 65 and before[:, 30:].mean() > 120


def _figures(run) -> np.ndarray:
    return np.concatenate([run.stocks.ravel(), np.cumsum(run.flows, 0).ravel(),
                           np.cumsum(run.entered, 0).ravel()]).astype(float)


def test_fast_engine_matches_the_reference_in_distribution():
    """Means over 100 runs of each engine agree within sampling error: people in each state each day (the
    camp's own and its processing), cumulative flows and entries by the network. |z| < 4.5 for every figure."""
    runs = 100
    model = as_model(REG)
    fast = np.array([_figures(refuge.simulate(model, seed=s)) for s in range(runs)])
    ref = np.array([_figures(simulate_reference(model, seed=s)) for s in range(runs)])
    se = np.sqrt(fast.var(0) / runs + ref.var(0) / runs)
    diff = np.abs(fast.mean(0) - ref.mean(0))
    z = np.where(se > 0, diff / np.where(se > 0, se, 1), diff * 1e9)
    assert z.max() < 4.5, (z.argmax(), fast.mean(0)[z.argmax()], ref.mean(0)[z.argmax()])


@pytest.mark.parametrize("change, words", [
    ("at: Cx,", "states[4].at: expected a location of the route network (a `network.locations[].state`); found "
                "`Cx` (did you mean `C`?)"),
    ("at: C, site: s,", "states[4].site: expected no site for a state at a location of the route network"),
    ("at: moving,", "states[4].at: expected a location of the route network"),
])
def test_a_state_at_a_location_is_checked(change, words, tmp_path):
    text = REG.read_text().replace("{name: registered, kind: refuge, at: C,", "{name: registered, kind: refuge, "
                                   + change)
    text = text.replace("states:", "sites:\n  - {name: s, capacity: 10}\nstates:", 1)
    with pytest.raises(ScenarioError) as e:
        refuge.load(_write(tmp_path, text))
    assert words in str(e.value)


def test_at_on_a_location_itself_or_without_a_network_is_refused(tmp_path):
    text = REG.read_text().replace("{name: D, kind: refuge}", "{name: D, kind: refuge, at: C}")
    with pytest.raises(ScenarioError, match=r"states\[5\]\.at: expected no `at:` on a location"):
        refuge.load(_write(tmp_path, text))
    plain = "name: p\nstart: 2020-01-01\nend: 2020-01-05\nstates:\n  - {name: a, kind: other, at: b}\n" \
            "  - {name: b, kind: other}\n"
    with pytest.raises(ScenarioError, match=r"states\[0\]\.at: expected a location of the route network \(the "
                       r"scenario has no `network`"):
        refuge.load(_write(tmp_path, plain))


def test_a_duration_out_of_a_camp_is_refused_saying_to_write_a_state_at_it(tmp_path):
    text = REG.read_text().replace("{name: enrol, from: C, rate: 0.5, to: registering}",
                                   "{name: enrol, from: C, duration: {dist: fixed, value: 5}, to: registering}")
    res = CliRunner().invoke(app, ["validate", str(_write(tmp_path, text))])
    assert res.exit_code == 2
    out = " ".join(res.output.split())
    assert "transitions[0].duration: expected a `rate` for `enrol`" in out
    assert "at: C" in out and "{from: C, to: STATE, rate: R}" in out
    assert CliRunner().invoke(app, ["validate", str(REG)]).exit_code == 0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path
