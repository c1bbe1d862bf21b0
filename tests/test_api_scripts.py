"""The Python API as users write scripts: `run_ensemble` at top level, without a `__main__` guard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TOY = HERE / "scenarios" / "toy.yaml"

SCRIPT = f"""
import refuge
exp = refuge.run_ensemble({str(TOY)!r}, runs=4, workers=2, store=STORE)
print("finished", sum(len(exp.finished(v)) for v in exp.variants))
"""


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_run_ensemble_on_worker_processes_from_a_script_without_a_main_guard(tmp_path, how):
    """Workers must not re-run the script (which would start an ensemble in each worker: BrokenProcessPool), and a
    script piped to `python -` has no file to re-run."""
    code = SCRIPT.replace("STORE", repr(str(tmp_path / "exp")))
    if how == "file":
        (tmp_path / "plain.py").write_text(code)
        cmd, stdin = [sys.executable, str(tmp_path / "plain.py")], None
    else:
        cmd, stdin = [sys.executable, "-"], code
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "finished 4"
    assert "Traceback" not in out.stderr


def test_a_broken_pool_is_one_line_saying_what_to_do(tmp_path):
    """A worker that dies (here: its task ends the process) stops the work with one line, not a wall of
    BrokenProcessPool tracebacks."""
    code = """
import os
import refuge
from refuge.experiments.parallel import map_runs
try:
    map_runs(os._exit, [1, 1], workers=2)
except refuge.RefugeError as exc:
    print("error:", exc)
"""
    out = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, cwd=tmp_path,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    line = out.stdout.strip()
    assert line.startswith("error: worker processes stopped") and "__main__" in line and "workers=1" in line
    assert "\n" not in line and "Traceback" not in out.stderr
