"""Variants as users write them (issue 20, items 8 and 12): a value may name another parameter; the variant form
is shown when the name is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.errors import RefugeError
from refuge.experiments.compare import parse_variant

HERE = Path(__file__).parent
WHATIF = HERE / "scenarios" / "whatif.yaml"


def test_a_variant_without_a_name_shows_the_right_form():
    sc = refuge.read(WHATIF)
    with pytest.raises(RefugeError) as err:
        parse_variant("clear_days=15", sc)
    text = str(err.value)
    assert "expected NAME:parameter=value" in text and "`--variant clear_days_15:clear_days=15`" in text
    assert "letters, digits" not in text  # not the folder-name rule it used to print


def test_a_variant_value_may_name_another_parameter(tmp_path):
    sc = refuge.read(WHATIF)
    assert parse_variant("same:clear_days=room", sc)["set"] == {"clear_days": "room"}
    with pytest.raises(RefugeError, match="did you mean `room`"):
        parse_variant("same:clear_days=rooom", sc)
    room = sc.parameters["room"].value
    cmp = refuge.compare(WHATIF, variants={"same": {"clear_days": "room"}, "both": {"room": 45, "clear_days": "room"}},
                         runs=2, workers=1, store=tmp_path / "c")
    exp = cmp.experiment
    assert exp.variant_set("same") == {"clear_days": room}
    assert exp.variant_set("both") == {"room": 45.0, "clear_days": 45.0}  # the variant's own value of `room`
    assert "clear_days = room" in exp.meta["variants"][1]["description"]
    direct = refuge.run_ensemble(WHATIF, runs=2, workers=1, variants={"x": {"clear_days": room}}, store=tmp_path / "d")
    assert np.array_equal(exp.matrix("stocks", "mission", "same")[1], direct.matrix("stocks", "mission", "x")[1])


def test_values_that_refer_to_each_other_in_a_loop_are_refused(tmp_path):
    with pytest.raises(RefugeError, match=r"in a loop \(clear_days -> room -> clear_days\)"):
        refuge.run_ensemble(WHATIF, runs=1, variants={"loop": {"clear_days": "room", "room": "clear_days"}},
                            store=tmp_path / "l")
    with pytest.raises(RefugeError, match="or the name of a parameter; found soon"):
        refuge.run_ensemble(WHATIF, runs=1, variants={"bad": {"clear_days": "soon"}}, store=tmp_path / "b")


def _posterior(path: Path, values: list[float]) -> Path:
    """A calibration folder as `refuge calibrate` leaves it, reduced to what drawing from it reads."""
    import json

    import pandas as pd

    from refuge.model.compiler import scenario_digest

    path.mkdir()
    pd.DataFrame({"success": values, "weight": 1.0, "distance": 0.0}).to_parquet(path / "posterior.parquet")
    (path / "calibration.json").write_text(json.dumps({"scenario_digest": scenario_digest(refuge.read(WHATIF))}))
    return path


def test_compare_under_a_posterior_gives_every_variant_the_same_draws(tmp_path):
    post = _posterior(tmp_path / "cal", [0.25, 0.5, 0.85])
    cmp = refuge.compare(WHATIF, variants={"faster": {"clear_days": 10}}, runs=4, seed=2, workers=1,
                         store=tmp_path / "c", posterior=post)
    m = cmp.experiment.measures()
    base = m[m.variant == "baseline"].set_index("run")["parameter:success"]
    fast = m[m.variant == "faster"].set_index("run")["parameter:success"]
    assert base.equals(fast) and set(base) <= {0.25, 0.5, 0.85} and base.nunique() > 1
    assert set(m.loc[m.variant == "faster", "parameter:clear_days"]) == {10.0}
    # run r of a variant is the scenario with draw r and the variant's values, on seed seed + r
    model = refuge.compile_scenario(refuge.read(WHATIF).with_values({"success": base[1], "clear_days": 10}))
    want = refuge.simulate(model, seed=3).stocks[:, model.state_index("mission")]
    assert np.array_equal(cmp.experiment.matrix("stocks", "mission", "faster")[1][1], want)
    with pytest.raises(RefugeError, match="overrides: success is drawn for each run"):
        refuge.compare(WHATIF, variants={"f": {"clear_days": 10}}, runs=2, workers=1, overrides={"success": 0.3},
                       store=tmp_path / "x", posterior=post)


def test_an_unused_parameter_gets_a_warning(tmp_path):
    from refuge.errors import RefugeWarning

    text = WHATIF.read_text().replace("parameters:\n", "parameters:\n  stray: {value: 3, assumption: true}\n", 1)
    (tmp_path / "s.yaml").write_text(text)
    with pytest.warns(RefugeWarning, match="parameter `stray` is never used"):
        refuge.load(tmp_path / "s.yaml")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refuge.load(WHATIF)  # every parameter read somewhere: no warning
        for name in ("north-korea-china", "mali2012", "burundi2015"):
            refuge.load(name)
