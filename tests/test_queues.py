"""Queues that hold national backlogs, and groups at a capacity (issue 17 item 2, issue 20 finding 1).

A queue (a state whose timed exits take a fixed number of days, one at a processing capacity) keeps its people
as counts per day of entry, so a queue of a million people costs what a queue of a thousand does; a processing
step serves people, so a group is split at a capacity (the rest wait for the next period) unless the transition
says `whole: true`. Both engines follow the same semantics (tests/test_reference_equivalence.py: ref_queue)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import refuge
from refuge.cli import app
from refuge.errors import ScenarioError
from refuge.model.compiler import compile_scenario
from refuge.scenario.format import Scenario, parse

JAM = """
name: jam_whole
start: 2023-01-01
end: 2023-03-31
states:
  - {name: queue, kind: other}
  - {name: served, kind: destination}
transitions:
  - {name: serve, from: queue, duration: {dist: fixed, value: 0}, to: served, capacity: 150, whole: true}
arrivals:
  - {name: walk_in, to: queue, rate: 10}
events:
  - {name: boat, date: 2023-01-10, to: queue, size: 200, assumption: true}
"""


def test_the_minimal_jam_is_served_within_days(scenarios_dir, assert_sound):
    """Issue 20's minimal case (one boat of 200 into a queue served 150 a day, 10 a day walking in): before, the
    boat jammed the queue for good (102 served in three months, 1,015 stuck); now 150 of the boat go on its day
    and the rest the next day, and nobody waits at the end."""
    model = refuge.load(scenarios_dir / "jam.yaml")
    assert model.queued.tolist() == [True, False]
    for seed in range(10):
        run = refuge.simulate(model, seed=seed)
        assert_sound(run)
        assert run.stocks[-1, 0] == 0
        boat_day = (np.datetime64("2023-01-10") - np.datetime64("2023-01-01")).astype(int)
        assert run.flows[boat_day, 0] == 150 and run.stocks[boat_day, 0] > 50
        assert run.stocks[boat_day + 1, 0] == 0
        _, waited, people = run.completed_stays(["queue"])
        assert waited.max() == 1 and people[waited == 1].sum() == run.stocks[boat_day, 0]
        assert run.flows[:, 0].sum() == run.arrived.sum()


def test_a_group_declared_whole_still_waits_for_a_day_with_room_for_all():
    model = compile_scenario(_scenario(JAM))
    assert not model.queued[0]  # groups kept whole: units, not counts
    run = refuge.simulate(model, seed=1)
    assert run.stocks[-1, 0] >= 200  # the boat is bigger than the capacity: it never passes, and jams the queue


def _scenario(text: str) -> Scenario:
    return parse(yaml.safe_load(text))


def test_the_reception_centre_boats_no_longer_stop_registration(scenarios_dir):
    """Issue 20: boats of about 35 into a registration of 150 a day stopped registration on day 16 and 40 people
    were interviewed in the year; now registration keeps pace and the interview office works at capacity."""
    model = refuge.load(scenarios_dir / "reception-centre.yaml")
    assert model.queued[model.state_names.index("landed")]
    interview = model.transition_names.index("interview")
    for seed in range(3):
        run = refuge.simulate(model, seed=seed)
        register = run.flows[:, [e for e, n in enumerate(model.edge_names) if n.startswith("register")]].sum()
        assert register > 0.95 * run.arrived.sum() - 300
        interviewed = run.flows[:, model.edge_trans == interview].sum()
        assert interviewed > 0.9 * 40 * 365


def test_the_german_backlog_is_counts_per_day_of_entry(scenarios_dir, assert_sound):
    """Issue 17: about 580,000 people waiting at a zero-day step with a daily capacity, three years of days. It
    refused to run before (more than 1,048,576 groups at once); now the queue is a row per day of entry."""
    model = refuge.load(scenarios_dir / "de_backlog.yaml")
    run = refuge.simulate(model, seed=3)
    assert_sound(run)
    assert len(run.ongoing) < 10 and len(run.stays) < 4 * model.days
    pending = run.stocks[:, 0]
    assert pending[0] > 570_000
    dec31 = (np.datetime64("2016-12-31") - np.datetime64("2016-10-01")).astype(int)
    expected = 579_314 + (dec31 + 1) * (600 - 1900)
    assert abs(pending[dec31] - expected) < 3_000
    # first come, first served: the initial backlog is decided before any new claim
    entry_day, people = run.stays[:, 1], run.stays[:, 3]
    exit_day = run.stays[:, 2]
    first_new = exit_day[entry_day >= 0].min()
    assert exit_day[entry_day < 0].max() <= first_new
    assert people[entry_day < 0].sum() == 579_314


def test_a_queue_costs_the_same_whatever_the_people_in_it(scenarios_dir):
    model = refuge.load(scenarios_dir / "de_backlog.yaml")
    big = compile_scenario(model.scenario.with_values({"pending_sept_2016": 5_793_140, "decisions_per_day": 19_000,
                                                       "claims_per_day": 6_000}))
    small_run, big_run = refuge.simulate(model, seed=1), refuge.simulate(big, seed=1)
    assert big_run.stocks[0, 0] > 5_700_000
    assert len(big_run.stays) <= 1.1 * len(small_run.stays) + 10


def test_a_group_bigger_than_the_capacity_is_split_in_a_state_with_drawn_stays():
    text = """
name: split_groups
start: 2023-01-01
end: 2023-01-31
states:
  - {name: camp, kind: refuge}
  - {name: out, kind: destination}
transitions:
  - {name: leave, from: camp, duration: {dist: gamma, mean: 2, sd: 1}, to: out, capacity: 4}
events:
  - {name: family, date: 2023-01-02, to: camp, size: 10, assumption: true}
"""
    model = compile_scenario(_scenario(text))
    assert model.tracked[0] and not model.queued[0]
    run = refuge.simulate(model, seed=2)
    moved = run.flows[:, 0]
    assert moved.sum() == 10 and moved.max() == 4
    assert sorted(moved[moved > 0].tolist()) == [2, 4, 4]


def test_whole_needs_a_capacity():
    text = JAM.replace("capacity: 150, whole: true", "whole: true")
    with pytest.raises(ScenarioError) as info:
        _scenario(text)
    assert "`whole` needs a `capacity`" in str(info.value)


def test_validate_refuses_what_the_run_would_refuse(tmp_path, monkeypatch):
    """`validate` runs the scenario once: a scenario whose run outgrows the engine's tables (here made small) is
    refused there, with the run's message, not passed and then refused by `run`."""
    from refuge.sim import run as kernel

    monkeypatch.setattr(kernel, "MAX_UNITS", 2_000)
    text = """
name: too_many
start: 2023-01-01
end: 2023-12-31
states:
  - {name: waiting, kind: other}
  - {name: done, kind: destination}
transitions:
  - {name: decide, from: waiting, duration: {dist: gamma, mean: 200, sd: 50}, to: done}
arrivals:
  - {name: claims, to: waiting, rate: 30}
"""
    (tmp_path / "s.yaml").write_text(text)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert res.exit_code == 2, res.output
    assert "more than 2,000 groups at once" in res.output and "waiting (" in res.output
    queue = text.replace("{dist: gamma, mean: 200, sd: 50}, to: done}", "{dist: fixed, value: 0}, to: done, "
                         "capacity: 20}")
    (tmp_path / "q.yaml").write_text(queue)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "q.yaml")])
    assert res.exit_code == 0, res.output


def test_validate_warns_where_a_whole_group_can_exceed_the_capacity(tmp_path):
    (tmp_path / "w.yaml").write_text(JAM)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "w.yaml")])
    assert res.exit_code == 0, res.output
    (note,) = [line for line in res.output.splitlines() if "keeps groups whole" in line]
    assert "transition `serve` keeps groups whole (`whole: true`) at a capacity of 150 a day, but event `boat` " \
        "brings a group of 200: such a group never passes" in note
    (tmp_path / "s.yaml").write_text(JAM.replace(", whole: true", ""))
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert res.exit_code == 0 and "whole" not in res.output


def test_run_and_check_warn_of_a_queue_holding_people_while_its_capacity_goes_unused(tmp_path):
    (tmp_path / "w.yaml").write_text(JAM)
    res = CliRunner().invoke(app, ["run", str(tmp_path / "w.yaml"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    (note,) = [line for line in res.output.splitlines() if "capacity went unused" in line]
    assert "`queue` for `serve`" in note and "on 81 days (2023-01-10 to 2023-03-31" in note, note
    res = CliRunner().invoke(app, ["check", str(tmp_path / "w.yaml"), "--runs", "3"])
    (note,) = [line for line in res.output.splitlines() if "capacity went unused" in line]
    assert "in 3 of 3 runs" in note and "`queue` for `serve`" in note
    (tmp_path / "s.yaml").write_text(JAM.replace(", whole: true", ""))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out2")])
    assert res.exit_code == 0 and "unused" not in res.output


def test_a_queue_blocked_downstream_is_noted_in_the_run(scenarios_dir):
    from refuge.results.idle import idle_notes

    model = refuge.load(scenarios_dir / "ref_queue.yaml")
    run = refuge.simulate(model, seed=0)
    assert run.idle.shape == (run.days, len(model.transition_names))
    from refuge.api import simulate_reference

    ref = simulate_reference(model, seed=0)
    assert ref.idle.shape == run.idle.shape
    jammed = model.transition_names.index("family_move")
    assert run.idle[:, jammed].sum() > 0  # families kept whole wait while the capacity has room for smaller ones
    assert any("`families` for `family_move`" in n for n in idle_notes(run))


def test_a_step_with_a_duration_out_of_a_camp_is_refused_naming_the_transition(scenarios_dir, tmp_path):
    """Issue 20 finding 9's message: the refusal points at the transition (not the camp) and says what to
    write; a rate and a capacity is accepted."""
    text = (scenarios_dir / "net" / "mixed.yaml").read_text()
    timed = text.replace("{name: resettle, from: C, rate: resettle_rate, to: resettled}",
                         "{name: resettle, from: C, duration: {dist: fixed, value: 0}, to: resettled, capacity: 5}")
    (tmp_path / "t.yaml").write_text(timed)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "t.yaml")])
    assert res.exit_code == 2
    assert "transitions[0].duration: expected a `rate` for `resettle`" in res.output
    assert "capacity: N" in res.output and "states[2]" not in res.output
    (tmp_path / "r.yaml").write_text(text.replace("rate: resettle_rate, to: resettled}",
                                                  "rate: resettle_rate, to: resettled, capacity: 5}"))
    assert CliRunner().invoke(app, ["validate", str(tmp_path / "r.yaml")]).exit_code == 0
