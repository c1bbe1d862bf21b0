"""A synthetic scenario for the engine benchmark, scalable in people and years.

A large memoryless reservoir (people in hiding) feeds a chain of capacity-limited,
duration-dependent states (mission, vetting, custody, transit): at full size,
1,000,000 people in the reservoir and about 10,000 passing through the chain in ten years.
Every number here is an assumption made for benchmarking, not a fact about the world.
"""

from __future__ import annotations

import datetime as dt

from refuge.scenario import Scenario, parse


def synthetic(reservoir: int = 1_000_000, through: int = 10_000, years: int = 10) -> Scenario:
    days = int(round(365.25 * years))
    # Per-person daily hazard that sends about `through` people into the chain over the period.
    rate = through / (reservoir * days)
    room = max(5, through // 100)
    start = dt.date(2000, 1, 1)
    end = start + dt.timedelta(days=days - 1)
    a = {"assumption": True}
    return parse({
        "name": "synthetic",
        "title": f"Synthetic benchmark: {reservoir:,} in reservoir, ~{through:,} through the chain",
        "start": start, "end": end,
        "sites": [{"name": "compound_a", "capacity": room}, {"name": "compound_b", "capacity": room},
                  {"name": "camp", "capacity": room * 4}],
        "states": [
            {"name": "hiding", "kind": "hiding", "initial": reservoir},
            {"name": "mission_a", "kind": "refuge", "site": "compound_a"},
            {"name": "mission_b", "kind": "refuge", "site": "compound_b"},
            {"name": "vetting", "kind": "refuge", "site": "camp"},
            {"name": "custody", "kind": "custody"},
            {"name": "transit", "kind": "transit"},
            {"name": "arrived", "kind": "destination"},
            {"name": "returned", "kind": "returned"},
        ],
        "transitions": [
            {"name": "attempt", "from": "hiding", "rate": "attempt_rate",
             "group_size": {"dist": "empirical", "values": [1, 2, 3, 8], "weights": [0.6, 0.25, 0.1, 0.05]},
             "split": [{"to": "mission_a", "p": 0.4}, {"to": "mission_b", "p": 0.3}, {"to": "custody", "p": "rest"}],
             "when_blocked": {"redirect": "custody"}},
            {"name": "raid_a", "from": "mission_a", "rate": 0.002, "to": "custody"},
            {"name": "talks_a", "from": "mission_a", "duration": {"dist": "lognormal", "median": 20, "sigma": 0.6},
             "to": "vetting"},
            {"name": "talks_b", "from": "mission_b", "duration": {"dist": "gamma", "mean": 30, "sd": 10},
             "to": "vetting"},
            {"name": "clearance", "from": "vetting", "duration": {"dist": "exponential", "mean": "clear_days"},
             "split": [{"to": "transit", "p": 0.95}, {"to": "custody", "p": "rest"}]},
            {"name": "custody_end", "from": "custody", "duration": {"dist": "fixed", "value": 14},
             "split": [{"to": "returned", "p": 0.6}, {"to": "hiding", "p": "rest"}]},
            {"name": "onward", "from": "transit", "duration": {"dist": "empirical", "values": [3, 7, 21],
                                                               "weights": [0.5, 0.3, 0.2]}, "to": "arrived"},
        ],
        "arrivals": [{"name": "crossings", "to": "hiding", "rate": reservoir / days / 50}],
        "parameters": {
            "attempt_rate": {"value": rate, "unit": "per person per day", **a},
            "clear_days": {"value": 45, "unit": "days", **a},
        },
        "schedules": [{"parameter": "clear_days", "interpolation": "linear",
                       "points": [{"date": start, "value": 10}, {"date": end, "value": 120}]}],
        "rules": [{"name": "security", "signal": {"flow": ["attempt"], "window": 30},
                   "above": max(3, through // 120), "below": max(1, through // 400),
                   "actions": [{"multiply": {"parameter": "attempt_rate", "by": 0.5}}]},
                  {"name": "a_full", "signal": {"occupancy": "compound_a"}, "above": room, "below": room // 2,
                   "actions": [{"close": "mission_a"}]}],
    }, "synthetic")
