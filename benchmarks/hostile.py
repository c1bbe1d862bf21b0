"""Hostile input: count tracebacks, hangs and silent acceptances over a corpus of malformed cases.

Each case is a scenario file (or a store, or a command line) that a careless or hostile user
could hand to `refuge`, with what must happen: `reject` (exit 2 with a short message that
names the file or option) or `accept` (exit 0). Each case runs in its own process, so a hang
is killed (after --timeout seconds) and memory is that process's peak.

    python benchmarks/hostile.py [--only SUBSTRING] [--timeout 20] [--jobs 2] [--json FILE]

Outcomes per case: ok, traceback (a Python traceback, or an exit code other than 0/1/2),
hang (killed after --timeout s of wall time, or more than 5 s of CPU
time -- wall time on a shared machine measures the neighbours -- or more than 500 MB), silent (a `reject` case that
exited 0),
refused (an `accept` case that did not exit 0), unclear (rejected with no message, or more than 52 lines
or a line over 1,000 characters). Prints a table and the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "tests" / "scenarios" / "toy.yaml"
LIMIT_S, LIMIT_MB = 5.0, 500.0

WRAPPER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
code = 0
try:
    from refuge.cli import app
    app(sys.argv[1:], prog_name="refuge")
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
except BaseException:
    import traceback
    traceback.print_exc()
    code = 99
finally:
    sys.stderr.flush()
    u = resource.getrusage(resource.RUSAGE_SELF)
    k = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write("\nHOSTILE-STATS " + json.dumps({"code": code, "seconds": time.perf_counter() - t0,
                     "cpu": u.ru_utime + u.ru_stime + k.ru_utime + k.ru_stime,
                     "mb": max(u.ru_maxrss, k.ru_maxrss) / 1024}) + "\n")
    sys.stderr.flush()
import os
os._exit(code if isinstance(code, int) else 1)
"""


@dataclass
class Case:
    name: str
    kind: str  # the class of hostility (numbers, sizes, yaml, loops, commands, store, cluster)
    expect: str  # reject | accept
    args: list[str]  # refuge arguments; {file} and {out} are filled in
    text: str | None = None  # scenario file content (None: use `files`/`prepare`)
    prepare: object = None  # callable(workdir) run before the case
    env: dict = field(default_factory=dict)
    permissions: bool = False  # relies on file permissions (meaningless as root, who ignores them)


def base() -> dict:
    return yaml.safe_load(BASE.read_text())


def dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def mutate(path: str, value) -> str:
    """The base scenario with one field (dotted path, [i] for lists) replaced by a YAML literal."""
    data = base()
    cur = data
    parts = re.findall(r"\[\d+\]|[^.\[\]]+", path)
    for p in parts[:-1]:
        cur = cur[int(p[1:-1])] if p.startswith("[") else cur.setdefault(p, {})
    last = parts[-1]
    marker = "__HOSTILE__"
    if last.startswith("["):
        cur[int(last[1:-1])] = marker
    else:
        cur[last] = marker
    return dump(data).replace(f"'{marker}'", str(value)).replace(marker, str(value))


NUMERIC_FIELDS = [
    "states.[0].initial", "sites.[0].capacity", "transitions.[0].rate", "transitions.[1].duration.median",
    "transitions.[1].duration.sigma", "transitions.[3].duration.value", "transitions.[4].duration.mean",
    "transitions.[4].duration.sd", "arrivals.[0].rate", "parameters.success.value", "parameters.clear_days.value",
    "transitions.[4].split.[0].p", "schedules.[0].points.[0].value", "rules.[0].above", "rules.[0].below",
    "rules.[0].actions.[0].set.value",
]


def number_cases() -> list[Case]:
    out = []
    for f in NUMERIC_FIELDS:
        for lit in (".nan", ".inf", "-.inf", "1e300", "-1"):
            if f.startswith("rules.[0].above") or f.startswith("rules.[0].below"):
                if lit in ("-1",):
                    continue  # a negative level is allowed (never/always on)
            out.append(Case(f"{f}={lit}", "numbers", "reject", ["run", "{file}", "--out", "{out}"], mutate(f, lit)))
    d = base()
    d["rules"][0]["actions"] = [{"set": {"parameter": "success", "value": 7}}]
    out.append(Case("rule sets a probability to 7", "numbers", "reject", ["run", "{file}", "--out", "{out}"],
                    dump(d)))
    d = base()
    d["rules"][0]["actions"] = [{"multiply": {"parameter": "success", "by": 3}}]
    out.append(Case("rule multiplies a probability 0.6 by 3", "numbers", "reject",
                    ["run", "{file}", "--out", "{out}"], dump(d)))
    d = base()
    d["rules"][0]["actions"] = [{"multiply": {"parameter": "clear_days", "by": -1}}]
    out.append(Case("rule makes a duration negative", "numbers", "reject", ["run", "{file}", "--out", "{out}"],
                    dump(d)))
    d = base()
    d["schedules"][0]["points"] = [{"date": "2003-01-01", "value": -30}]
    out.append(Case("schedule makes a duration negative", "numbers", "reject", ["run", "{file}", "--out", "{out}"],
                    dump(d)))
    d = base()
    d["schedules"].append({"parameter": "success", "points": [{"date": "2002-06-01", "value": 1.5}]})
    out.append(Case("schedule makes a probability 1.5", "numbers", "reject", ["run", "{file}", "--out", "{out}"],
                    dump(d)))
    d = base()
    d["transitions"][0]["group_size"] = {"dist": "empirical", "values": [1, 2], "weights": [".nan", 1]}
    out.append(Case("empirical weight NaN", "numbers", "reject", ["run", "{file}", "--out", "{out}"],
                    dump(d).replace("'.nan'", ".nan")))
    d = base()
    d["sites"][0]["supplies"] = {"meals": ".nan"}
    out.append(Case("supplies NaN", "numbers", "reject", ["run", "{file}", "--out", "{out}"],
                    dump(d).replace("'.nan'", ".nan")))
    d = base()
    d["variants"] = [{"name": "v", "set": {"success": ".nan"}}]
    out.append(Case("variant sets NaN", "numbers", "reject", ["compare", "{file}", "--runs", "2", "--workers", "1",
                                                              "--out", "{out}"], dump(d).replace("'.nan'", ".nan")))
    d = base()
    d["parameters"]["success"]["prior"] = {"dist": "uniform", "low": ".nan", "high": 1}
    out.append(Case("prior low NaN", "numbers", "reject", ["validate", "{file}"], dump(d).replace("'.nan'", ".nan")))
    d = base()
    d["evidence"] = [{"id": "x", "source": {"file": "a", "fact": "b"}, "date": "2002-06-01",
                      "measure": {"stock": ["mission"]}, "bound": "at_least", "value": ".nan"}]
    out.append(Case("evidence value NaN", "numbers", "reject", ["validate", "{file}"],
                    dump(d).replace("'.nan'", ".nan")))
    # values at the edge of their range are fine
    d = base()
    d["parameters"]["success"]["value"] = 1.0
    out.append(Case("probability exactly 1", "numbers", "accept", ["run", "{file}", "--out", "{out}"], dump(d)))
    d = base()
    d["sites"][0]["capacity"] = 0
    out.append(Case("capacity 0", "numbers", "accept", ["run", "{file}", "--out", "{out}"], dump(d)))
    return out


def size_cases() -> list[Case]:
    out = []
    run = ["run", "{file}", "--out", "{out}"]
    out.append(Case("initial 1e15 in a counted state", "sizes", "reject", run, mutate("states.[0].initial", "1e15")))
    d = base()
    d["states"][1]["initial"] = 5e8
    d["sites"][0].pop("capacity")
    out.append(Case("initial 5e8 in a tracked state", "sizes", "reject", run, dump(d)))
    d = base()
    d["states"][2]["initial"] = 1e15
    out.append(Case("initial 1e15 in a tracked state", "sizes", "reject", run, dump(d)))
    out.append(Case("arrival rate 1e9", "sizes", "reject", run, mutate("arrivals.[0].rate", "1e9")))
    d = base()
    d["arrivals"][0]["to"] = "custody"
    d["arrivals"][0]["rate"] = 1e6
    out.append(Case("arrival rate 1e6 into a tracked state", "sizes", "reject", run, dump(d)))
    d = base()
    d["transitions"][0]["group_size"] = {"dist": "empirical", "values": [1, 1000000000], "weights": [1, 1]}
    out.append(Case("group size 1e9", "sizes", "reject", run, dump(d)))
    d = base()
    d["arrivals"][0]["group_size"] = {"dist": "fixed", "value": 1e9}
    out.append(Case("arrival group size 1e9", "sizes", "reject", run, dump(d)))
    d = base()
    d["start"], d["end"] = "0001-01-01", "9999-12-31"
    out.append(Case("horizon 0001-9999", "sizes", "reject", run, dump(d).replace("'", "")))
    d = base()
    d["states"] += [{"name": f"s{i}", "kind": "other"} for i in range(5000)]
    out.append(Case("5000 states", "sizes", "reject", run, dump(d)))
    d = base()
    d["states"][5]["name"] = "r" * 1_000_000
    d["transitions"][4]["split"][0]["to"] = "r" * 1_000_000
    out.append(Case("1 MB state name", "sizes", "reject", run, dump(d)))
    out.append(Case("10 MB description", "sizes", "reject", ["validate", "{file}"],
                    mutate("description", "x" * 10_000_000)))
    return out


def yaml_cases() -> list[Case]:
    val = ["validate", "{file}"]
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    nested = "name: " + "[" * 20000 + "]" * 20000 + "\n"
    nested_map = "name: x\nstates: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n"
    out = [
        Case("billion laughs", "yaml", "reject", val, laughs + "name: *i\n"),
        Case("billion laughs inside a field", "yaml", "reject", val,
             mutate("description", "*i").replace("name: toy", laughs + "name: toy", 1)),
        Case("one alias (anchors are refused)", "yaml", "reject", val,
             BASE.read_text().replace("sites:\n  - {name: embassy, capacity: 30}",
                                      "sites:\n  - &e {name: embassy, capacity: 30}") + "x_dup: *e\n"),
        Case("deeply nested lists", "yaml", "reject", val, nested),
        Case("deeply nested mappings", "yaml", "reject", val, nested_map),
        Case("duplicate top-level key", "yaml", "reject", val, BASE.read_text() + "name: other\n"),
        Case("duplicate nested key", "yaml", "reject", val,
             BASE.read_text().replace("{name: embassy, capacity: 30}", "{name: embassy, capacity: 30, capacity: 9}")),
        Case("date 2003-02-30", "yaml", "reject", ["run", "{file}", "--out", "{out}"],
             BASE.read_text().replace("end: 2003-12-31", "end: 2003-02-30")),
        Case("date 2002-13-01 in a schedule", "yaml", "reject", val,
             BASE.read_text().replace("date: 2003-01-01", "date: 2002-13-01")),
        Case("python tag", "yaml", "reject", val, "!!python/object/apply:os.system ['echo hi']\n"),
        Case("empty file", "yaml", "reject", val, ""),
        Case("a list, not a mapping", "yaml", "reject", val, "- 1\n- 2\n"),
        Case("binary garbage", "yaml", "reject", val, None,
             prepare=lambda w: (w / "case.yaml").write_bytes(os.urandom(4096))),
        Case("latin-1 text", "yaml", "reject", val, None,
             prepare=lambda w: (w / "case.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))),
        Case("tab indentation", "yaml", "reject", val, "name: x\nstates:\n\t- {name: a}\n"),
        Case("a directory as the scenario", "yaml", "reject", ["validate", "{dir}"], None),
        Case("a directory to run", "yaml", "reject", ["run", "{dir}", "--out", "{out}"], None),
        Case("huge list of states (unknown field each)", "yaml", "reject", val,
             "name: x\nstart: 2002-01-01\nend: 2002-12-31\nstates:\n" + "".join(
                 f"  - {{name: s{i}, kind: other, bogus: {i}}}\n" for i in range(20000))),
        Case("large integer", "yaml", "reject", ["run", "{file}", "--out", "{out}"],
             mutate("states.[0].initial", "1" + "0" * 400)),
        Case("scenario with no evidence: check", "yaml", "accept", ["check", "{file}", "--runs", "3",
                                                                    "--workers", "1"], BASE.read_text()),
    ]
    return out


def loop_cases() -> list[Case]:
    run = ["run", "{file}", "--out", "{out}"]
    d = base()
    d["states"] += [{"name": "a", "kind": "other", "initial": 5}, {"name": "b", "kind": "other"}]
    d["transitions"] += [{"name": "ab", "from": "a", "to": "b", "duration": {"dist": "fixed", "value": 0.4}},
                         {"name": "ba", "from": "b", "to": "a", "duration": {"dist": "fixed", "value": 0.4}}]
    out = [Case("zero-duration loop a<->b fixed 0.4", "loops", "reject", run, dump(d))]
    d = base()
    d["states"] += [{"name": "a", "kind": "other", "initial": 5}, {"name": "b", "kind": "other"}]
    d["transitions"] += [{"name": "ab", "from": "a", "to": "b", "duration": {"dist": "empirical", "values": [0, 1],
                                                                             "weights": [1, 0]}},
                         {"name": "ba", "from": "b", "to": "a", "duration": {"dist": "fixed", "value": 0}}]
    out.append(Case("zero-duration loop via empirical 0", "loops", "reject", run, dump(d)))
    d = base()
    d["parameters"]["z"] = {"value": 0.2, "assumption": True}
    d["states"] += [{"name": "a", "kind": "other", "initial": 5}, {"name": "b", "kind": "other"}]
    d["transitions"] += [{"name": "ab", "from": "a", "to": "b", "duration": {"dist": "fixed", "value": "z"}},
                         {"name": "ba", "from": "b", "to": "a", "duration": {"dist": "fixed", "value": 1}}]
    d["schedules"].append({"parameter": "z", "points": [{"date": "2002-03-01", "value": 0}]})
    out.append(Case("loop a<->b: one side scheduled to 0", "loops", "accept", run, dump(d)))
    return out


def command_cases() -> list[Case]:
    toy = str(BASE)
    ens = ["run", toy, "--workers", "1", "--out", "{out}"]
    out = [
        Case("--runs 1000000000", "commands", "reject", ens + ["--runs", "1000000000"]),
        Case("--seed 2^63", "commands", "reject", ens + ["--runs", "3", "--seed", str(2**63)]),
        Case("--seed -1", "commands", "reject", ens + ["--runs", "3", "--seed", "-1"]),
        Case("--set success=nan", "commands", "reject", ["run", toy, "--set", "success=nan", "--out", "{out}"]),
        Case("--set success=inf", "commands", "reject", ["run", toy, "--set", "success=inf", "--out", "{out}"]),
        Case("--set success=7", "commands", "reject", ["run", toy, "--set", "success=7", "--out", "{out}"]),
        Case("--set clear_days=1e300", "commands", "reject", ["run", toy, "--set", "clear_days=1e300", "--out",
                                                              "{out}"]),
        Case("--sweep with NaN", "commands", "reject", ens + ["--runs", "2", "--sweep", "{dir}/sweep.csv"],
             prepare=lambda w: (w / "sweep.csv").write_text("success\n0.5\nnan\n")),
        Case("--sweep with inf", "commands", "reject", ens + ["--runs", "2", "--sweep", "{dir}/sweep.yaml"],
             prepare=lambda w: (w / "sweep.yaml").write_text("- {success: .inf}\n")),
        Case("--variant with NaN", "commands", "reject", ["compare", toy, "--variant", "v:success=nan", "--runs", "2",
                                                          "--workers", "1", "--out", "{out}"]),
        Case("--until 2002-02-30", "commands", "reject", ["run", toy, "--until", "2002-02-30", "--out", "{out}"]),
        Case("calibrate --budget 10**12", "commands", "reject", ["calibrate", str(ROOT / "tests" / "scenarios" /
                                                                              "calib_recovery.yaml"),
                                                                 "--budget", str(10**12), "--population", str(10**9),
                                                                 "--out", "{out}"]),
    ]
    return out


def _store(w: Path, seed: int = 0, runs: int = 3, scenario: str | None = None) -> list[str]:
    return ["run", scenario or str(BASE), "--runs", str(runs), "--seed", str(seed), "--workers", "1",
            "--out", str(w / "store")]


def _make_store(w: Path, **kw) -> None:
    r = subprocess.run([sys.executable, "-m", "refuge", *_store(w, **kw)], capture_output=True, text=True,
                       env=_env(), cwd=w)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)


def _corrupt_first(w: Path, pattern: str, how: str) -> None:
    files = sorted((w / "store").rglob(pattern))
    f = files[0]
    if how == "truncate":
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif how == "dir":
        f.unlink()
        f.mkdir()
    elif how == "garbage":
        f.write_bytes(os.urandom(f.stat().st_size))


def store_cases() -> list[Case]:
    def prep(*steps):
        def go(w):
            for s in steps:
                s(w)
        return go

    def same(w):
        return _store(w)
    out = [
        Case("--out is a file", "store", "reject", _store(Path("{dir}")),
             prepare=lambda w: (w / "store").write_text("x")),
        # a damaged experiment.json is rewritten from the command (with a note); the runs kept are checked
        Case("experiment.json is {}", "store", "accept", _store(Path("{dir}")),
             prepare=prep(_make_store, lambda w: (w / "store" / "experiment.json").write_text("{}"))),
        Case("experiment.json is garbage", "store", "accept", _store(Path("{dir}")),
             prepare=prep(_make_store, lambda w: (w / "store" / "experiment.json").write_text("{not json"))),
        Case("experiment.json deleted, other seed", "store", "reject", _store(Path("{dir}"), seed=1000),
             prepare=prep(_make_store, lambda w: (w / "store" / "experiment.json").unlink())),
        Case("experiment.json deleted, other --set", "store", "reject",
             _store(Path("{dir}")) + ["--set", "success=0.5"],
             prepare=prep(_make_store, lambda w: (w / "store" / "experiment.json").unlink())),
        Case("experiment.json deleted, other scenario", "store", "reject",
             _store(Path("{dir}"), scenario=str(ROOT / "tests" / "scenarios" / "whatif.yaml")),
             prepare=prep(_make_store, lambda w: (w / "store" / "experiment.json").unlink())),
        Case("truncated run file", "store", "accept", _store(Path("{dir}")),
             prepare=prep(_make_store, lambda w: _corrupt_first(w, "*.parquet", "truncate"))),
        Case("garbage run file", "store", "accept", _store(Path("{dir}")),
             prepare=prep(_make_store, lambda w: _corrupt_first(w, "*.parquet", "garbage"))),
        Case("directory named like a run file", "store", "accept", _store(Path("{dir}")),
             prepare=prep(_make_store, lambda w: _corrupt_first(w, "*.parquet", "dir"))),
        Case("report on a truncated store", "store", "reject", ["report", "{dir}/store"],
             prepare=prep(_make_store, lambda w: _corrupt_first(w, "*.parquet", "truncate"))),
        Case("summarise a finished store read-only", "store", "accept", _store(Path("{dir}")),
             prepare=prep(_make_store, lambda w: _chmod_tree(w / "store", 0o555)), permissions=True),
        Case("new store in a read-only folder", "store", "reject",
             ["run", str(BASE), "--runs", "2", "--workers", "1", "--out", "{dir}/ro/store"],
             prepare=lambda w: ((w / "ro").mkdir(), (w / "ro").chmod(0o555)), permissions=True),
        Case("report of a folder that is not a store", "store", "reject", ["report", "{dir}"]),
        Case("calibration folder with a planted pickle", "store", "accept",
             ["calibrate", str(ROOT / "tests" / "scenarios" / "calib_recovery.yaml"), "--population", "10",
              "--generations", "1", "--workers", "1", "--predictive-runs", "2", "--out", "{dir}/cal"],
             prepare=_plant_pickle),
    ]
    del same
    return out


def _chmod_tree(path: Path, mode: int) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        p.chmod(mode if p.is_dir() else 0o444)
    path.chmod(mode)


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _plant_pickle(w: Path) -> None:
    import pickle

    (w / "cal" / "pending").mkdir(parents=True)
    for t in range(2):
        (w / "cal" / "pending" / f"generation-{t}.pkl").write_bytes(pickle.dumps(_Planted(str(w / "CODE-RAN"))))


def cluster_cases() -> list[Case]:
    return [
        Case("--cluster: a listener that never answers", "cluster", "reject",
             ["run", str(BASE), "--runs", "2", "--cluster", "tcp://127.0.0.1:{silent}", "--out", "{out}"]),
        Case("--cluster: a service that speaks garbage", "cluster", "reject",
             ["run", str(BASE), "--runs", "2", "--cluster", "tcp://127.0.0.1:{garbage}", "--out", "{out}"]),
        Case("--cluster: nothing listening", "cluster", "reject",
             ["run", str(BASE), "--runs", "2", "--cluster", "tcp://127.0.0.1:1", "--out", "{out}"]),
        Case("--cluster: not an address", "cluster", "reject",
             ["run", str(BASE), "--runs", "2", "--cluster", "not an address", "--out", "{out}"]),
    ]


def servers() -> dict[str, int]:
    """Two local listeners: one that accepts and never answers, one that answers garbage."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(50)
    keep = []

    def serve_silent():
        while True:
            c, _ = silent.accept()
            keep.append(c)

    def serve_garbage():
        while True:
            c, _ = garbage.accept()
            try:
                c.sendall(b"\xff" * 64 + b"HTTP/1.0 200 OK\r\n\r\n" + os.urandom(4096))
            except OSError:
                pass
            keep.append(c)

    threading.Thread(target=serve_silent, daemon=True).start()
    threading.Thread(target=serve_garbage, daemon=True).start()
    return {"silent": silent.getsockname()[1], "garbage": garbage.getsockname()[1]}


CODE = [ROOT]  # the tree whose `refuge` is tried (--code: e.g. another checkout, for a before/after count)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(CODE[0]) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "120")
    return env


def run_case(case: Case, ports: dict, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        w = Path(tmp)
        if case.text is not None:
            (w / "case.yaml").write_text(case.text, encoding="utf-8")
        if case.prepare is not None:
            case.prepare(w)
        subs = {"file": str(w / "case.yaml"), "out": str(w / "out"), "dir": str(w), **{k: str(v) for k, v in
                                                                                         ports.items()}}
        args = [a.format(**subs) for a in case.args]
        t0 = time.perf_counter()
        try:
            r = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True,
                               timeout=timeout, env=_env(), cwd=w)
            killed = False
        except subprocess.TimeoutExpired as exc:
            r, killed = exc, True
        wall = time.perf_counter() - t0
        stderr = (r.stderr or b"") if killed else r.stderr
        stderr = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
        stdout = (r.stdout or "") if not killed else ""
        stats = {}
        for line in stderr.splitlines():
            if line.startswith("HOSTILE-STATS "):
                stats = json.loads(line.split(" ", 1)[1])
        message = "\n".join(l for l in stderr.splitlines() if l.strip() and not l.startswith("HOSTILE-STATS"))
        code = stats.get("code")
        if (w / "CODE-RAN").exists():
            outcome = "code ran"
        elif killed or stats.get("cpu", 0) > LIMIT_S or stats.get("mb", 0) > LIMIT_MB:
            outcome = "hang"
        elif "Traceback (most recent call last)" in stderr or code not in (0, 1, 2):
            outcome = "traceback"
        elif case.expect == "reject" and code == 0:
            outcome = "silent"
        elif case.expect == "accept" and code != 0:
            outcome = "refused"
        elif case.expect == "reject" and (not message or len(message.splitlines()) > 52
                                          or max(len(ln) for ln in message.splitlines()) > 1000):
            outcome = "unclear"
        else:
            outcome = "ok"
        for p in w.rglob("*"):  # read-only cases: let the folder be removed
            try:
                p.chmod(0o755 if p.is_dir() else 0o644)
            except OSError:
                pass
        return {"name": case.name, "kind": case.kind, "expect": case.expect, "outcome": outcome, "code": code,
                "seconds": round(stats.get("seconds", wall), 2), "cpu": round(stats.get("cpu", 0), 2),
                "mb": round(stats.get("mb", 0)),
                "message": (message[-300:] if outcome != "ok" else message.splitlines()[-1][:160] if message else
                            stdout.strip().splitlines()[-1][:160] if stdout.strip() else "")}


def corpus() -> list[Case]:
    return number_cases() + size_cases() + yaml_cases() + loop_cases() + command_cases() + store_cases() + \
        cluster_cases()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run cases whose name or class contains this")
    ap.add_argument("--timeout", type=float, default=60.0, help="wall seconds before a case counts as hung")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write every case's outcome here")
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose refuge is tried (default: this one)")
    args = ap.parse_args()
    CODE[0] = args.code.resolve()
    cases = [c for c in corpus() if args.only in c.name or args.only == c.kind]
    if os.geteuid() == 0:  # root writes through any permission: those cases would prove nothing
        skipped = [c.name for c in cases if c.permissions]
        cases = [c for c in cases if not c.permissions]
        print(f"as root: skipped {', '.join(skipped)} (tests/test_hostile.py covers them by simulating the errors)")
    # compile the engine once, so no case pays for Numba's first compilation
    subprocess.run([sys.executable, "-m", "refuge", "run", str(BASE), "--out", tempfile.mkdtemp()],
                   capture_output=True, env=_env())
    ports = servers()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda c: run_case(c, ports, args.timeout), cases))
    width = max(len(r["name"]) for r in results)
    for r in results:
        print(f"{r['kind']:9} {r['name']:{width}} {r['outcome']:9} exit {str(r['code']):4} {r['cpu']:6.2f} s CPU "
              f"{r['mb']:5} MB  {r['message'].splitlines()[-1][:110] if r['message'] else ''}")
    counts: dict[str, int] = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    print(f"\n{len(results)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"most CPU {max(r['cpu'] for r in results):.2f} s, slowest wall {max(r['seconds'] for r in results):.2f} s, "
          f"most memory {max(r['mb'] for r in results)} MB")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
