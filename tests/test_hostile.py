"""Hostile but fair input: every class of issue 9 gets a clear refusal (file, field, limit), never a
traceback, a hang or a silent wrong result; and a damaged store is recomputed or refused, never mixed."""

from __future__ import annotations

import copy
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from refuge.cli import app
from refuge.errors import RefugeError, RefugeWarning, ScenarioError
from refuge.experiments.ensemble import run_ensemble
from refuge.experiments.store import Experiment
from refuge.model.compiler import compile_scenario
from refuge.scenario import limits, parse, read

HERE = Path(__file__).parent
TOY = HERE / "scenarios" / "toy.yaml"
BASE = yaml.safe_load(TOY.read_text())


def problems(data: dict) -> str:
    """The message a scenario gets ('' when it compiles)."""
    try:
        compile_scenario(parse(data, "s.yaml"), "s.yaml")
    except ScenarioError as exc:
        return str(exc)
    return ""


def changed(**edits) -> dict:
    d = copy.deepcopy(BASE)
    for path, value in edits.items():
        cur = d
        keys = [int(k) if k.isdigit() else k for k in path.split("__")]
        for k in keys[:-1]:
            cur = cur[k]
        cur[keys[-1]] = value
    return d


# --- numbers: finite and within their meaning's range, after schedules and rules -------------------


@pytest.mark.parametrize("field", ["states__0__initial", "sites__0__capacity", "transitions__0__rate",
                                   "arrivals__0__rate", "parameters__success__value", "rules__0__above",
                                   "transitions__4__duration__mean", "schedules__0__points__0__value"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_naming_the_field(field, value):
    text = problems(changed(**{field: value}))
    path = field.replace("__", ".").replace(".0.", "[0].").replace(".4.", "[4].").replace("points.0", "points[0]")
    assert f"{path}" in text and "finite" in text, text


@pytest.mark.parametrize("field,value,expect", [
    ("states__0__initial", 1e15, "at most 1e+10"),
    ("arrivals__0__rate", 1e9, "at most 10,000,000"),
    ("transitions__2__rate", -0.5, "at least 0"),
    ("transitions__3__duration__value", -3, "at least 0"),
    ("transitions__1__duration__sigma", 50, "at most 10"),
    ("parameters__success__value", 1.5, "a probability"),
])
def test_out_of_range_numbers_state_the_range(field, value, expect):
    assert expect in problems(changed(**{field: value}))


def test_a_rule_that_sets_a_probability_to_7_is_refused_at_its_action():
    d = changed(rules__0__actions=[{"set": {"parameter": "success", "value": 7}}])
    text = problems(d)
    assert "rules[0].actions[0].set.value" in text and "`success` would reach 7" in text and "security" in text


def test_a_rule_that_multiplies_past_the_range_is_refused():
    d = changed(rules__0__actions=[{"multiply": {"parameter": "success", "by": 3}}])
    assert "rules[0].actions[0].multiply.by" in problems(d) and "1.8" in problems(d)
    ok = changed(rules__0__actions=[{"multiply": {"parameter": "success", "by": 0.5}}])
    assert problems(ok) == ""


def test_a_schedule_that_makes_a_duration_negative_names_the_point_and_its_date():
    d = changed(schedules__0__points=[{"date": "2003-01-01", "value": -30}])
    assert "schedules[0].points[0].value" in problems(d) and "-30 from 2003-01-01" in problems(d)


def test_zero_duration_loops_through_rounding_are_found():
    d = copy.deepcopy(BASE)
    d["states"] += [{"name": "a", "kind": "other", "initial": 5}, {"name": "b", "kind": "other"}]
    d["transitions"] += [{"name": "ab", "from": "a", "to": "b", "duration": {"dist": "fixed", "value": 0.4}},
                         {"name": "ba", "from": "b", "to": "a", "duration": {"dist": "fixed", "value": 0.4}}]
    assert "no loop of zero-duration transitions" in problems(d)
    d["transitions"][-1]["duration"]["value"] = 1  # one side takes a day: no loop
    assert problems(d) == ""


# --- sizes ---------------------------------------------------------------------------------------


def test_size_limits_say_the_limit_and_what_to_do():
    assert "at most 36,600 days" in problems(changed(start="0001-01-01", end="9999-12-31"))
    tracked = changed(states__2__initial=5e8)
    assert "at most 1,000,000" in problems(tracked) and "constant-rate exits" in problems(tracked)
    grp = changed(transitions__0__group_size={"dist": "empirical", "values": [1, 10**9], "weights": [1, 1]})
    assert "at most 100,000" in problems(grp)
    d = copy.deepcopy(BASE)
    d["states"][5]["name"] = d["transitions"][4]["split"][0]["to"] = "r" * 1_000_000
    assert f"at most {limits.MAX_NAME} characters" in problems(d)
    d = copy.deepcopy(BASE)
    d["states"] += [{"name": f"s{i}", "kind": "other"} for i in range(limits.MAX_STATES + 1)]
    assert f"at most {limits.MAX_STATES:,} entries" in problems(d)


def test_too_many_tracked_groups_in_a_run_is_a_message_not_a_memory_blow_up():
    from refuge.api import simulate

    d = changed(states__0__initial=1e9, transitions__0__rate=0.5)
    d["sites"][0].pop("capacity")
    assert "at most 1,000,000 groups a day" in problems(d)  # drawn one by one: refused before the run
    d["transitions"][0].pop("group_size")  # counts: 5e8 people a day into a tracked state
    with pytest.raises(RefugeError, match="more than 1,048,576 groups at once"):  # (time: benchmarks/hostile.py)
        simulate(compile_scenario(parse(d)), seed=1)


# --- YAML ---------------------------------------------------------------------------------------


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))


@pytest.mark.parametrize("text,expect", [
    (LAUGHS + "name: *i\n", "once aliases (*name) are expanded"),
    (TOY.read_text() + "name: other\n", "the key `name` a second time"),
    (TOY.read_text().replace("{name: embassy, capacity: 30}", "{name: embassy, capacity: 30, capacity: 9}"),
     "the key `capacity` a second time"),
    (TOY.read_text().replace("end: 2003-12-31", "end: 2003-02-30"), "`2003-02-30`, which is not a calendar date"),
    ("name: " + "[" * 5000 + "]" * 5000 + "\n", "nesting deeper than 40"),
    ("a: &a [1, *a]\n", "contains itself"),
])
def test_hostile_yaml_is_a_short_error_with_line_and_column(tmp_path, text, expect):
    f = tmp_path / "s.yaml"
    f.write_text(text)
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        read(f)
    assert time.perf_counter() - t0 < 5
    message = str(err.value)
    assert expect in message and message.startswith(str(f)) and "line " in message and len(message) < 500


def test_aliases_within_the_cap_still_work(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(TOY.read_text().replace("{name: embassy, capacity: 30}", "&e {name: embassy, capacity: 30}")
                 + "description: x\n")
    assert read(f).sites[0].capacity == 30


def test_a_directory_a_huge_file_and_many_errors(tmp_path):
    with pytest.raises(ScenarioError, match="found a directory"):
        read(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_text("description: " + "x" * (limits.MAX_FILE_BYTES + 1) + "\n")
    with pytest.raises(ScenarioError, match="at most 1 MB"):
        read(big)
    many = tmp_path / "many.yaml"
    many.write_text("name: x\nstart: 2002-01-01\nend: 2002-12-31\nstates:\n" + "".join(
        f"  - {{name: s{i}, kind: other, bogus: {i}}}\n" for i in range(3000)))
    with pytest.raises(ScenarioError) as err:
        read(many)
    assert len(str(err.value).splitlines()) <= 52 and "more (fix these first)" in str(err.value)


def test_check_on_a_scenario_without_evidence_runs():
    res = CliRunner().invoke(app, ["check", str(TOY), "--runs", "2", "--workers", "1"])
    assert res.exit_code == 0, res.output


# --- command-line numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("args,expect", [
    (["--set", "success=nan"], "--set: expected a finite number after `success=`"),
    (["--set", "success=7"], "a probability"),
    (["--runs", "1000000000"], "--runs: expected a whole number from 1 to 1,000,000"),
    (["--runs", "3", "--seed", str(2**63)], "--seed: expected a whole number from 0"),
    (["--runs", "3", "--seed", "-1"], "--seed: expected a whole number from 0"),
])
def test_command_line_numbers_are_checked(tmp_path, args, expect):
    res = CliRunner().invoke(app, ["run", str(TOY), "--workers", "1", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2 and expect in res.output and "Traceback" not in res.output, res.output


@pytest.mark.parametrize("name,text", [("s.csv", "success\n0.5\nnan\n"), ("s.yaml", "- {success: .inf}\n")])
def test_sweeps_with_non_finite_values_are_refused(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(RefugeError, match="finite"):
        run_ensemble(TOY, runs=1, workers=1, sweep=tmp_path / name, store=tmp_path / "o")


def test_variants_with_non_finite_values_are_refused(tmp_path):
    res = CliRunner().invoke(app, ["compare", str(TOY), "--variant", "v:success=nan", "--runs", "2", "--workers",
                                   "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "finite" in res.output


# --- stores that cannot lie ------------------------------------------------------------------------


def ensemble(path: Path, **kw):
    return run_ensemble(TOY, **({"runs": 3, "seed": 0, "workers": 1, "store": path} | kw))


def files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("run-*.parquet"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    return files(ensemble(tmp_path_factory.mktemp("ref") / "e").path)


@pytest.mark.parametrize("change", [{"seed": 1000}, {"overrides": {"success": 0.5}},
                                    {"variants": {"baseline": {}, "slow": {"clear_days": 60}}}])
def test_a_lost_experiment_json_never_lets_runs_of_another_command_mix_in(tmp_path, change):
    ensemble(tmp_path / "e")
    (tmp_path / "e" / "experiment.json").unlink()
    with pytest.raises(RefugeError, match="of another command"):
        ensemble(tmp_path / "e", **change)


def test_a_lost_experiment_json_with_the_same_command_keeps_the_runs(tmp_path, reference):
    ensemble(tmp_path / "e")
    (tmp_path / "e" / "experiment.json").unlink()
    assert files(ensemble(tmp_path / "e").path) == reference


@pytest.mark.parametrize("damage", ["truncate", "garbage", "directory", "rows"])
@pytest.mark.parametrize("table", ["daily", "stays", "measures"])
def test_a_damaged_run_file_is_recomputed_byte_identical(tmp_path, reference, damage, table):
    exp = ensemble(tmp_path / "e")
    f = exp.file(table, "baseline", 1)
    data = f.read_bytes()
    if damage == "truncate":
        f.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        f.write_bytes(os.urandom(len(data)))
    elif damage == "directory":
        f.unlink()
        f.mkdir()
    else:  # a run file of this experiment, of another replicate, put in this one's place
        f.write_bytes(exp.file(table, "baseline", 2).read_bytes())
    with pytest.warns(RefugeWarning, match="damaged run"):
        again = ensemble(tmp_path / "e")
    assert files(again.path) == reference


@pytest.mark.parametrize("summaries", [True, False])
def test_report_on_a_damaged_store_is_a_message(tmp_path, monkeypatch, summaries):
    """The report reads the runs' measures and summaries, or, without summaries (a store of an older refuge),
    the daily tables; it looks at the end of every other run file: a damaged file is the one-line message."""
    exp = ensemble(tmp_path / "e")
    if not summaries:
        monkeypatch.setattr("refuge.experiments.store.Experiment.run_summaries", lambda self, v, skip=(): None)
    for table in ("measures", "daily", "stays"):
        f = exp.file(table, "baseline", 0)
        good = f.read_bytes()
        f.write_bytes(good[:100])
        res = CliRunner().invoke(app, ["report", str(exp.path)])
        assert res.exit_code == 2 and "Traceback" not in res.output and "run the same command again" in res.output
        f.write_bytes(good)


@pytest.mark.parametrize("content", ["{}", "{not json", "[]"])
def test_a_damaged_experiment_json_is_rewritten_from_the_command(tmp_path, reference, content):
    ensemble(tmp_path / "e")
    (tmp_path / "e" / "experiment.json").write_text(content)
    with pytest.warns(RefugeWarning, match="rewritten from this command"):
        exp = ensemble(tmp_path / "e")
    assert files(exp.path) == reference and exp.meta["runs"] == 3


def test_summarising_a_finished_store_writes_nothing(tmp_path, monkeypatch):
    exp = ensemble(tmp_path / "e")
    before = {p: p.stat().st_mtime_ns for p in exp.path.rglob("*")}

    def no_writes(*a, **k):
        raise OSError(30, "Read-only file system", str(exp.path))

    monkeypatch.setattr("refuge.results.files.atomic_write", no_writes)
    res = CliRunner().invoke(app, ["run", str(TOY), "--runs", "3", "--workers", "1", "--out", str(exp.path)])
    assert res.exit_code == 0, res.output
    assert {p: p.stat().st_mtime_ns for p in exp.path.rglob("*")} == before


def test_file_system_errors_are_one_line(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    res = CliRunner().invoke(app, ["run", str(TOY), "--runs", "2", "--workers", "1", "--out", str(tmp_path / "file")])
    assert res.exit_code == 2 and "is a file, not a directory" in res.output

    def full(*a, **k):
        raise OSError(28, "No space left on device", str(tmp_path / "full"))

    monkeypatch.setattr("refuge.results.files.atomic_write", full)
    res = CliRunner().invoke(app, ["run", str(TOY), "--runs", "2", "--workers", "1", "--out", str(tmp_path / "full")])
    assert res.exit_code == 2 and "No space left on device (free some space" in res.output
    assert len(res.output.strip().splitlines()) == 1


# --- --cluster: bounded, and sure it is Dask --------------------------------------------------------


def _listener(answer: bytes | None) -> int:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []

    def serve():
        while True:
            conn, _ = srv.accept()
            held.append(conn)
            if answer:
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


@pytest.mark.parametrize("answer,expect", [(None, "no answer within 1 s"),
                                           (b"\xff" * 64 + b"HTTP/1.0 200 OK\r\n\r\n", "not a Dask scheduler"),
                                           (b"SSH-2.0-OpenSSH_9.6\r\n", "not a Dask scheduler")])
def test_a_cluster_address_that_is_not_a_scheduler_is_a_quick_message(tmp_path, monkeypatch, answer, expect):
    monkeypatch.setattr("refuge.experiments.parallel.CONNECT_TIMEOUT", "1s")
    port = _listener(answer)
    t0 = time.perf_counter()
    res = CliRunner().invoke(app, ["run", str(TOY), "--runs", "2", "--cluster", f"tcp://127.0.0.1:{port}",
                                   "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and expect in res.output and "Traceback" not in res.output, res.output
    assert time.perf_counter() - t0 < 10


def test_experiment_files_carry_the_fingerprint(tmp_path):
    import pyarrow.parquet as pq

    exp = ensemble(tmp_path / "e", seed=7)
    stamp = json.loads(pq.read_metadata(exp.file("daily", "baseline", 2)).metadata[b"refuge"])
    assert stamp["seed"] == 9 and stamp["run"] == 2 and stamp["variant"] == "baseline"
    assert stamp["scenario_digest"] == exp.meta["scenario_digest"] and stamp["refuge_version"]
    assert isinstance(Experiment(exp.path), Experiment)
