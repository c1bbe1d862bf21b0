"""The page asks its what-if under a posterior (issue 20, finding 8): run r takes posterior draw r in the baseline
and in every change alike, as `refuge compare --posterior` does; and declared variants that start a value from a
date, move a schedule point or name another parameter apply on the page as `compare` applies them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.errors import RefugeError
from refuge.experiments.compare import compare
from refuge.present.app import Session, results_table

HERE = Path(__file__).parent
WHATIF = HERE / "scenarios" / "whatif.yaml"
DRAWN = [0.25, 0.5, 0.85]  # the posterior of `success`: three equally weighted particles


@pytest.fixture(scope="module")
def posterior(tmp_path_factory) -> Path:
    """A calibration folder as `refuge calibrate` leaves it, reduced to what drawing from it reads."""
    import pandas as pd

    from refuge.model.compiler import scenario_digest

    path = tmp_path_factory.mktemp("cal") / "cal"
    path.mkdir()
    pd.DataFrame({"success": DRAWN, "weight": 1.0, "distance": 0.0}).to_parquet(path / "posterior.parquet")
    (path / "calibration.json").write_text(json.dumps({"scenario_digest": scenario_digest(refuge.read(WHATIF))}))
    return path


def _by_outcome(page: dict, key: str) -> dict:
    return {o["key"]: o[key] for o in page["outcomes"]}


def test_the_page_and_compare_draw_the_same_parameters_for_the_baseline_and_a_change(posterior, tmp_path):
    session = Session(WHATIF, workers=1, runs=6, posterior=posterior)
    desc = session.description()
    assert desc["posterior"]["parameters"]["success"] == {"median": 0.5, "low": 0.25, "high": 0.85}
    page = session.run({"values": {"clear_days": 10}})
    base = session.cache[next(k for k in session.cache if k[0].empty)]
    drawn = [dict(v)["success"] for v in base.values]
    assert drawn == [dict(v)["success"] for v in session.last.values]  # the same draw r in both
    assert set(drawn) <= set(DRAWN) and len(set(drawn)) > 1
    assert {dict(v)["clear_days"] for v in session.last.values} == {10}
    cmp = compare(WHATIF, variants={"faster": {"clear_days": 10}}, runs=6, seed=0, workers=1,
                  store=tmp_path / "c", posterior=posterior)
    table = cmp.table.set_index("outcome")
    for name, value in _by_outcome(page, "value").items():  # the page's numbers are compare's, run for run
        assert value == pytest.approx(table.at[name, "value"], rel=1e-3), name
        assert _by_outcome(page, "baseline")[name] == pytest.approx(table.at[name, "baseline"], rel=1e-3), name
    m = cmp.experiment.measures()
    assert list(m[m.variant == "faster"].sort_values("run")["parameter:success"]) == drawn
    df = results_table(session)
    assert list(df[df.variant == "changed"]["parameter:success"]) == drawn


def test_a_drawn_parameter_set_on_the_page_is_one_value_for_every_run(posterior):
    session = Session(WHATIF, workers=1, runs=4, posterior=posterior)
    session.run({"values": {"success": 0.3}})
    assert {dict(v)["success"] for v in session.last.values} == {0.3}
    session.run({})
    assert {dict(v)["success"] for v in session.last.values} <= set(DRAWN)


def test_a_posterior_that_does_not_fit_is_one_line(posterior):
    from typer.testing import CliRunner

    from refuge.cli import app

    with pytest.raises(RefugeError, match=r"the posterior has parameters the scenario `north-korea-china` lacks: "
                                          r"success"):
        Session("north-korea-china", workers=1, runs=2, posterior=posterior)
    res = CliRunner().invoke(app, ["app", "north-korea-china", "--port", "0", "--posterior", str(posterior)])
    assert res.exit_code == 2 and "lacks: success" in res.output and "Traceback" not in res.output
    session = Session(WHATIF, workers=1, runs=2, posterior=posterior)
    session.load("north-korea-china")  # opened later from the page: runs as written, and the page says why
    note = session.description()["posterior"]
    assert session.draws is None and note["parameters"] == {} and note["note"].startswith("not drawn from")


@pytest.fixture(scope="module")
def island(tmp_path_factory) -> Path:
    text = re.search(r"```yaml\n(.*?)```", (HERE.parent / "docs" / "format.md").read_text(), re.S).group(1)
    path = tmp_path_factory.mktemp("doc") / "island.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_variants_that_move_a_date_or_name_a_parameter_run_on_the_page_as_compare_runs_them(island, tmp_path):
    """Before, the page applied a variant by writing its values into parameters: a value from a date
    (`interviews_per_day@2023-03-01`) or a moved schedule point was a KeyError, a name 'expected a number'."""
    session = Session(island, workers=1, runs=3)
    cmp = compare(island, runs=3, seed=0, workers=1, store=tmp_path / "c").table.set_index(["variant", "outcome"])
    for variant in ("double_interviews", "team_in_may", "interview_like_registration"):
        page = session.run({"variants": [variant]})
        for name, value in _by_outcome(page, "value").items():
            assert value == pytest.approx(cmp.at[(variant, name), "value"], rel=1e-3), (variant, name)
        assert page["changed"] and np.isfinite(_by_outcome(page, "difference")["in_centre"])
    assert _by_outcome(page, "value")["in_centre"] < _by_outcome(page, "baseline")["in_centre"]


@pytest.mark.parametrize("damage, message", [
    ({"calibration.json": "{nope"}, r"calibration.json: not readable as a calibration's metadata \(JSONDecodeError"),
    ({"calibration.json": "[1, 2]"}, r"calibration.json: expected a JSON object; found list"),
    ({"posterior.parquet": "garbage"}, r"posterior.parquet: not a readable Parquet table"),
    ({"posterior.parquet": [float("nan"), 0.5]}, r"posterior.parquet: expected finite numbers and weights >= 0"),
    ({"posterior.parquet": [0.5, float("inf")]}, r"posterior.parquet: expected finite numbers"),
])
def test_a_damaged_posterior_is_one_line_for_the_page_and_compare(posterior, tmp_path, damage, message):
    import shutil

    import pandas as pd

    bad = tmp_path / "bad"
    shutil.copytree(posterior, bad)
    for name, content in damage.items():
        if isinstance(content, list):
            pd.DataFrame({"success": content, "weight": 1.0, "distance": 0.0}).to_parquet(bad / name)
        else:
            (bad / name).write_text(content)
    with pytest.raises(RefugeError, match=message):
        Session(WHATIF, workers=1, runs=2, posterior=bad)
    with pytest.raises(RefugeError, match=message):
        compare(WHATIF, variants={"f": {"clear_days": 10}}, runs=2, workers=1, store=tmp_path / "c", posterior=bad)
