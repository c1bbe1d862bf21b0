"""Drivers that drift: declared in the scenario, drawn per run, and bands that hold what they claim."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import refuge
from refuge.api import as_model
from refuge.errors import ScenarioError
from refuge.scenario import parse
from refuge.sim.mechanisms.drift import drifted_table, step_index, walk


def _doc(size: float = 0.1, step: object = "month", rate: float = 1000.0) -> dict:
    months = [dt.date(2020 + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1) for m in range(1, 37)]
    return {"name": "drift-toy", "start": "2020-01-01", "end": "2022-12-31",
            "states": [{"name": "camp", "kind": "destination"}],
            "arrivals": [{"name": "arrivals", "to": "camp", "rate": "rate"}],
            "parameters": {"rate": {"value": rate, "assumption": True},
                           "rate_drift": {"value": size, "assumption": True,
                                          "prior": {"dist": "loguniform", "low": 0.005, "high": 0.5}}},
            "drift": [{"parameter": "rate", "size": "rate_drift", "step": step}],
            "evidence": [{"id": "monthly", "source": {"file": "made up", "fact": "monthly arrivals"},
                          "measure": {"arrivals": ["arrivals"]},
                          "series": {"from": "2020-01-01", "points": [{"date": str(d), "value": 1} for d in months]}}]}


def test_a_drift_names_parameters_of_the_scenario():
    doc = _doc()
    doc["drift"][0]["size"] = "rate_drfit"
    with pytest.raises(ScenarioError, match=r"drift\[0\].size to name a parameter.*did you mean `rate_drift`"):
        parse(doc, "toy.yaml")
    doc = _doc(step=0)
    with pytest.raises(ScenarioError, match=r"drift\[0\].step"):
        parse(doc, "toy.yaml")


def test_steps_follow_the_calendar_or_count_days():
    start = dt.date(2020, 1, 30)
    assert step_index(start, 5, 0, "month").tolist() == [0, 0, 1, 1, 1]  # 1 February starts a step
    assert step_index(start, 10, 2, 3).tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert step_index(dt.date(2020, 12, 31), 3, 0, "year").tolist() == [0, 1, 1]


def test_the_walk_is_a_run_s_own_and_spreads_with_the_square_root_of_time():
    assert np.array_equal(walk(7, "rate", 0.1, 12), walk(7, "rate", 0.1, 12))
    assert not np.array_equal(walk(7, "rate", 0.1, 12), walk(7, "other", 0.1, 12))  # keyed by the driver's name
    w = np.array([walk(s, "rate", 0.1, 17) for s in range(4000)])
    assert w[:, 0].tolist() == [0.0] * 4000
    assert np.std(w[:, 16]) == pytest.approx(0.1 * 4, rel=0.05) and abs(np.median(w[:, 16])) < 0.03


def test_only_the_drifting_parameter_changes_and_a_run_without_drift_is_as_before():
    m = as_model(parse(_doc(), "toy.yaml"))
    table = drifted_table(m, seed=3)
    assert np.array_equal(table[:, 1], m.pbase[:, 1]) and not np.array_equal(table[:, 0], m.pbase[:, 0])
    assert np.all(table[:31, 0] == 1000.0)  # January: the first step, as declared
    still = _doc()
    still.pop("drift")
    plain = as_model(parse(still, "toy.yaml"))
    assert drifted_table(plain, 3) is None
    a, b = refuge.simulate(m, seed=5), refuge.simulate(m, seed=5)
    assert np.array_equal(a.arrived, b.arrived)


def test_bands_of_a_known_drift_hold_what_they_claim():
    """Truths drawn with a known monthly drift of 10%; anchored forecasts from the end of the second year with
    the same drift: the 90% bands hold 85-95% of the held-out months over 60 truths."""
    from refuge.evidence.series import simulate_series
    from refuge.inference.assimilate import anchor_point, anchored
    from refuge.inference.skill import inside

    m = as_model(parse(_doc(), "toy.yaml"))
    s = m.series[0]
    runs = np.array([simulate_series(refuge.simulate(m, seed=i), s) for i in range(260)])
    truths, forecast = runs[:60], runs[60:]
    u = (dt.date(2021, 12, 31) - m.start).days
    a = anchor_point(s, u)
    test = s["grid"] > u
    held = [inside(t[test], anchored(dict(s, data=t), forecast, a)[0][:, test], 0.9) for t in truths]
    assert 0.85 <= np.mean(held) <= 0.95
    # without the drift the bands hold only the counts' own noise
    still = _doc(size=0.0)
    m0 = as_model(parse(still, "toy.yaml"))
    flat = np.array([simulate_series(refuge.simulate(m0, seed=i), s) for i in range(100, 300)])
    held0 = [inside(t[test], anchored(dict(s, data=t), flat, a)[0][:, test], 0.9) for t in truths]
    assert np.mean(held0) < 0.5


def test_the_size_of_a_drift_is_fitted_by_the_score_of_its_forecasts():
    """Data from a truth with a 10% monthly drift; the fit (CRPS of anchored forecasts inside the training data)
    keeps a size near it, not the smallest of its prior that a single run's error would prefer."""
    from refuge.evidence.series import simulate_series
    from refuge.inference.drift_fit import GRID, fit_drift

    truth = as_model(parse(_doc(size=0.1), "toy.yaml"))
    data = simulate_series(refuge.simulate(truth, seed=999), truth.series[0])
    doc = _doc(size=0.01)
    for p, v in zip(doc["evidence"][0]["series"]["points"], data):
        p["value"] = float(v)
    model = as_model(parse(doc, "toy.yaml"))
    sizes, scores = fit_drift(model, {}, dt.date(2021, 12, 31), runs=30)
    assert [q for q, _ in scores] == sorted(q for q, _ in scores) and set(q for q, _ in scores) <= set(GRID)
    assert len(scores) <= 5  # the ternary search tries only some of the six sizes
    assert 0.03 < sizes["rate_drift"] < 0.45
    assert min(c for _, c in scores) < scores[0][1]


def test_a_drift_that_starts_after_the_cut_is_not_fitted_and_keeps_the_draws_sizes():
    """A drift declared for beyond the data (from 2022) does not act before a cut at the end of 2021: every size
    scores the same from the inner cut, so no size is chosen (the forecast runs keep their draws' own sizes:
    the prior's spread) instead of the grid's smallest."""
    from refuge.inference.drift_fit import GRID, fit_drift

    doc = _doc(size=0.1)
    doc["drift"][0]["from"] = "2022-01-01"
    model = as_model(parse(doc, "toy.yaml"))
    sizes, scores = fit_drift(model, {}, dt.date(2021, 12, 31), runs=6)
    assert sizes == {} and set(q for q, _ in scores) <= set(GRID) and len({c for _, c in scores}) == 1
    assert len(scores) >= 2


def test_the_bracket_finds_the_smallest_of_a_score_with_one_minimum_trying_fewer_sizes():
    """Worked by hand: over 6 sizes the ternary search tries indices 1 and 4 first, then narrows; it finds
    the minimum wherever it lies, calls each index once, and tries at most 4 of the 6."""
    from refuge.inference.drift_fit import bracket

    for best in range(6):
        calls = []
        scores = [abs(i - best) + 0.1 * i for i in range(6)]
        found = bracket(lambda i, s=scores, c=calls: c.append(i) or s[i], 6)
        assert found == best and len(calls) == len(set(calls)) <= 4
    flat = []
    assert bracket(lambda i: flat.append(i) or 1.0, 6) in range(6) and sorted(flat) == [1, 2, 3, 4]


def test_a_chance_that_drifts_stays_a_chance_and_the_reference_reads_the_same_path():
    """A drifting chance is capped at 1 (the range its use allows) and at `max`; the reference engine draws
    the same path for a seed, so both engines run on the same drifted values."""
    from refuge.sim.reference import reference_results

    doc = {"name": "drift-chance", "start": "2020-01-01", "end": "2020-12-31",
           "states": [{"name": "camp", "kind": "other"}, {"name": "home", "kind": "destination"},
                      {"name": "away", "kind": "destination"}],
           "arrivals": [{"name": "arrivals", "to": "camp", "rate": 5}],
           "transitions": [{"name": "leave", "from": "camp", "rate": "leave_rate",
                            "split": [{"to": "home", "p": "p_home"}, {"to": "away", "p": "rest"}]}],
           "parameters": {"leave_rate": {"value": 0.1, "assumption": True},
                          "p_home": {"value": 0.9, "assumption": True},
                          "big": {"value": 2.0, "assumption": True}},
           "drift": [{"parameter": "p_home", "size": "big", "step": "week"},
                     {"parameter": "leave_rate", "size": "big", "step": 7, "max": 0.2}]}
    m = as_model(parse(doc, "toy.yaml"))
    names = m.param_names
    p, r = names.index("p_home"), names.index("leave_rate")
    table = drifted_table(m, seed=11)
    idx = step_index(m.start, m.days, 0, "week")
    w = walk(11, "p_home", 2.0, int(idx[-1]) + 1)
    assert np.array_equal(table[:, p], np.minimum(0.9 * np.exp(w[idx]), 1.0))
    assert table[:, p].max() == 1.0 and (w[idx] > np.log(1 / 0.9)).any() and (table >= 0).all()
    assert table[:, r].max() == pytest.approx(0.2) and table[:, r].min() < 0.1
    ref = reference_results(m, m.days, 11)
    assert np.array_equal(ref["params"][:, p], table[:, p]) and np.array_equal(refuge.simulate(m, seed=11).params[:, p],
                                                                               table[:, p])


def _noisy(size: float = 0.05, noise: float = 0.2) -> dict:
    """The toy with a one-month stray of size `noise` on top of its walk, from 2021 (a year of record before)."""
    doc = _doc(size=size)
    doc["parameters"]["rate_noise"] = {"value": noise, "assumption": True,
                                       "prior": {"dist": "loguniform", "low": 0.01, "high": 0.5}}
    doc["drift"][0] |= {"noise": "rate_noise", "from": "2021-01-01"}
    return doc


def test_noise_strays_each_step_from_the_first_and_does_not_carry_over():
    """Strays of 0.2 with a walk of 0.05: log(value) differs from the level by about 0.2 from the first month;
    two months apart the differences correlate only through the walk (0.05^2 against 0.2^2 for the stray)."""
    m = as_model(parse(_noisy(), "toy.yaml"))
    first = (dt.date(2021, 1, 1) - m.start).days
    logs = np.array([np.log(drifted_table(m, s)[first:, 0] / 1000.0) for s in range(3000)])
    jan, feb, dec = logs[:, 0], logs[:, 31], logs[:, 334]
    assert np.std(jan) == pytest.approx(0.2, rel=0.06) and abs(np.median(jan)) < 0.02  # the first step strays
    assert np.corrcoef(jan, feb)[0, 1] < 0.1  # a stray lasts one step
    assert np.std(dec) == pytest.approx(np.sqrt(0.2 ** 2 + 11 * 0.05 ** 2), rel=0.06)
    assert np.all(drifted_table(m, 1)[:first, 0] == 1000.0)  # before `from`: as declared
    doc = _noisy()
    doc["drift"][0]["noise"] = "rate_nosie"
    with pytest.raises(ScenarioError, match=r"drift\[0\].noise to name a parameter.*did you mean `rate_noise`"):
        parse(doc, "toy.yaml")


def test_with_noise_the_walk_starts_from_the_level_the_record_tells_not_the_last_value():
    """A record that sat at 1,000 a day for 11 months and jumped to 2,000 in December: with strays of 0.2 and a
    walk of 0.05 the jump is mostly a stray, so the forecast starts near 1,000 (the local-level filter, worked
    out by hand below), not at 2,000; with no record before `from` it starts at the last value."""
    from refuge.sim.mechanisms.drift import filtered_level

    values = np.r_[np.full(335, 1000.0), np.full(31, 2000.0)]
    start = dt.date(2020, 1, 1)
    level, var = np.log(1000.0), 0.04
    for x in [np.log(1000.0)] * 10 + [np.log(2000.0)]:
        gain = (var + 0.0025) / (var + 0.0025 + 0.04)
        level, var = level + gain * (x - level), (1 - gain) * (var + 0.0025)
    ratio = filtered_level(values, start, 366, "month", 0.05, 0.2)
    assert ratio == pytest.approx(np.exp(level) / 2000.0) and 1050 < 2000 * ratio < 1300
    assert filtered_level(values, start, 1, "month", 0.05, 0.2) == 1.0  # nothing before: the last value
    assert filtered_level(np.full(400, 7.0), start, 366, "month", 0.05, 0.2) == pytest.approx(1.0)
    doc = _noisy()
    doc["schedules"] = [{"parameter": "rate", "assumption": True,
                         "points": [{"date": "2020-01-01", "value": 1000}, {"date": "2020-12-01", "value": 2000}]}]
    m = as_model(parse(doc, "toy.yaml"))
    jan = np.array([drifted_table(m, s)[366, 0] for s in range(2000)])
    assert np.median(jan) == pytest.approx(2000 * ratio, rel=0.03)


def test_a_posterior_backtest_sizes_its_drift_with_a_posterior_that_saw_nothing_after_the_inner_cut(tmp_path):
    """The drift size of `refuge backtest --train-until` is fitted by forecasts from the inner cut made with the
    draws of a second calibration on the evidence up to that inner cut (calibration-inner/), not with the
    posterior to the cut, which saw the points those forecasts are scored on."""
    import json

    from refuge.inference.backtest_posterior import INNER_DIR, backtest
    from refuge.inference.calibrate import Settings
    from refuge.inference.drift_fit import inner_cut, inner_cuts

    doc = _doc(size=0.1)
    doc["parameters"]["rate"]["prior"] = {"dist": "uniform", "low": 500, "high": 1500}
    model = as_model(parse(doc, "toy.yaml"))
    until = dt.date(2021, 12, 31)
    bt = backtest(model.scenario, until, tmp_path / "bt", runs=10, workers=1, origin=model.origin,
                  settings=Settings(population=20, budget=100, generations=2))
    cuts = inner_cuts(model, until)  # 2021-05-31 (7 monthly data dates after it: enough)
    assert bt.summary["inner_cuts"] == [str(c) for c in cuts] and cuts[0] == inner_cut(model, until) < until
    for inner in cuts:
        meta = json.loads((tmp_path / "bt" / INNER_DIR / str(inner) / "calibration.json").read_text())
        assert meta["settings"]["until"] == str(inner) and meta["settings"]["budget"] == 50
    assert bt.summary["drift_scores"] and "rate_drift" in bt.summary["drift_sizes"]


def test_a_short_record_sizes_its_drift_from_several_inner_cuts():
    """Six yearly counts: one inner cut leaves one or two dates to score a drift size on, so earlier training
    dates are added (latest first, not before a third of the record) until at least 6 dates are scored; a
    record with many dates after the inner cut keeps one."""
    from refuge.inference.drift_fit import LEAST_DATES, inner_cut, inner_cuts

    doc = _doc()
    doc["end"] = "2027-12-31"
    doc["evidence"][0]["series"]["points"] = [{"date": f"{y}-12-31", "value": 1000} for y in range(2020, 2028)]
    model = as_model(parse(doc, "toy.yaml"))
    cuts = inner_cuts(model, dt.date(2026, 12, 31))
    assert cuts[0] == inner_cut(model, dt.date(2026, 12, 31)) == dt.date(2024, 12, 31)
    assert LEAST_DATES == 6 and cuts == [dt.date(y, 12, 31) for y in (2024, 2023, 2022)]  # 2, 3, 4 dates after
    monthly = as_model(parse(_doc(), "toy.yaml"))  # 36 monthly points: 11 after the inner cut (2022-01-31)
    assert inner_cuts(monthly, dt.date(2022, 12, 31)) == [dt.date(2022, 1, 31)]
    assert inner_cuts(monthly, dt.date(2022, 12, 31), least=12) == [dt.date(2022, 1, 31), dt.date(2021, 12, 31)]


def test_inner_cuts_count_data_dates_not_points():
    """Several camps counted on the same dates: their counts after an inner cut are forecast by the same runs
    from the same cut, one horizon per date. Four series on yearly dates have 8 points on the 2 dates after the
    inner cut, which would pass a count of points; counting dates, earlier cuts are added as for one series."""
    from refuge.inference.drift_fit import inner_cuts

    doc = _doc()
    doc["end"] = "2027-12-31"
    one = doc["evidence"][0]
    yearly = [{"date": f"{y}-12-31", "value": 1000} for y in range(2020, 2028)]
    doc["evidence"] = [dict(one, id=f"camp-{i}", series={"from": "2020-01-01", "points": yearly})
                       for i in range(4)]
    several = as_model(parse(doc, "toy.yaml"))
    doc["evidence"] = doc["evidence"][:1]
    single = as_model(parse(doc, "toy.yaml"))
    until = dt.date(2026, 12, 31)
    assert inner_cuts(several, until) == inner_cuts(single, until) == [dt.date(y, 12, 31) for y in (2024, 2023, 2022)]
