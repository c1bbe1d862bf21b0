"""Continuous durations become whole days without bias: the mean of drawn stays is the declared mean.

A draw x is rounded down or up at random (up with probability x - floor(x)), so E[days] = E[x]; rounding
up, as the engine once did, would add about half a day to every stay."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refuge.api import simulate, simulate_reference
from refuge.model.compiler import compile_scenario
from refuge.scenario import parse

DECLARED = {  # state: (duration, its mean in days)
    "exp": ({"dist": "exponential", "mean": 2.4}, 2.4),
    "gam": ({"dist": "gamma", "mean": 5.3, "sd": 2.0}, 5.3),
    "logn": ({"dist": "lognormal", "median": 3.6, "sigma": 0.6}, 3.6 * math.exp(0.6 ** 2 / 2)),
    "short": ({"dist": "exponential", "mean": 0.4}, 0.4),  # mostly the same day
}
DAYS = 200


def model(per_day: float):
    return compile_scenario(parse({
        "name": "durations", "start": "2020-01-01", "end": "2020-07-18",
        "states": [{"name": s, "kind": "other"} for s in DECLARED] + [{"name": "done", "kind": "destination"}],
        "transitions": [{"name": f"leave_{s}", "from": s, "duration": d, "to": "done"}
                        for s, (d, _) in DECLARED.items()],
        "arrivals": [{"name": f"into_{s}", "to": s, "rate": per_day} for s in DECLARED],
    }))


def stays_ok(run, per_day: float) -> None:
    m = run.model
    for name, (_, mean) in DECLARED.items():
        st = run.stays[(run.stays[:, 0] == m.state_index(name)) & (run.stays[:, 1] < DAYS - 80)]
        days = np.repeat(st[:, 2] - st[:, 1], st[:, 3])
        assert len(days) > 0.9 * per_day * (DAYS - 80)  # all who entered early enough have left
        se = days.std() / np.sqrt(len(days))
        assert abs(days.mean() - mean) < 4.5 * se + 1e-9, (name, days.mean(), mean, se)
        assert 4.5 * se < 0.25  # precise enough to see a half-day bias


@pytest.mark.parametrize("seed", [0, 1])
def test_the_mean_of_drawn_stays_is_the_declared_mean(seed):
    stays_ok(simulate(model(300.0), seed=seed), 300.0)


def test_the_reference_engine_keeps_the_mean_too():
    stays_ok(simulate_reference(model(25.0), seed=5), 25.0)
