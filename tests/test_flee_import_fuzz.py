"""`refuge import flee` under hostile input: any cell of a small Flee case replaced by a hostile value, a
line dropped or doubled, bytes that are not UTF-8. The importer either refuses with one line naming a
file of the case (and nothing is written), or writes a scenario that runs with whole, finite counts."""

from __future__ import annotations

import shutil
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_flee_import import LOCATIONS, ROUTES, _case
from test_fuzz import PROFILE  # the fuzz tests' profile: 40 examples under CI, 120 otherwise

import refuge
from refuge.interop.flee import FleeInputError, main_import

LIMIT_S = 10.0

FILES = {
    "locations.csv": LOCATIONS,
    "routes.csv": ROUTES,
    "sim_period.csv": "StartDate,2020-01-01\nLength,30\n",
    "closures.csv": "#closure_type,name1,name2,closure_start,closure_end\ncountry,Home,Away,0,5\n",
    "conflicts.csv": "#Day,A,B\n" + "".join(f"{d},1,{int(d > 9)}\n" for d in range(30)),
    "registration_corrections.csv": "C,2020-01-20,normalize\n",
    "data_layout.csv": "total,total.csv\nC,c.csv\n",
    "c.csv": "Date,count\n2020-01-01,10\n2020-01-10,80\n2020-01-20,200\n",
    "total.csv": "Date,count\n2020-01-01,10\n2020-01-20,200\n",
}
HOSTILE = st.one_of(
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "-1", "-0", "0", "1e308", "1e-320", "99999999999999999999",
                     "1.5", "2020-02-30", "9999-12-31", "0001-01-01", "2020-01-01", "A", "C", "Zed", "camp",
                     "town", "conflict_zone", "country", "link", "location", "Home", "Away", "#", '"', "\x00",
                     "é", "💥", " ", "36600", "36601", "-36601"]),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)


@st.composite
def hostile_case(draw):
    """The small case with one to three edits: a cell replaced, a line dropped or doubled, or a file garbled."""
    files = {k: [line.split(",") for line in v.splitlines()] for k, v in FILES.items()}
    raw: dict[str, bytes] = {}
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(files)))
        rows = files[name]
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop", "double", "bytes", "columns"]))
        if kind == "bytes":
            raw[name] = draw(st.binary(max_size=64))
        elif not rows:
            continue
        elif kind == "cell":
            r = draw(st.integers(0, len(rows) - 1))
            if not rows[r]:
                rows[r].append("")
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = draw(HOSTILE)
        elif kind == "drop":
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif kind == "double":
            r = draw(st.integers(0, len(rows) - 1))
            rows.insert(r, list(rows[r]))
        else:
            r = draw(st.integers(0, len(rows) - 1))
            rows[r] = rows[r][:draw(st.integers(0, len(rows[r])))] + draw(st.lists(HOSTILE, max_size=2))
    text = {k: "\n".join(",".join(row) for row in rows) + "\n" for k, rows in files.items()}
    return text, raw


@settings(PROFILE)
@given(case=hostile_case())
def test_hostile_flee_files_are_refused_by_name_or_run_cleanly(tmp_path_factory, case):
    text, raw = case
    tmp = tmp_path_factory.mktemp("flee")
    inp, val = _case(tmp, **{k.replace(".", "__"): v for k, v in text.items()
                             if k not in ("conflicts.csv", "registration_corrections.csv")})
    for name in ("conflicts.csv", "registration_corrections.csv"):
        (inp / name).write_text(text[name], encoding="utf-8")
    for name, data in raw.items():
        folder = val if name in ("data_layout.csv", "c.csv", "total.csv") else inp
        (folder / name).write_bytes(data)
    out = tmp / "out" / "case.yaml"
    t0 = time.process_time()  # CPU time: a hang guard that a loaded shared machine does not trip
    try:
        main_import(str(inp), str(out), str(val))
    except FleeInputError as exc:
        message = str(exc)
        assert "\n" not in message.strip() or message.startswith(str(inp)), message
        assert message.startswith((str(inp), str(val))), message  # it names a file (or folder) of the case
        assert "Traceback" not in message
        assert not out.exists() and not (tmp / "out" / "case-data").exists()
    else:
        model = refuge.load(out)
        run = refuge.simulate(model, seed=1)
        stocks = np.asarray(run.stocks)
        assert np.isfinite(stocks).all() and (stocks >= 0).all()
        assert int(np.asarray(run.spawned).sum()) <= 10**10
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert time.process_time() - t0 < LIMIT_S


SETTING_KEYS = {"move_rules": ["max_move_speed", "max_walk_speed", "camp_movechance", "conflict_movechance",
                               "default_movechance", "softening", "distance_power", "camp_weight", "conflict_weight",
                               "capacity_buffer", "capacity_scaling", "start_on_foot", "avoid_short_stints",
                               "awareness_level", "pruning_threshold", "use_v1_rules"],
                "spawn_rules": ["conflict_spawn_decay", "conflict_spawn_decay_interval", "sum_from_camps",
                                "insert_day0", "empty_camps_on_day0", "take_from_population",
                                "conflict_driven_spawning"],
                "optimisations": ["hasten"], "log_levels": ["agent"]}
YAML_VALUES = st.one_of(st.sampled_from([".nan", ".inf", "-.inf", "-1", "0", "1", "0.5", "1e308", "1.0e+308", "true",
                                         "null", "[]", "[.nan]", "[1, 0.5]", "{}", "fast", "'3'", "&a [*a]", "*b",
                                         "{spawn_mode: pop_ratio, displaced_per_conflict_day: 2}",
                                         "{spawn_mode: Poisson, displaced_per_conflict_day: 1e300}",
                                         "{spawn_mode: poisson, displaced_per_conflict_day: 7.5}",
                                         "{spawn_mode: 3}", "{displaced_per_conflict_day: .nan}",
                                         "{spawn_mode: constant, displaced_per_conflict_day: 9999999}"]),
                        st.floats(allow_nan=False, allow_infinity=False).map(repr), st.integers().map(str))


@settings(PROFILE)
@given(entries=st.lists(st.tuples(st.sampled_from(sorted(SETTING_KEYS)), st.data()), max_size=6),
       top=st.sampled_from(["", "- a\n", "3\n", "move_rules: 7\n"]))
def test_hostile_flee_settings_are_refused_by_line_or_run_cleanly(tmp_path_factory, entries, top):
    lines: dict[str, list[str]] = {}
    for section, data in entries:
        key = data.draw(st.sampled_from(SETTING_KEYS[section]))
        lines.setdefault(section, []).append(f"  {key}: {data.draw(YAML_VALUES)}")
    text = top + "".join(f"{s}:\n" + "\n".join(v) + "\n" for s, v in lines.items()) if not top.startswith("move") \
        else top
    tmp = tmp_path_factory.mktemp("flee-settings")
    inp, val = _case(tmp)
    path = tmp / "settings.yml"
    path.write_text(text, encoding="utf-8")
    out = tmp / "out" / "case.yaml"
    try:
        main_import(str(inp), str(out), str(val), str(path))
    except FleeInputError as exc:
        assert str(exc).startswith((str(path), str(inp))), str(exc)
        assert not out.exists()
    else:
        run = refuge.simulate(refuge.load(out), seed=1)
        assert np.isfinite(np.asarray(run.stocks)).all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
