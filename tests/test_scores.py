"""Probability scores: how probable an observation is under the model, relative to the best any rate could do.

Hand-worked cases: exactly k single people in a window is most probable when the Poisson mean is k,
P(Poisson(k) = k); exactly one group of 25 is most probable at one group expected, 1/e; a count
of 0 (or a one-sided bound) can hold in every run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from refuge.evidence.check import to_json
from refuge.evidence.scores import best_share, compound_poisson_pmf, count_range, score
from refuge.experiments.check import check
from refuge.scenario import parse


def test_best_share_of_single_people_is_the_poisson_mode():
    assert best_share(1, 1) == pytest.approx(1 / math.e, rel=1e-6)
    assert best_share(3, 3) == pytest.approx(math.exp(-3) * 27 / 6, rel=1e-6)
    assert best_share(0, 0) == 1.0 and best_share(0, 5) == 1.0
    assert best_share(4, 3) == 0.0


def test_best_share_of_one_fixed_group_is_one_over_e():
    size = np.zeros(26)
    size[25] = 1.0
    assert best_share(25, 25, size) == pytest.approx(1 / math.e, rel=1e-6)
    assert best_share(24, 24, size) == pytest.approx(0.0, abs=1e-12)  # 24 cannot be made of 25s


def test_compound_poisson_by_hand():
    lam = 0.7
    size = np.array([0.0, 0.5, 0.5])  # groups of 1 or 2, evenly
    p = compound_poisson_pmf(lam, size, 3)
    e = math.exp(-lam)
    assert p[0] == pytest.approx(e)
    assert p[1] == pytest.approx(lam * e * 0.5)                                    # one group of 1
    assert p[2] == pytest.approx(lam * e * 0.5 + lam**2 / 2 * e * 0.25)            # one of 2, or two of 1
    assert p[3] == pytest.approx(lam**2 / 2 * e * 0.5 + lam**3 / 6 * e * 0.125)    # 1+2 or 2+1, or 1+1+1


def test_count_ranges_of_bounds():
    assert count_range({"bound": "exact", "value": 5.0}) == (5, 5)
    assert count_range({"bound": "about", "value": 30.0, "tolerance": 0.25}) == (23, 37)  # 22.5..37.5
    assert count_range({"bound": "range", "low": 24.0, "high": 99.0}) == (24, 99)
    assert count_range({"bound": "at_least", "value": 3.0}) is None


def test_score_is_share_over_best_capped_at_one():
    assert score(0.1, 0.2) == pytest.approx(0.5)
    assert score(0.5, 0.37) == 1.0
    assert math.isnan(score(0.0, 0.0))


ONE_GROUP = """
name: one-group
start: 2020-01-01
end: 2020-01-10
states:
  - {name: pool, kind: hiding, initial: 100000}
  - {name: in, kind: destination}
transitions:
  - {name: go, from: pool, rate: %(rate)s, to: in, group_size: {dist: fixed, value: 5}}
arrivals:
  - {name: single, to: in, rate: 1}
evidence:
  - {id: five-on-day-3, source: {file: test, fact: a group of five on the third day},
     period: {from: 2020-01-03, to: 2020-01-03}, measure: {flow: [go]}, bound: exact, value: 5}
  - {id: one-on-day-3, source: {file: test, fact: one person arrived on the third day},
     period: {from: 2020-01-03, to: 2020-01-03}, measure: {arrivals: [single]}, bound: exact, value: 1}
  - {id: some-by-day-10, source: {file: test, fact: some groups came},
     period: {from: 2020-01-01, to: 2020-01-10}, measure: {flow: [go]}, bound: at_least, value: 5}
"""


def _scenario(rate: float):
    import yaml

    return parse(yaml.safe_load(ONE_GROUP % {"rate": f"{rate:.1e}"}))


def test_check_scores_an_incident_against_the_best_rate():
    # 0.6 groups expected a day (6e-6 x 100,000): no group on most days, so the median run misses the group of
    # five; exactly one group comes in 0.6 e^-0.6 = 33% of runs, against the best possible 1/e = 37%
    facts = check(_scenario(6e-6), runs=400, seed=0).facts.set_index("id")
    five = facts.loc["five-on-day-3"]
    assert not five["holds_median"]
    assert five["best_share"] == pytest.approx(1 / math.e, rel=1e-4)
    assert five["share_holding"] == pytest.approx(0.6 * math.exp(-0.6), abs=0.07)
    assert five["score"] > 0.7
    one = facts.loc["one-on-day-3"]
    assert one["best_share"] == pytest.approx(1 / math.e, rel=1e-4) and one["score"] > 0.8
    some = facts.loc["some-by-day-10"]
    assert some["best_share"] == 1.0 and some["score"] == some["share_holding"]


def test_a_rate_far_from_the_observation_scores_low():
    facts = check(_scenario(1e-7), runs=200, seed=0).facts.set_index("id")  # a group every 100 days
    assert facts.loc["five-on-day-3", "score"] < 0.1


def test_scores_in_json_output():
    out = to_json(check(_scenario(1e-5), runs=20, seed=0))
    assert {"best_share", "score"} <= set(out["evidence"][0])
    assert 0 <= out["mean_score"] <= 1


def test_wide_ranges_of_large_counts_are_reachable():
    assert best_share(20000, 99999) == pytest.approx(1.0, abs=1e-6)   # "tens of thousands"
    assert best_share(1000, 9999) == pytest.approx(1.0, abs=1e-6)     # "thousands a year"
    assert best_share(500, 500) == pytest.approx(1 / math.sqrt(2 * math.pi * 500), rel=0.01)  # normal approximation
