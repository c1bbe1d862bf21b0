"""`refuge import flee` on cases with Flee's flood rules (DFlee): flood_level.csv and the flood settings become
`network.floods`; what Flee does silently is a warning naming the file and line; where Flee's runner stops, a
refusal naming them; hostile flood files are refused by name or run cleanly (Hypothesis)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import PROFILE

import refuge
from refuge.interop.flee import FleeInputError, import_flee, main_import

LOCS = """#name,region,country,lat,lon,location_type,conflict_date,population
F1,A,X,1,1,flood_zone,0,1000
F2,A,X,1,1,flood_zone,0,500
T,A,X,1,1,town,,200
C,A,X,1,1,camp,,300
"""
ROUTES = "#name1,name2,distance,forced_redirection\nF1,T,30,\nF2,T,20,\nT,C,50,\nF1,F2,10,\n"
LEVELS = "#Day,F1,F2,T\n" + "".join(f"{d},{min(d // 3, 3)},{int(d > 4)},{int(3 < d < 7)}\n" for d in range(10))
SETTINGS = """spawn_rules:
  flood_driven_spawning: True
  flood_zone_spawning_only: True
  conflict_zone_spawning_only: False
  take_from_population: True
  flood_driven_spawn_mode:
    displaced_per_flood_day: [0.0, 0.1, 0.2, 0.5, 0.9]
move_rules:
  default_movechance: 0.5
  flood_rules:
    max_flood_level: 4
    flood_movechances: [0.3, 0.4, 0.7, 1.0, 1.0]
    flood_loc_weights: [1.0, 0.5, 0.2, 0.0, 0.0]
"""
DATA = "Date,count\n2020-01-01,0\n2020-01-10,40\n"
FILES = {"locations.csv": LOCS, "routes.csv": ROUTES, "closures.csv": "#type,a,b,s,e\n",
         "sim_period.csv": "StartDate,2020-01-01\nLength,10\n", "flood_level.csv": LEVELS,
         "data_layout.csv": "total,total.csv\nF1,z.csv\nF2,z.csv\nT,z.csv\nC,c.csv\n",
         "z.csv": "Date,count\n2020-01-01,0\n2020-01-10,0\n", "c.csv": DATA, "total.csv": DATA,
         "simsetting.yml": SETTINGS}
VALIDATION = ("data_layout.csv", "z.csv", "c.csv", "total.csv")


def _case(tmp: Path, **changes: str | None) -> tuple[Path, Path, Path]:
    inp, val = tmp / "case" / "input_csv", tmp / "case" / "source_data"
    inp.mkdir(parents=True, exist_ok=True)
    val.mkdir(parents=True, exist_ok=True)
    files = {**FILES, **{k.replace("__", "."): v for k, v in changes.items()}}
    for name, text in files.items():
        if text is not None:
            (val if name in VALIDATION else (tmp / "case") if name == "simsetting.yml" else inp).joinpath(
                name).write_text(text)
    return inp, val, tmp / "case" / "simsetting.yml"


def test_a_flood_case_imports_with_its_levels_and_rules_and_runs(tmp_path):
    inp, val, st_ = _case(tmp_path)
    case = import_flee(inp, val, st_)
    data = yaml.safe_load(case.text)
    fl = data["network"]["floods"]
    assert fl["move_chance"] == [0.3, 0.4, 0.7, 1.0, 1.0] and fl["weight"] == [1.0, 0.5, 0.2, 0.0, 0.0]
    assert fl["spawn"] == [0.0, 0.1, 0.2, 0.5, 0.9] and fl["spawn_mode"] == "share"
    assert fl["levels"]["F1"] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3] and fl["levels"]["T"] == [0, 0, 0, 0, 1, 1, 1, 0]
    types = {loc["state"]: loc["type"] for loc in data["network"]["locations"]}
    assert types == {"F1": "flood_zone", "F2": "flood_zone", "T": "town", "C": "camp"}
    assert data["network"]["conflicts"] == [] and "spawning" not in data["network"]
    # every location's data is evidence (Flee's output scores every location with flood rules on)
    assert {e["measure"]["stock"][0] for e in data["evidence"]} == {"F1", "F2", "T", "C"}
    out = case.write(tmp_path / "out" / "flood.yaml")
    run = refuge.simulate(refuge.load(out), seed=1)
    # day 3: F1 at level 1 spawns 10% of 1000; day 5: F1 (10% of the 810 left after days 3-4), F2 (50), T (18)
    assert run.spawned[:3].sum() == 0 and run.spawned[3] == 100 and run.spawned[5] == 81 + 50 + 18


def test_the_spawn_of_each_day_is_flees_pop_ratio_rule(tmp_path):
    inp, val, st_ = _case(tmp_path)
    run = refuge.simulate(refuge.load(main_import(str(inp), str(tmp_path / "o.yaml"), str(val), str(st_))), seed=0)
    left, want = {"F1": 1000, "F2": 500, "T": 200}, []
    share = [0.0, 0.1, 0.2, 0.5, 0.9]
    for d in range(10):
        n = 0
        for name, level in (("F1", min(d // 3, 3)), ("F2", int(d > 4)), ("T", int(3 < d < 7))):
            k = int(share[level] * left[name]) if level else 0
            left[name] -= k
            n += k
        want.append(n)
    assert run.spawned.tolist() == want


def test_what_flee_does_silently_is_a_warning_with_file_and_line(tmp_path):
    levels = LEVELS.replace("#Day,F1,F2,T", "#Day,F1,F2,T,Atlantis").replace("\n", ",3\n").replace(",3,3\n", ",3\n")
    levels = levels.replace("#Day,F1,F2,T,Atlantis,3", "#Day,F1,F2,T,Atlantis").replace("\n4,", "\n7,", 1)
    levels = levels.replace("\n2,0,0,0,", "\n2,0.5,0,0,")
    settings_text = SETTINGS.replace("    displaced", "    flood_spawn_mode: \"pop_ratio\"\n    displaced")
    inp, val, st_ = _case(tmp_path, flood_level__csv=levels, simsetting__yml=settings_text)
    notes = "\n".join(import_flee(inp, val, st_).warnings)
    assert "flood_level.csv line 1: columns naming no location of locations.csv (Atlantis)" in notes
    assert "flood_level.csv line 6: the #Day column does not count the days from 0" in notes
    assert "flood_level.csv line 4: level 0.5 of F1" in notes and "cuts it to a whole number" in notes
    assert "simsetting.yml line 7: spawn_rules.flood_driven_spawn_mode.flood_spawn_mode: not a key Flee reads" \
        in notes


@pytest.mark.parametrize("changes, where", [
    ({"flood_level__csv": None}, r"flood_level.csv: expected a flood_level.csv"),
    ({"flood_level__csv": LEVELS.rsplit("\n", 3)[0] + "\n"}, r"flood_level.csv: expected a row for each of the 10 "
                                                               r"days"),
    ({"flood_level__csv": LEVELS.replace("\n9,3,", "\n9,4,")}, r"flood_level.csv line 11, column 2 \(F1\): "
                                                               r"expected a flood level from 0 to 3"),
    ({"flood_level__csv": LEVELS.replace("\n9,3,", "\n9,-1,")}, r"flood_level.csv line 11, column 2"),
    ({"flood_level__csv": LEVELS.replace("\n9,3,", "\n9,x,")}, r"flood_level.csv line 11, column 2: expected a "
                                                               r"number"),
    ({"flood_level__csv": LEVELS.replace("\n9,3,1,0", "\n9,3,1")}, r"flood_level.csv line 11: expected 4 values"),
    ({"flood_level__csv": LEVELS.replace("#Day,F1,F2,T", "#Day,F1,,T")}, r"flood_level.csv line 1, column 3"),
    ({"data_layout__csv": "total,total.csv\nC,c.csv\n"}, r"data_layout.csv: expected a row for every location of "
                                                         r"locations.csv \(with flood rules"),
    ({"simsetting__yml": SETTINGS.replace("take_from_population: True", "take_from_population: False")},
     r"simsetting.yml line 5: expected take_from_population: True"),
    ({"simsetting__yml": SETTINGS.replace("  flood_rules:", "  flood_rules:\n    flood_forecaster: True")},
     r"expected move_rules.flood_rules.flood_forecaster off"),
    ({"simsetting__yml": SETTINGS.replace("  flood_zone_spawning_only: True", "")},
     r"expected flood rules with flood-driven spawning"),
    ({"simsetting__yml": SETTINGS.replace("    flood_loc_weights: [1.0, 0.5, 0.2, 0.0, 0.0]\n", "")},
     r"flood_loc_weights"),
    ({"simsetting__yml": SETTINGS.replace("[0.3, 0.4, 0.7, 1.0, 1.0]", "[0.3, 1.4, 0.7, 1.0, 1.0]")},
     r"simsetting.yml line 12: expected a number from 0 to 1 for flood rules.flood_movechances"),
    ({"simsetting__yml": SETTINGS.replace("    displaced", "    spawn_mode: poisson\n    displaced")},
     r"expected spawn_mode pop_ratio or constant"),
])
def test_where_flee_stops_or_refuge_does_not_follow_the_refusal_names_file_and_line(tmp_path, changes, where):
    inp, val, st_ = _case(tmp_path, **changes)
    with pytest.raises(FleeInputError, match=where):
        main_import(str(inp), str(tmp_path / "out.yaml"), str(val), str(st_))
    assert not (tmp_path / "out.yaml").exists()


HOSTILE = st.one_of(st.sampled_from(["", "nan", "inf", "-1", "0", "1", "2", "3", "4", "2.5", "1e308", "F1", "x", " ",
                                     "💥", "#Day"]), st.integers(-10**6, 10**6).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))


@settings(PROFILE)
@given(edits=st.lists(st.tuples(st.sampled_from(["flood_level.csv", "locations.csv", "data_layout.csv"]),
                                st.integers(0, 12), st.integers(0, 4), HOSTILE), min_size=1, max_size=3))
def test_hostile_flood_files_are_refused_by_name_or_run_cleanly(tmp_path_factory, edits):
    files = {k: [line.split(",") for line in v.splitlines()] for k, v in FILES.items() if k.endswith(".csv")}
    for name, r, c, value in edits:
        rows = files[name]
        row = rows[r % len(rows)]
        row[c % len(row)] = value
    tmp = tmp_path_factory.mktemp("flood")
    inp, val, st_ = _case(tmp, **{k.replace(".", "__"): "\n".join(",".join(x) for x in v) + "\n"
                                  for k, v in files.items()})
    out = tmp / "out" / "case.yaml"
    t0 = time.process_time()
    try:
        main_import(str(inp), str(out), str(val), str(st_))
    except FleeInputError as exc:
        assert str(exc).startswith((str(inp), str(val), str(st_))) and "Traceback" not in str(exc), str(exc)
        assert not out.exists()
    else:
        run = refuge.simulate(refuge.load(out), seed=1)
        stocks = np.asarray(run.stocks)
        assert np.isfinite(stocks).all() and (stocks >= 0).all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert time.process_time() - t0 < 10.0
