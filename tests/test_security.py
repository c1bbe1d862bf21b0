"""Nothing a user hands over runs code: no pickle (or other code-running loader) reads a file.

A calibration folder may come from anyone. Its checkpoint of the unfinished generation
(`pending/`) is JSON Lines checked field by field; a pickle left there by an older version,
or planted, is deleted unread.
"""

from __future__ import annotations

import json
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import refuge
from refuge.errors import RefugeWarning
from refuge.inference.pending import Pending

PACKAGE = Path(refuge.__file__).parent
RECOVERY = Path(__file__).parent / "scenarios" / "calib_recovery.yaml"

# Calls that can run code while reading bytes. The one allowed use: cloudpickle bytes made in the same
# process to ship a closure to worker processes (never read from a file or from a user).
LOADERS = re.compile(r"\b(pickle|cloudpickle|dill|joblib|marshal|shelve|jsonpickle)\.(loads?|Unpickler|open)\b"
                     r"|read_pickle\(|allow_pickle\s*=\s*True|yaml\.(unsafe_)?load\((?!.*SafeLoader)"
                     r"|yaml\.full_load|\beval\(|\bexec\(|UnsafeLoader|FullLoader")
# And the scenario reader's YAML loader, a SafeLoader subclass (checked below).
ALLOWED = {("inference/simulator.py", "return cloudpickle.loads(blob)"),
           ("scenario/yaml_safe.py", "return yaml.load(text, Loader=_loader())")}


def test_the_scenario_yaml_loader_is_a_safe_loader():
    import yaml

    from refuge.scenario.yaml_safe import _loader, load_yaml

    assert issubclass(_loader(), yaml.SafeLoader)
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['echo hi']\n")


def test_the_package_never_loads_pickle_or_other_code_running_formats():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if LOADERS.search(code) and (rel, code.strip()) not in ALLOWED:
                found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "code-running loaders:\n" + "\n".join(found)


def test_the_grep_catches_what_it_is_for():
    for bad in ("x = pickle.load(fh)", "pickle.loads(b)", "pd.read_pickle(p)", "np.load(p, allow_pickle=True)",
                "yaml.load(text, Loader=yaml.Loader)", "cloudpickle.loads(data)", "eval(text)"):
        assert LOADERS.search(bad), bad
    assert not LOADERS.search("yaml.load(text, Loader=yaml.SafeLoader)")


class _Planted:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_planted_pickle_checkpoint_is_never_unpickled(tmp_path):
    from refuge.inference.calibrate import Settings, calibrate
    from refuge.scenario import read

    marker = tmp_path / "code-ran"
    out = tmp_path / "cal"
    (out / "pending").mkdir(parents=True)
    for t in range(3):
        (out / "pending" / f"generation-{t}.pkl").write_bytes(pickle.dumps(_Planted(marker)))
    calibrate(read(RECOVERY), out, Settings(population=20, budget=400, generations=2, seed=1), predictive_runs=5)
    assert not marker.exists()
    assert not list((out / "pending").glob("*.pkl"))


# --- the checkpoint format reads back exactly what was written, and nothing else ------------------


def _particles(n: int, eps: float, facts: int = 3) -> dict:
    from pyabc.parameters import Parameter
    from pyabc.population import Particle

    rng = np.random.default_rng(0)
    out = {}
    for i in range(n):
        d = float(rng.random()) if i % 4 else np.inf
        f = rng.random(facts) * 1e3 if np.isfinite(d) else np.full(facts, np.nan)
        out[i] = Particle(m=0, parameter=Parameter({"a": float(rng.random()), "b": float(rng.random())}),
                          weight=1.0, sum_stat={"facts": f, "invalid": 0.0 if np.isfinite(d) else 1.0},
                          distance=d, accepted=bool(d <= eps), proposal_id=0, preliminary=False)
    return out


def _same(a, b) -> None:
    assert sorted(a) == sorted(b)
    for i in a:
        x, y = a[i], b[i]
        assert dict(x.parameter) == dict(y.parameter) and x.distance == y.distance and x.accepted == y.accepted
        np.testing.assert_array_equal(x.sum_stat["facts"], y.sum_stat["facts"])
        assert x.sum_stat["invalid"] == y.sum_stat["invalid"]


KEY = (2, 50, 0.5, 3)


def test_pending_candidates_read_back_bit_for_bit(tmp_path):
    pending = Pending(tmp_path, ["a", "b"], 3)
    written = _particles(12, 0.5)
    pending.append(2, KEY, {i: written[i] for i in range(6)})
    pending.append(2, KEY, {i: written[i] for i in range(6, 12)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(pending.load(2, KEY), written)
    assert pending.load(2, (2, 50, 0.4, 3)) == {}  # another threshold: nothing reused, file dropped
    assert not pending.path(2).exists()


def test_a_line_cut_short_ends_the_usable_part_silently(tmp_path):
    pending = Pending(tmp_path, ["a", "b"], 3)
    written = _particles(12, 0.5)
    pending.append(2, KEY, {i: written[i] for i in range(6)})
    pending.append(2, KEY, {i: written[i] for i in range(6, 12)})
    data = pending.path(2).read_bytes()
    pending.path(2).write_bytes(data[:-40])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(pending.load(2, KEY), {i: written[i] for i in range(6)})


@pytest.mark.parametrize("damage", ["coordinate", "accepted", "facts", "names", "nan", "garbage", "type"])
def test_a_damaged_record_is_dropped_with_a_warning(tmp_path, damage):
    pending = Pending(tmp_path, ["a", "b"], 3)
    written = _particles(8, 0.5)
    pending.append(2, KEY, {i: written[i] for i in range(4)})
    pending.append(2, KEY, {i: written[i] for i in range(4, 8)})
    lines = pending.path(2).read_text().splitlines()
    rec = json.loads(lines[2])
    c = rec["candidates"][1]
    if damage == "coordinate":
        c["parameter"]["a"] = 7.0
    elif damage == "accepted":
        c["accepted"] = not c["accepted"]
    elif damage == "facts":
        c["facts"] = c["facts"][:2]
    elif damage == "names":
        c["parameter"] = {"b": 0.1, "a": 0.2}
    elif damage == "nan":
        c["weight"] = float("nan")
    elif damage == "type":
        c["i"] = "5; import os"
    lines[2] = "{not json" if damage == "garbage" else json.dumps(rec)
    pending.path(2).write_text("\n".join(lines) + "\n")
    with pytest.warns(RefugeWarning, match="line 3 is damaged"):
        got = pending.load(2, KEY)
    _same(got, {i: written[i] for i in range(4)})


def test_a_checkpoint_of_another_shape_is_not_reused(tmp_path):
    Pending(tmp_path, ["a", "b"], 3).append(2, KEY, _particles(4, 0.5))
    assert Pending(tmp_path, ["a", "c"], 3).load(2, KEY) == {}
    Pending(tmp_path, ["a", "b"], 3).append(2, KEY, _particles(4, 0.5))
    assert Pending(tmp_path, ["a", "b"], 4).load(2, KEY) == {}


def test_an_interrupted_calibration_with_a_tampered_checkpoint_gives_the_uninterrupted_posterior(tmp_path):
    from refuge.inference.calibrate import Settings, calibrate
    from refuge.scenario import read

    settings = Settings(population=30, budget=3000, generations=3, seed=2)
    scenario = read(RECOVERY)
    calibrate(scenario, tmp_path / "whole", settings, predictive_runs=5)

    def interrupt(event):
        if event["generation"] == 2 and event["evaluated"] > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibrate(scenario, tmp_path / "cut", settings, progress=interrupt)
    path = tmp_path / "cut" / "pending" / "generation-2.jsonl"
    lines = path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["candidates"][0]["accepted"] = not rec["candidates"][0]["accepted"]
    path.write_text("\n".join([lines[0], json.dumps(rec)] + lines[2:]) + "\n")
    with pytest.warns(RefugeWarning, match="damaged"):
        calibrate(scenario, tmp_path / "cut", settings, predictive_runs=5)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cut" / "posterior.parquet"),
                                  pd.read_parquet(tmp_path / "whole" / "posterior.parquet"))
