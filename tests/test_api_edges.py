"""The Python API's rough edges (issue 20, item 6): names as users write them, hints, one-line reprs, typing."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

import refuge
from refuge.errors import RefugeError

HERE = Path(__file__).parent
TOY = HERE / "scenarios" / "toy.yaml"
WHATIF = HERE / "scenarios" / "whatif.yaml"


@pytest.fixture(scope="module")
def run():
    return refuge.simulate(WHATIF, seed=3)


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    return refuge.run_ensemble(WHATIF, runs=2, seed=3, workers=1, store=tmp_path_factory.mktemp("exp"))


def test_to_df_takes_one_name_as_a_string(run, exp):
    df = run.to_df("stocks", "mission")
    assert set(df["state"]) == {"mission"} and len(df) == run.days
    assert df.equals(run.to_df("stocks", ["mission"]))
    got = exp.to_df("stocks", "mission")
    assert set(got["state"]) == {"mission"} and len(got) == 2 * run.days
    assert exp.to_df("stocks", "mission", "baseline").equals(got)


def test_run_and_experiment_frames_have_the_same_columns_in_the_same_order(run, exp):
    for what in ("stocks", "sites", "flows", "closed", "rules"):
        a, b = run.to_df(what), exp.to_df(what)
        assert list(a.columns) == [c for c in b.columns if c != "variant"], what
    assert list(run.to_df("stays").columns[:2]) == ["run", "state"]


def test_a_transition_name_stands_for_its_edges_in_flows(run):
    m = run.model
    name = m.transition_names[0]
    edges = {lab for lab, t in zip(m.edge_labels, m.edge_trans) if m.transition_names[t] == name}
    assert set(run.to_df("flows", name)["transition"]) == edges


def test_a_site_asked_among_stocks_points_to_sites(run, exp):
    site = run.model.site_names[0]
    for source in (run, exp):
        with pytest.raises(RefugeError) as err:
            source.to_df("stocks", site)
        assert f'`{site}` is a site: ask for "sites"' in str(err.value)
    state = run.model.state_names[0]
    with pytest.raises(RefugeError, match=f'`{state}` is a state: ask for "stocks"'):
        run.to_df("sites", state)
    with pytest.raises(RefugeError, match="did you mean `mission`"):
        run.to_df("stocks", "missoin")


def test_run_ensemble_and_compare_are_typed():
    hints = typing.get_type_hints(refuge.run_ensemble)
    assert hints["return"] is refuge.Experiment
    assert hints["runs"] is int and "Scenario" in str(hints["model_or_path"])
    assert typing.get_type_hints(refuge.compare)["return"].__name__ == "Comparison"


def test_api_errors_name_the_argument_not_a_cli_flag(tmp_path):
    for kwargs, arg in (({"runs": 0}, "runs"), ({"seed": -1}, "seed"), ({"overrides": {"nope": 1}}, "overrides"),
                        ({"cluster": 5}, "cluster"), ({"workers": 0, "runs": 20}, "workers")):
        with pytest.raises(RefugeError) as err:
            refuge.run_ensemble(TOY, store=tmp_path / arg, **kwargs)
        assert str(err.value).startswith(f"{arg}: ") and "--" not in str(err.value), str(err.value)


def test_the_cli_still_names_its_options(tmp_path):
    from typer.testing import CliRunner

    from refuge.cli import app

    res = CliRunner().invoke(app, ["run", str(TOY), "--runs", "3", "--set", "nope=1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and res.output.startswith("--set: expected a parameter"), res.output


def test_a_check_result_prints_one_short_line():
    result = refuge.check(TOY, runs=2, workers=1)
    text = repr(result)
    assert text.startswith("CheckResult('") and "2 runs" in text and "facts hold" in text
    assert len(text) < 200 and "\n" not in text and "array" not in text


def test_load_suggests_the_builtin_name_a_user_nearly_typed():
    with pytest.raises(RefugeError) as err:
        refuge.load("north-korea")
    assert "did you mean `north-korea-china`?" in str(err.value)
    with pytest.raises(RefugeError, match="did you mean `mali2012`"):
        refuge.run_ensemble("mali2013", runs=1)


def test_the_readme_python_api_example_runs(tmp_path, monkeypatch):
    """The README's API block, as a user would paste it (fewer runs, to stay quick)."""
    import re

    readme = (HERE.parent / "README.md").read_text()
    block = re.search(r"## Python API\n.*?```python\n(.*?)```", readme, re.S).group(1)
    code = re.sub(r"runs=\d+", "runs=2", block)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert list(scope["run"].to_df("stocks", "hiding").columns) == ["date", "run", "state", "value"]
    assert set(scope["cmp"].table["variant"]) == {"slow"}
