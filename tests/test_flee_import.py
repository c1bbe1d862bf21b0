"""`refuge import flee`: a Flee case becomes an ordinary scenario; bad Flee files get file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import refuge
from refuge.cli import app
from refuge.interop.flee import FleeInputError, import_flee, main_import

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "flee"

LOCATIONS = """#name,region,country,latitude,longitude,location_type,conflict_date,population
A,r,Home,0,0,conflict_zone,0,1000
B,r,Home,0,0,town,,500
C,r,Away,0,0,camp,,300
"""
ROUTES = "#name1,name2,distance,forced_redirection\nA,B,50,0\nB,C,120,0\n"


def _case(tmp: Path, **files: str) -> tuple[Path, Path]:
    inp, val = tmp / "case" / "input", tmp / "case" / "validation"
    inp.mkdir(parents=True)
    val.mkdir(parents=True)
    base = {"locations.csv": LOCATIONS, "routes.csv": ROUTES, "sim_period.csv": "StartDate,2020-01-01\nLength,30\n",
            "closures.csv": "#closure_type,name1,name2,closure_start,closure_end\ncountry,Home,Away,0,5\n",
            "data_layout.csv": "total,total.csv\nC,c.csv\n", "c.csv": "Date,count\n2020-01-01,10\n2020-01-20,200\n",
            "total.csv": "Date,count\n2020-01-01,10\n2020-01-20,200\n"}
    base.update({k.replace("__", "."): v for k, v in files.items()})
    for name, text in base.items():
        folder = val if name in ("data_layout.csv", "c.csv", "total.csv") else inp
        if text is not None:
            (folder / name).write_text(text)
    return inp, val


def test_a_small_case_imports_runs_and_cites_its_files(tmp_path):
    inp, val = _case(tmp_path)
    out = main_import(str(inp), str(tmp_path / "out" / "small.yaml"), str(val))
    text = out.read_text()
    assert "locations.csv line 4" in text and "routes.csv line 3" in text and "closures.csv line 2" in text
    model = refuge.load(out)
    assert model.net is not None and model.net.names == ["A", "B", "C"]
    assert model.state_names[-1] == "en_route"
    run = refuge.simulate(model, seed=1)
    assert run.spawned.sum() == 190  # the camp's count grows from 10 to 200
    assert run.stocks[0, model.state_index("C")] == 10  # it starts with its first count
    assert [s["id"] for s in model.series] == ["camp-C"]


@pytest.mark.parametrize("files, where", [
    ({"locations__csv": LOCATIONS.replace("B,r,Home,0,0,town,,500", "B,r,Home,0,0,town")},
     "locations.csv line 3: expected 8 columns"),
    ({"routes__csv": ROUTES.replace("B,C,120", "B,Q,120")}, "routes.csv line 3, column 2 (name2)"),
    ({"routes__csv": ROUTES.replace("A,B,50", "A,B,-5")},
     "routes.csv line 2, column 3 (distance): expected a value >= 0"),
    ({"c__csv": "Date,count\n2020-01-01,10\n2020-02-30,200\n"}, "c.csv line 3, column 1 (date)"),
    ({"data_layout__csv": "total,total.csv\nB,c.csv\n"}, "data_layout.csv: expected a row naming a camp"),
    ({"data_layout__csv": "total,total.csv\nZed,c.csv\n"}, "data_layout.csv: expected a row naming a camp"),
    ({"sim_period__csv": "StartDate,2020-13-01\nLength,30\n"}, "sim_period.csv line 1, column 2 (StartDate)"),
    ({"closures__csv": "#c\ncountry,Home,Away,soon,5\n"}, "closures.csv line 2, column 4 (closure_start)"),
    ({"routes__csv": None}, "routes.csv: expected a file of a Flee case; found no such file"),
])
def test_bad_flee_files_are_named_and_nothing_is_written(tmp_path, files, where):
    inp, val = _case(tmp_path, **files)
    out = tmp_path / "out" / "bad.yaml"
    with pytest.raises(FleeInputError) as exc:
        main_import(str(inp), str(out), str(val))
    assert where in str(exc.value)
    assert not out.exists() and not (tmp_path / "out" / "bad-data").exists()


def test_the_command_prints_one_line_and_exits_2(tmp_path):
    inp, val = _case(tmp_path, routes__csv=ROUTES.replace("A,B,50", "A,B,far"))
    result = CliRunner().invoke(app, ["import", "flee", str(inp), "--validation", str(val), "--out",
                                      str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
    assert "routes.csv line 2, column 3 (distance): expected a number; found `far`" in result.output
    assert "Traceback" not in result.output


def test_unsupported_settings_are_refused_with_the_key(tmp_path):
    inp, val = _case(tmp_path)
    settings = tmp_path / "s.yml"
    settings.write_text("move_rules:\n  max_move_speed: 300\n  fixed_routes: true\n")
    with pytest.raises(FleeInputError, match=r"s.yml line 3: expected move_rules.fixed_routes off"):
        import_flee(inp, val, settings)
    settings.write_text("move_rules:\n  awareness_level: 12\n")
    with pytest.raises(FleeInputError, match=r"s.yml line 2: expected a number from 0 to 8 for "
                       r"move_rules.awareness_level; found 12"):
        import_flee(inp, val, settings)


def test_look_ahead_is_imported_and_runs(tmp_path):
    """awareness_level 2 and more: ways of several routes (refuge.model.net_paths), in the scenario as Flee's."""
    inp, val = _case(tmp_path)
    settings = tmp_path / "s.yml"
    settings.write_text("move_rules:\n  awareness_level: 3\n")
    out = main_import(str(inp), str(tmp_path / "x.yaml"), str(val), str(settings))
    assert "awareness: 3" in Path(out).read_text()
    model = refuge.load(out)
    assert model.net.awareness == 3 and model.net.ways.end.size > model.net.link_from.size
    assert refuge.simulate(model, seed=0).stocks.sum() > 0


@pytest.mark.skipif(not (SHARED / "mali2012").exists(), reason="Flee's mali2012 case is not in ../shared/flee")
def test_mali2012_imports_as_flee_reads_it(tmp_path):
    out = main_import(str(SHARED / "mali2012" / "input"), str(tmp_path / "mali.yaml"),
                      str(SHARED / "mali2012" / "validation"), str(SHARED / "settings" / "validation-modern125.yml"))
    model = refuge.load(out)
    net = model.net
    assert len(net.names) == 23 and net.link_from.size == 2 * 35
    # day-0 camp counts as Flee's output shows them (its first row's data column), and room reduced by them
    assert model.pbase[0, model.initial_param[model.state_index("Fassala-Mbera")]] == 9265
    assert "capacity: 66617" in out.read_text()  # 75,882 - 9,265


def test_a_camp_closure_makes_the_camp_a_town_for_the_period(tmp_path):
    """Flee's `camp` closure: the camp works as a town from the start day to the day before the end day; one
    naming a town is left out with a warning (Flee would make the town a camp when it ends)."""
    import warnings

    inp, val = _case(tmp_path, closures__csv="#c\ncamp,C,,2,6\ncamp,B,,0,3\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = main_import(str(inp), str(tmp_path / "o.yaml"), str(val))
    assert "camp: \"C\", from: 2020-01-03, to: 2020-01-06" in out.read_text()
    assert any("closures.csv line 3: a camp closure of `B`, which is not a camp" in str(w.message) for w in caught)
    net = refuge.load(out).net
    c = net.names.index("C")
    assert net.camp_closed[:, c].tolist()[:8] == [False, False, True, True, True, True, False, False]
    assert not net.camp_closed[:, net.names.index("B")].any()


def test_a_marker_location_is_imported_and_looked_past(tmp_path):
    """Flee's `marker` location type: a marker in the scenario; from B the choice is C through the marker."""
    inp, val = _case(tmp_path, locations__csv=LOCATIONS + "M,r,Home,0,0,marker,,0\n",
                     routes__csv="#name1,name2,distance\nA,B,50\nB,M,60\nM,C,60\n")
    out = main_import(str(inp), str(tmp_path / "o.yaml"), str(val))
    assert "type: marker" in out.read_text()
    model = refuge.load(out)
    net = model.net
    b, c = net.names.index("B"), net.names.index("C")
    assert sorted(int(e) for e in net.ways.end[net.ways.way_ptr[b]:net.ways.way_ptr[b + 1]]) == sorted(
        [net.names.index("A"), c])
    assert refuge.simulate(model, seed=0).stocks[-1, net.loc_state[c]] > 0  # people reach C past the marker


def test_a_link_closure_shuts_one_direction_as_flees_code_does(tmp_path):
    inp, val = _case(tmp_path, closures__csv="#c\nlink,A,B,0,5\n")
    out = main_import(str(inp), str(tmp_path / "o.yaml"), str(val))
    assert 'route: ["B", "A"], one_way: true' in out.read_text()
    net = refuge.load(out).net
    a, b = net.names.index("A"), net.names.index("B")
    shut = {(int(net.link_from[k]), int(net.link_to[k])) for k in range(net.link_from.size) if net.link_closed[0, k]}
    assert shut == {(b, a)}


def test_priors_are_the_importers_assumptions_and_camp_leaving_has_one(tmp_path):
    inp, val = _case(tmp_path)
    sc = refuge.load(main_import(str(inp), str(tmp_path / "p.yaml"), str(val))).scenario
    with_prior = {n for n, p in sc.parameters.items() if p.prior is not None}
    assert {"move_chance_town", "move_chance_camp", "camp_weight", "conflict_weight", "distance_power",
            "capacity_scaling", "speed"} <= with_prior
    assert all(sc.parameters[n].description.startswith("prior: an assumption") for n in with_prior)
    assert sc.parameters["move_chance_camp"].prior.dist == "loguniform"


@pytest.mark.skipif(not (SHARED / "mali2012").exists(), reason="Flee's cases are not in ../shared/flee")
@pytest.mark.parametrize("case", ["mali2012", "burundi2015"])
def test_the_built_in_flee_cases_are_what_the_importer_writes(tmp_path, case):
    from refuge.scenario import builtin_path

    cache = Path(__file__).parent.parent / "benchmarks" / "flee_cache"  # Flee's own runs: the case's other_error
    runs = sorted(cache.glob(f"{case}.csv")) + sorted(cache.glob(f"{case}-[0-9]*.csv"))
    out = main_import(str(SHARED / case / "input"), str(tmp_path / f"{case}.yaml"), str(SHARED / case / "validation"),
                      str(SHARED / "settings" / "validation-modern125.yml"), flee_output=[str(r) for r in runs])
    built_in = builtin_path(case)
    assert out.read_text().splitlines()[1:] == built_in.read_text().splitlines()[1:]  # the first names the folder
    for f in (tmp_path / f"{case}-data").iterdir():
        assert f.read_text() == (built_in.parent / f"{case}-data" / f.name).read_text(), f.name


@pytest.mark.parametrize("conflicts, expected", [
    ("#Day,A\n" + "".join(f"{d},1\n" for d in range(30)), [(0, None)]),
    # conflict_date 0 and no column: a conflict zone from the start (begun the day before, as Flee reads it)
    ("#Day,B\n" + "".join(f"{d},0\n" for d in range(30)), [(-1, None)]),
    # conflict_date 0 and 0 in conflicts.csv until day 10: still one, begun anew on day 10
    ("#Day,A\n" + "".join(f"{d},{int(d >= 10)}\n" for d in range(30)), [(-1, 9), (10, None)]),
])
def test_conflict_zones_of_locations_csv_are_ones_from_the_start_as_flee_reads_them(tmp_path, conflicts, expected):
    inp, val = _case(tmp_path, conflicts__csv=conflicts)
    model = refuge.load(main_import(str(inp), str(tmp_path / "c.yaml"), str(val)))
    sc, net = model.scenario, model.net
    got = [((c.start - sc.start).days, None if c.end is None else (c.end - sc.start).days)
           for c in sc.network.conflicts if c.location == "A"]
    assert got == expected
    a = net.names.index("A")
    assert (net.conflict[:, a] > 0).all()  # a conflict zone on every day
    assert net.conflict_start[0, a] == expected[0][0]  # its decay counts from Flee's time of conflict


def test_spawning_weights_are_refreshed_on_the_day_a_conflict_ends_as_flee_does(tmp_path):
    # Flee weighs a day's spawning by the decays of the day before, except on a day a conflict zone is added
    # or removed (both refresh the weights at once)
    rows = "".join(f"{d},{int(d < 10)},1\n" for d in range(30))
    inp, val = _case(tmp_path, conflicts__csv="#Day,A,B\n" + rows)
    net = refuge.load(main_import(str(inp), str(tmp_path / "e.yaml"), str(val))).net
    assert list(net.spawn_time[8:13]) == [7, 8, 10, 10, 11]
    assert net.spawn_time[0] == 0


def test_an_older_flee_layout_imports_like_the_newer_one(tmp_path):
    """Older Flee cases (e.g. its ethiopia input): `conflict_period.csv`, quoted cells, an empty
    forced_redirection, two-column registration corrections, no closures.csv, a header on the total."""
    new_inp, val = _case(tmp_path / "new", closures__csv=None)
    (new_inp / "registration_corrections.csv").write_text('"C","2020-01-20","normalize"\n')
    new = refuge.load(main_import(str(new_inp), str(tmp_path / "new.yaml"), str(val)))
    old_inp, old_val = _case(
        tmp_path / "old", sim_period__csv=None, closures__csv=None,
        locations__csv="\n".join(",".join(f'"{c}"' if not c.replace(".", "").isdigit() else c for c in row.split(","))
                                 for row in LOCATIONS.strip().splitlines()) + "\n",
        routes__csv='"#name1","name2","distance","forced_redirection"\n"A","B",50,\n"B","C",120,\n',
        total__csv='"Date","Refugee_numbers"\n"2020-01-01",10\n2020-01-20,200\n')
    (old_inp / "conflict_period.csv").write_text('"StartDate","2020-01-01"\n"Length",30\n')
    (old_inp / "registration_corrections.csv").write_text("C,2020-01-20\n")
    text = main_import(str(old_inp), str(tmp_path / "old.yaml"), str(old_val)).read_text()
    assert "# conflict_period.csv: StartDate" in text
    old = refuge.load(tmp_path / "old.yaml")
    assert old.net.names == new.net.names and old.days == new.days
    assert (refuge.simulate(old, seed=3).stocks == refuge.simulate(new, seed=3).stocks).all()


def test_a_layout_row_with_several_files_sums_them(tmp_path):
    inp, val = _case(tmp_path, data_layout__csv="total,total.csv\nC,c.csv,c2.csv\n")
    (val / "c2.csv").write_text("2020-01-11,100\n2020-01-21,300\n")
    out = main_import(str(inp), str(tmp_path / "sum.yaml"), str(val))
    assert 'file: "c.csv + c2.csv"' in out.read_text()
    rows = (tmp_path / "sum-data" / "C.csv").read_text().splitlines()
    # c.csv: 10 on day 0 rising to 200 on day 19, then flat; c2.csv: 100 (flat before day 10) to 300 on day 20
    assert rows[-4:] == ["2020-01-01,110", "2020-01-11,210", "2020-01-20,480", "2020-01-21,500"]
    model = refuge.load(out)
    assert refuge.simulate(model, seed=1).stocks[0, model.state_index("C")] == 110
    inp2, val2 = _case(tmp_path / "b", data_layout__csv="total,total.csv\nC,c.csv,gone.csv\n")
    with pytest.raises(FleeInputError, match=r"data_layout.csv line 2, column 3 \(file\): .*`gone.csv`"):
        main_import(str(inp2), str(tmp_path / "b.yaml"), str(val2))


@pytest.mark.parametrize("files, where", [
    ({"sim_period__csv": "StartDate,2020-01-01\nLength,1000000000\n"},
     "sim_period.csv line 2, column 2 (Length): expected a value <= 36600"),
    ({"sim_period__csv": "StartDate,9999-12-01\nLength,60\n"}, "sim_period.csv: expected a period ending before"),
    ({"closures__csv": "#c\ncountry,Home,Away,0,99999999999999999999\n"},
     "closures.csv line 2, column 5 (closure_end): expected a value <= 36600"),
    ({"routes__csv": ROUTES.replace("A,B,50", "A,B,1e308")},
     "routes.csv line 2, column 3 (distance): expected a value <="),
    ({"locations__csv": LOCATIONS.replace("1000", "1e300")}, "locations.csv line 2, column 8 (population)"),
    ({"c__csv": "Date,count\n2020-01-01,10\n2020-01-20,1e18\n"}, "c.csv line 3, column 2 (count): expected a value <="),
    ({"routes__csv": "#name1,name2,distance\n"}, "routes.csv: expected at least one route"),
    ({"locations__csv": LOCATIONS.replace("conflict_zone,0", "conflict_zone,1e12")},
     "locations.csv line 2, column 7 (conflict_date): expected a value <= 36600"),
    ({"locations__csv": LOCATIONS.replace("conflict_zone,0", "conflict_zone,40")},
     "locations.csv: expected a conflict zone whose conflict begins within the 30 days"),
])
def test_hostile_values_are_named_at_their_flee_line(tmp_path, files, where):
    inp, val = _case(tmp_path, **files)
    with pytest.raises(FleeInputError) as exc:
        main_import(str(inp), str(tmp_path / "out" / "x.yaml"), str(val))
    assert where in str(exc.value)
    assert not (tmp_path / "out" / "x.yaml").exists()


@pytest.mark.parametrize("text, where", [
    ("- a\n- b\n", "line 1: expected a mapping of sections"),
    ("optimisations:\n  hasten: 1.5\n", "line 2: expected a whole number from 1"),
    ("move_rules:\n  max_move_speed: .nan\n",
     "line 2: expected a number from 0 to 1e+12 for move_rules.max_move_speed"),
    ("move_rules:\n  camp_movechance: 5\n", "line 2: expected a number from 0 to 1 for move_rules.camp_movechance"),
    ("spawn_rules:\n  conflict_spawn_decay_interval: 0\n", "line 2: expected a whole number from 1 to 36600"),
    ("move_rules:\n  x: " + "[" * 5000 + "]" * 5000 + "\n",
     "line 2, column 46: expected valid YAML; found nesting deeper than 40 levels"),
])
def test_hostile_settings_are_named_at_their_line(tmp_path, text, where):
    inp, val = _case(tmp_path)
    (tmp_path / "s.yml").write_text(text)
    (inp / "conflicts.csv").write_bytes(b"\x80#Day,A\n")
    with pytest.raises(FleeInputError, match="s.yml " + where.replace("(", r"\(").replace(")", r"\)")
                       .replace("+", r"\+").replace(".", r"\.")):
        import_flee(inp, val, tmp_path / "s.yml")
    with pytest.raises(FleeInputError, match=r"conflicts.csv: expected UTF-8 text"):
        import_flee(inp, val)


def test_conflict_driven_spawning_is_imported(tmp_path):
    """Flee's spawn_rules.conflict_driven_spawning (pop_ratio, people taken from the population): A (1000, in
    conflict from day 0) spawns 1% of what it has left each day, not the camp data's growth; the camp's room is
    its capacity, not reduced by its first day's count (Flee reduces it only when spawning from the data). The
    constant mode's number is read as a whole number, as Flee reads it (with a note)."""
    inp, val = _case(tmp_path)
    settings = tmp_path / "s.yml"
    settings.write_text("spawn_rules:\n  conflict_driven_spawning:\n    spawn_mode: pop_ratio\n"
                        "    displaced_per_conflict_day: 0.01\n  take_from_population: true\n")
    out = main_import(str(inp), str(tmp_path / "out" / "cd.yaml"), str(val), str(settings))
    text = out.read_text()
    assert "conflict_driven: {mode: pop_ratio, per_day: 0.01}" in text and "take_from_population: true" in text
    model = refuge.load(out)
    left, want = 1000, []
    for _ in range(5):
        want.append(int(0.01 * left))
        left -= want[-1]
    assert refuge.simulate(model, seed=2).spawned[:5].tolist() == want == [10, 9, 9, 9, 9]
    assert model.pbase[0, model.net.loc_cap[2]] == 300
    settings.write_text("spawn_rules:\n  conflict_driven_spawning:\n    displaced_per_conflict_day: 7.9\n")
    with pytest.warns(Warning, match=r"s.yml line 3: displaced_per_conflict_day 7.9: Flee reads it as a whole "
                      r"number in spawn mode constant, 7"):
        out = main_import(str(inp), str(tmp_path / "out" / "c.yaml"), str(val), str(settings))
    assert refuge.simulate(refuge.load(out), seed=0).spawned.tolist() == [7] * 30
    settings.write_text("spawn_rules:\n  conflict_driven_spawning:\n    spawn_mode: sometimes\n")
    with pytest.raises(FleeInputError, match=r"s.yml line 3: expected spawn_rules.conflict_driven_spawning.spawn_mode "
                       r"constant, pop_ratio or Poisson; found 'sometimes'"):
        main_import(str(inp), str(tmp_path / "out" / "x.yaml"), str(val), str(settings))
