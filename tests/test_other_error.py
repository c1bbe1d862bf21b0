"""Another tool's error on a series (`other_error`): the format, the importer's figures from Flee's output, and
the verdicts of check and backtest naming it (issue 18, item 7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from refuge.errors import RefugeError
from refuge.evidence.other_error import after_cut, backtest_errors, check_clauses, clause, other_errors
from refuge.inference.rolling import pool_other
from refuge.results.simulate import as_model, load
from refuge.scenario import parse


def _doc(other: dict | None, second: dict | None = None) -> dict:
    ev = [{"id": f"camp-{n}", "assumption": True, "measure": {"stock": [n]}, "group": "camps",
           "series": {"points": [{"date": "2020-01-10", "value": 5}, {"date": "2020-02-10", "value": 9}]}}
          for n in ("a", "b")]
    if other is not None:
        ev[0]["other_error"] = other
    if second is not None:
        ev[1]["other_error"] = second
    return {"name": "toy", "start": "2020-01-01", "end": "2020-03-31",
            "states": [{"name": "a", "kind": "destination"}, {"name": "b", "kind": "destination"}], "evidence": ev}


def test_the_format_takes_another_tools_error_once_a_group():
    daily = {"points": [{"date": "2020-01-01", "value": 0.5}, {"date": "2020-02-15", "value": 0.1},
                        {"date": "2020-03-01", "value": 0.3}]}
    sc = parse(_doc({"by": "Flee's own runs", "daily": daily}), "toy.yaml")
    assert sc.evidence[0].other_error.by == "Flee's own runs"
    with pytest.raises(RefugeError, match="`ard`.*or `daily`"):
        parse(_doc({"by": "Flee"}), "toy.yaml")
    with pytest.raises(RefugeError, match="once for group `camps`"):
        parse(_doc({"by": "Flee", "ard": 0.2}, {"by": "Flee", "ard": 0.3}), "toy.yaml")
    with pytest.raises(RefugeError, match="ard"):
        parse(_doc({"by": "Flee", "ard": -0.1}), "toy.yaml")
    fact = _doc(None)
    fact["evidence"][0] = {"id": "f", "assumption": True, "measure": {"stock": ["a"]}, "date": "2020-02-01",
                           "bound": "at_least", "value": 1, "other_error": {"by": "Flee", "ard": 0.2}}
    with pytest.raises(RefugeError, match="for series evidence"):
        parse(fact, "toy.yaml")


def test_the_error_after_a_cut_is_the_mean_of_the_days_after_it():
    daily = {"points": [{"date": "2020-01-01", "value": 0.5}, {"date": "2020-02-15", "value": 0.1},
                        {"date": "2020-03-01", "value": 0.3}]}
    model = as_model(parse(_doc({"by": "Flee's own runs", "daily": daily}), "toy.yaml"))
    e = other_errors(model)["camps"]
    assert e["ard"] is None and e["days"].tolist() == [0, 45, 60]
    assert after_cut(e, 44, 90) == (pytest.approx(0.2), 2)
    assert after_cut(e, 60, 90) is None
    got = backtest_errors(model, dt.date(2020, 2, 14), {"camps": {"median": {"ard": 0.15}}})
    assert got == {"camps": {"by": "Flee's own runs", "ard": pytest.approx(0.2), "days": 2, "model": 0.15}}
    text = clause("camps", got["camps"])
    assert text == "Flee's own runs: daily ARD of camps 0.200 after the cut, over 2 days (refuge's median 0.150)"
    # no ard given: check names the mean of the daily errors, beside refuge's run ARD
    assert check_clauses(model, {"camps": 0.25}) == ["Flee's own runs: daily ARD of camps 0.300 over the whole "
                                                     "period (refuge's 0.250)"]


def test_a_rolling_backtest_pools_the_other_error_by_days():
    cuts = [{"skill": {"other_error": {"camps": {"by": "Flee", "ard": 0.4, "days": 10, "model": 0.2}}}},
            {"skill": {"other_error": {"camps": {"by": "Flee", "ard": 0.1, "days": 30, "model": 0.1}}}},
            {"skill": {}}]
    got = pool_other(cuts)["camps"]
    assert got["days"] == 40 and got["ard"] == pytest.approx(0.175) and got["model"] == pytest.approx(0.125)


def _flee_out(path: Path, rows: list[str]) -> Path:
    path.write_text("Day,Date,A sim,A data,A error,B sim,B data,B error,Total error\n" + "\n".join(rows) + "\n")
    return path


def test_the_importer_takes_flees_daily_error_from_its_output(tmp_path):
    from refuge.interop.flee.csvread import FleeInputError
    from refuge.interop.flee.own_error import mean_error, read_output, with_own_error
    from refuge.interop.flee.writer import FleeCase

    one = _flee_out(tmp_path / "out.csv", ["0,d,10,10,0,0,0,0,0.9", "1,d,12,10,0,3,10,0,0.9"])
    two = _flee_out(tmp_path / "out2.csv", ["0,d,8,10,0,0,0,0,0.9", "1,d,10,10,0,10,10,0,0.9"])
    # day 1 of run one: (|12 - 10| + |3 - 10|) / 20 = 0.45 (Flee's own Total error column is not read)
    assert read_output(one) == {0: 0.0, 1: pytest.approx(0.45)}
    assert mean_error([one, two]) == {0: pytest.approx(0.1), 1: pytest.approx(0.225)}
    case = FleeCase("toy", "evidence:\n  - id: camp-A\n    group: camps\n  - id: camp-B\n    group: camps\n", {})
    got = with_own_error(case, [one, two], dt.date(2020, 1, 1), "toy-data", "Flee's own runs (2 runs)")
    assert got.text.count("other_error") == 1 and "ard: 0.1625" in got.text
    assert got.files["toy-data/flee-error.csv"].splitlines()[-2:] == ["2020-01-01,0.1", "2020-01-02,0.225"]
    bad = _flee_out(tmp_path / "bad.csv", ["0,d,10,10,0,0,0,0,0.9", "1,d,inf,10,0,3,10,0,0.9"])
    with pytest.raises(FleeInputError, match=r"bad.csv line 3: expected a day .* finite counts"):
        read_output(bad)
    (tmp_path / "other.csv").write_text("x,y\n1,2\n")
    with pytest.raises(FleeInputError, match=r"other.csv line 1: expected a header with Day"):
        read_output(tmp_path / "other.csv")


def test_flee_cases_carry_flees_own_error_and_check_names_it():
    model = load("mali2012")
    e = other_errors(model)["camps"]
    assert e["by"].startswith("Flee's own runs") and 0 < e["ard"] < 1 and e["days"].size == model.days
    assert np.isclose(e["values"].mean(), e["ard"], atol=1e-3)
    assert check_clauses(model, {"camps": 0.3})[0].endswith("over the whole period (refuge's 0.300)")
