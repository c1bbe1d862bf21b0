"""Published Flee cases as they are: what Flee runs silently is imported with a warning naming the file and
line, what Flee would do and what refuge did; `as_flee` does as Flee does where refuge's default differs."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from test_flee_import import LOCATIONS, ROUTES, _case

import refuge
from refuge.errors import RefugeWarning
from refuge.interop.flee import FleeInputError, import_flee, main_import
from refuge.interop.flee.writer import FULL_ROOM


def _warned(case, *parts: str) -> str:
    hit = [w for w in case.warnings if all(p in w for p in parts)]
    assert len(hit) == 1, case.warnings
    assert f"# warning: {hit[0]}" in case.text  # the scenario says so too
    return hit[0]


def test_a_name_used_twice_keeps_the_last_row_as_flees_routes_do(tmp_path):
    inp, val = _case(tmp_path, locations__csv=LOCATIONS + "B,r,Home,0,0,town,,700\n")
    case = import_flee(inp, val)
    _warned(case, "locations.csv line 5:", "`B` again (first on line 3)", "refuge keeps this row only")
    assert "population: 700" in case.text and "population: 500" not in case.text


def test_a_route_from_a_place_to_itself_is_left_out(tmp_path):
    inp, val = _case(tmp_path, routes__csv=ROUTES + "B,B,10,0\n")
    case = import_flee(inp, val)
    _warned(case, "routes.csv line 4:", "from `B` to itself", "refuge leaves it out")
    assert "routes.csv line 4" not in case.text.replace(case.warnings[0], "")


@pytest.mark.parametrize("row, what", [("location,Atlantis,,0,5", "a location closure naming `Atlantis`"),
                                       ("country,Home,Narnia,0,5", "a country closure naming `Narnia`"),
                                       ("link,A,C,0,5", "a link closure of `A`-`C`, which routes.csv does not join")])
def test_a_closure_of_nothing_in_the_graph_is_left_out(tmp_path, row, what):
    inp, val = _case(tmp_path, closures__csv="#c\ncountry,Home,Away,0,5\n" + row + "\n")
    out = tmp_path / "o.yaml"
    with pytest.warns(RefugeWarning, match="closures.csv line 3: " + what.replace("(", r"\(")):
        main_import(str(inp), str(out), str(val))
    assert len(refuge.load(out).scenario.network.closures) == 1


def _spawned(tmp_path, name: str, layout: str, **kw) -> tuple[object, int]:
    inp, val = _case(tmp_path / name, data_layout__csv=layout)
    (val / "b.csv").write_text("2020-01-01,0\n2020-01-20,1000\n")
    case = import_flee(inp, val, **kw)
    spawn = case.files[f"{inp.parent.name}-data/spawn_total.csv"].strip().splitlines()[-1]
    return case, int(spawn.split(",")[1])


def test_a_layout_row_naming_a_town_is_left_out_or_spawned_from_as_flee_does(tmp_path):
    case, total = _spawned(tmp_path, "d", "total,total.csv\nC,c.csv\nB,b.csv\n")
    _warned(case, "data_layout.csv line 3:", "`B`, a town, not a camp", "refuge leaves the row out")
    assert total == 200  # C's count alone
    flee, total = _spawned(tmp_path, "f", "total,total.csv\nC,c.csv\nB,b.csv\n", as_flee=True)
    _warned(flee, "data_layout.csv line 3:", "Flee adds its counts to its spawn total", "does as Flee does")
    assert total == 1200  # Flee's: C's and B's
    assert "camp-B" not in flee.text  # scored against nothing, as in Flee


def test_a_camp_listed_twice_is_counted_once_or_twice_as_flee_does(tmp_path):
    case, total = _spawned(tmp_path, "d", "total,total.csv\nC,c.csv\nC,b.csv\n")
    _warned(case, "data_layout.csv line 3:", "`C` again (first on line 2)", "refuge leaves the row out")
    assert total == 200 and case.text.count('id: "camp-C"') == 1
    flee, total = _spawned(tmp_path, "f", "total,total.csv\nC,c.csv\nC,b.csv\n", as_flee=True)
    assert total == 400  # Flee adds the first row's counts again (it never reads b.csv)


def test_validation_rows_out_of_date_order_are_left_out(tmp_path):
    inp, val = _case(tmp_path, c__csv="Date,count\n2020-01-01,10\n2020-01-10,80\n2019-01-15,5000\n2020-01-20,200\n")
    case = import_flee(inp, val)
    _warned(case, "c.csv:", "line(s) 4 (2019-01-15)", "refuge leaves them out")
    assert "5000" not in case.files["case-data/C.csv"]


def test_a_camp_full_on_the_first_day_is_full_or_unlimited_as_flee_reads_it(tmp_path):
    inp, val = _case(tmp_path, c__csv="2020-01-01,400\n2020-01-20,500\n")  # C's capacity is 300
    case = import_flee(inp, val)
    _warned(case, "locations.csv line 4:", "holds 400 on the first day", "refuge makes it full")
    assert f"capacity: {FULL_ROOM}" in case.text
    out = tmp_path / "full.yaml"
    case.write(out)
    model = refuge.load(out)
    assert refuge.simulate(model, seed=1).stocks[0, model.state_index("C")] == 400
    flee = import_flee(inp, val, as_flee=True)
    assert "capacity: 0" in flee.text  # Flee's room below zero: no limit at all


def test_an_awareness_level_of_one_and_a_half_is_read_as_flee_reads_it(tmp_path):
    inp, val = _case(tmp_path)
    (tmp_path / "s.yml").write_text("move_rules:\n  awareness_level: 1.5\n")
    case = import_flee(inp, val, tmp_path / "s.yml")
    _warned(case, "s.yml line 2:", "awareness_level 1.5", "whole number, 1")
    assert "awareness: 1" in case.text


def test_the_period_comes_from_start_and_days_without_sim_period(tmp_path):
    inp, val = _case(tmp_path, sim_period__csv=None)
    with pytest.raises(FleeInputError, match=r"sim_period.csv: expected a file .*--start DATE --days N"):
        import_flee(inp, val)
    case = import_flee(inp, val, start=dt.date(2020, 1, 1), days=25)
    assert "end: 2020-01-25" in case.text and "# --start/--days" in case.text
    with pytest.raises(FleeInputError, match=r"--start/--days: expected a period of 1 to 36600 days"):
        import_flee(inp, val, start=dt.date(2020, 1, 1), days=0)
    inp2, val2 = _case(tmp_path / "b")  # with sim_period.csv, --days replaces its length, as Flee's runner does
    assert "end: 2020-01-10" in import_flee(inp2, val2, days=10).text


def test_main_import_issues_each_warning(tmp_path):
    inp, val = _case(tmp_path, routes__csv=ROUTES + "C,C,1,0\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main_import(str(inp), str(tmp_path / "w.yaml"), str(val))
    assert [str(w.message) for w in caught if w.category is RefugeWarning] == [
        "routes.csv line 4: a route from `C` to itself: Flee accepts it (people may take it and arrive where they "
        "set out, a day's travel lost); refuge leaves it out"]


def test_the_command_takes_the_period_and_as_flee_and_prints_each_warning(tmp_path):
    from typer.testing import CliRunner

    from refuge.cli import app

    inp, val = _case(tmp_path, sim_period__csv=None, routes__csv=ROUTES + "C,C,1,0\n",
                     data_layout__csv="total,total.csv\nC,c.csv\nB,c.csv\n")
    out = tmp_path / "cli.yaml"
    args = ["import", "flee", str(inp), "--validation", str(val), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "give the period with --start DATE --days N" in result.output
    assert not out.exists()
    result = CliRunner().invoke(app, args + ["--start", "2020-01-01", "--days", "20", "--as-flee"])
    assert result.exit_code == 0, result.output
    assert "note: routes.csv line 4: a route from `C` to itself" in result.output
    assert "note: data_layout.csv line 3: `B`, a town, not a camp" in result.output
    assert "end: 2020-01-20" in out.read_text()
    bad = CliRunner().invoke(app, args + ["--start", "2020-13-01", "--days", "20"])
    assert bad.exit_code == 2 and "--start: expected a date YYYY-MM-DD" in bad.output
