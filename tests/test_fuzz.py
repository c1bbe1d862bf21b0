"""Fuzz: Hypothesis writes malformed scenario files of every hostile class and more; refuge must
refuse each with a short message naming the file and the field (exit code 2), within seconds,
never accept a non-finite or out-of-range number, and run every scenario it accepts soundly
(nobody created or lost, stocks >= 0, capacity respected).

Cost: the `fuzz-ci` profile (CI=true) tries about 170 files in all (about 25 s on the shared two-core
machine); locally `fuzz-dev` tries three times as many.
"""

from __future__ import annotations

import copy
import math
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from refuge.api import simulate
from refuge.cli import app
from refuge.errors import RefugeError, ScenarioError
from refuge.model.compiler import compile_scenario
from refuge.scenario import read
from refuge.sim.invariants import check_invariants

settings.register_profile("fuzz-ci", max_examples=40, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("fuzz-dev", max_examples=120, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PROFILE = settings.get_profile("fuzz-ci" if os.environ.get("CI") else "fuzz-dev")

TOY = Path(__file__).parent / "scenarios" / "toy.yaml"
BASE = yaml.safe_load(TOY.read_text())
BASE["evidence"] = [{"id": "inside", "source": {"file": "f.txt", "fact": "some inside"}, "date": "2002-06-01",
                     "measure": {"stock": ["mission"]}, "bound": "about", "value": 10, "tolerance": 0.5}]
BASE["sites"][0]["supplies"] = {"meals": 3}
BASE["parameters"]["success"]["prior"] = {"dist": "uniform", "low": 0.3, "high": 0.9}
LIMIT_S = 5.0

# Numeric fields and the range their meaning allows (None: any finite number in the field's own limits).
# TINY, the smallest positive float, stands for "more than 0" (a mean or median of days may be tiny, not 0).
TINY = math.ulp(0.0)
NUMBERS = {
    ("states", 0, "initial"): (0, 1e10), ("states", 1, "initial"): (0, 30), ("sites", 0, "capacity"): (0, 1e10),
    ("transitions", 0, "rate"): (0, 1000), ("transitions", 2, "rate"): (0, 1000),
    ("transitions", 1, "duration", "sigma"): (0, 10), ("transitions", 3, "duration", "value"): (0, 36600),
    ("transitions", 4, "duration", "mean"): (TINY, 36600), ("transitions", 4, "duration", "sd"): (TINY, 36600),
    ("transitions", 4, "split", 0, "p"): (0, 1), ("arrivals", 0, "rate"): (0, 1e7),
    ("parameters", "success", "value"): (0, 1), ("parameters", "clear_days", "value"): (TINY, 36600),
    ("schedules", 0, "points", 0, "value"): (TINY, 36600), ("rules", 0, "above"): None,
    ("rules", 0, "below"): None, ("rules", 0, "actions", 0, "set", "value"): (0, 1),
    ("rules", 0, "signal", "window"): (1, 36600), ("sites", 0, "supplies", "meals"): (0, 1e12),
    ("evidence", 0, "value"): None, ("evidence", 0, "tolerance"): (0, 1e12),
    ("parameters", "success", "prior", "low"): (-1e12, 0.9),
}
HOSTILE_NUMBERS = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 1e15, 5e8, 1e9, -1, -1e-9, 0, 0.4, 1, 1.5, 7,
                     2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**12, 10**12))
WRONG_TYPES = st.sampled_from([None, True, "", "x" * 300, [], [1, 2], {}, {"a": 1}, "2003-02-30", "nan", "1e5"])


def _set(d, path, value):
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value


def _paths(x, prefix=()):
    """Every path to a value in the scenario mapping."""
    yield prefix
    items = x.items() if isinstance(x, dict) else enumerate(x) if isinstance(x, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


ALL_PATHS = [p for p in _paths(BASE) if p]


@pytest.fixture(scope="module", autouse=True)
def _engine_loaded():
    """Load the compiled engine once, so no example pays for it."""
    simulate(compile_scenario(read(TOY)), seed=0)


@st.composite
def numeric_case(draw):
    path = draw(st.sampled_from(sorted(NUMBERS, key=str)))
    value = draw(HOSTILE_NUMBERS)
    d = copy.deepcopy(BASE)
    _set(d, path, value)
    rng = NUMBERS[path]
    x = float(value) if not isinstance(value, int) or abs(value) < 1e300 else math.inf
    must_refuse = not math.isfinite(x) or abs(x) > 1e12 or (rng is not None and not rng[0] <= x <= rng[1])
    return yaml.safe_dump(d, sort_keys=False), must_refuse


@st.composite
def structural_case(draw):
    d = copy.deepcopy(BASE)
    kind = draw(st.sampled_from(["drop", "retype", "unknown", "long name", "date"]))
    path = draw(st.sampled_from(ALL_PATHS))
    if kind == "drop":
        cur = d
        for k in path[:-1]:
            cur = cur[k]
        del cur[path[-1]]
    elif kind == "retype":
        _set(d, path, draw(WRONG_TYPES))
    elif kind == "unknown":
        target = draw(st.sampled_from([p for p in ALL_PATHS if isinstance(_get(BASE, p), dict)
                                       and p[-1] != "supplies"] + [()]))  # supplies: free names
        _get(d, target)["bogus_" + draw(st.text("abcdef", min_size=1, max_size=5))] = 1
    elif kind == "long name":
        d["states"][0]["name"] = "h" * draw(st.integers(201, 100_000))
    else:
        field = draw(st.sampled_from(["start", "end"]))
        d[field] = draw(st.sampled_from(["2003-02-30", "2002-13-01", "0000-01-01", "2002-1-1", "tomorrow"]))
        return yaml.safe_dump(d, sort_keys=False).replace(f"'{d[field]}'", d[field]), True
    return yaml.safe_dump(d, sort_keys=False), kind in ("unknown", "long name")


def _get(d, path):
    for k in path:
        d = d[k]
    return d


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))


@st.composite
def yaml_case(draw):
    text = TOY.read_text()
    kind = draw(st.sampled_from(["laughs", "nest", "dup", "tab", "garbage", "self", "empty", "scalar"]))
    if kind == "laughs":
        depth = draw(st.integers(6, 9))
        return LAUGHS + f"description: *{chr(97 + depth - 1)}\n" + text, True
    if kind == "nest":
        n = draw(st.integers(41, 20000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        return text + "description: " + opener * n + "1" + closer * n + "\n", True
    if kind == "dup":
        lines = text.splitlines()
        i = draw(st.integers(0, len(lines) - 1))
        if not re.match(r"^[a-z_]+:", lines[i]):
            return text + "name: again\n", True
        return "\n".join(lines + [lines[i]]) + "\n", True
    if kind == "tab":
        return text.replace("  - {name: mission", "\t- {name: mission"), True
    if kind == "garbage":
        return draw(st.binary(min_size=1, max_size=2000)).decode("latin-1"), True
    if kind == "self":
        return "a: &a [1, *a]\n" + text, True
    if kind == "empty":
        return draw(st.sampled_from(["", "\n", "---\n", "null\n", "~\n"])), True
    return draw(st.sampled_from(["42\n", "'text'\n", "[1, 2]\n", "- a\n- b\n"])), True


PROBLEM_LINE = re.compile(r"^  (\(top level\)|line \d+, column \d+|[\w\[\].-]*): expected .+; found .+$|"
                          r"^  \.\.\. and \d+ more \(fix these first\)$")


def _try(tmp_path: Path, text: str, must_refuse: bool) -> None:
    f = tmp_path / "fuzz.yaml"
    f.write_text(text, encoding="utf-8", errors="surrogateescape") if isinstance(text, str) else f.write_bytes(text)
    t0 = time.perf_counter()
    try:
        model = compile_scenario(read(f), str(f))
    except ScenarioError as exc:
        message = str(exc)
        assert time.perf_counter() - t0 < LIMIT_S, f"{time.perf_counter() - t0:.1f} s to refuse"
        lines = message.splitlines()
        assert lines[0].startswith(f"{f}: ") and "problem" in lines[0], message[:500]
        assert all(PROBLEM_LINE.match(ln) for ln in lines[1:]), message[:2000]
        assert len(lines) <= 52 and all(len(ln) < 1000 for ln in lines), message[:500]
        return
    assert not must_refuse, f"accepted a scenario that must be refused:\n{text[:2000]}"
    try:
        run = simulate(model, seed=1)
    except RefugeError as exc:  # a run-time limit (tracked groups): a message, not a crash
        assert "more than" in str(exc)
        return
    assert time.perf_counter() - t0 < LIMIT_S
    check_invariants(run)
    assert all(math.isfinite(v) for v in run.params.ravel()), "a non-finite parameter reached the engine"


@settings(PROFILE, max_examples=PROFILE.max_examples * 2)
@given(case=numeric_case())
def test_fuzz_numbers(tmp_path_factory, case):
    _try(tmp_path_factory.mktemp("fuzz"), *case)


@settings(PROFILE)
@given(case=structural_case())
def test_fuzz_structure(tmp_path_factory, case):
    _try(tmp_path_factory.mktemp("fuzz"), *case)


@settings(PROFILE)
@given(case=yaml_case())
def test_fuzz_yaml(tmp_path_factory, case):
    _try(tmp_path_factory.mktemp("fuzz"), *case)


@settings(PROFILE, max_examples=max(PROFILE.max_examples // 4, 5))
@given(case=st.one_of(numeric_case(), structural_case(), yaml_case()))
def test_fuzz_through_the_command_line(tmp_path_factory, case):
    """`refuge validate`: exit 2 and the message for what is refused; never a traceback."""
    text, must_refuse = case
    f = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    f.write_text(text, encoding="utf-8", errors="surrogateescape")
    res = CliRunner().invoke(app, ["validate", str(f)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code in (0, 2) and "Traceback" not in res.output
    if res.exit_code == 2:
        assert str(f) in res.output.splitlines()[0]
    else:
        assert not must_refuse
