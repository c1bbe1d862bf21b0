"""docs/tutorial.md works as written: every command and every Python block, in order, in a fresh folder.

`$ ` lines of ```console blocks run in a shell with the environment's `refuge` on the PATH;
```python blocks run in one namespace. The install step is the one command not executed:
the test environment is that installation, so the test checks what `make install` would do.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(console|python)\n(.*?)^```", re.S | re.M)


def steps() -> list[tuple[str, str]]:
    out = []
    for kind, body in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")):
        if kind == "python":
            out.append(("python", body))
        else:
            out += [("shell", line[2:]) for line in body.splitlines() if line.startswith("$ ")]
    return out


def test_tutorial_has_the_walk_from_install_to_a_report():
    commands = [text for kind, text in steps() if kind == "shell"]
    assert commands[0] == "make install"
    for needed in ("refuge run", "--runs", "--set", "--sweep", "refuge check", "refuge compare", "--variant",
                   "refuge report"):
        assert any(needed in c for c in commands), needed
    assert sum(kind == "python" for kind, _ in steps()) >= 2


def test_make_install_sets_up_the_pinned_environment():
    dry = subprocess.run(["make", "-n", "-B", "install"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "pip install -q -r requirements.lock" in dry.stdout
    assert "--no-deps --no-build-isolation -e ." in dry.stdout


def test_every_command_of_the_tutorial_runs(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT)}
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for kind, text in steps():
            if kind == "python":
                exec(compile(text, f"{TUTORIAL}:python", "exec"), namespace)
                continue
            if text == "make install":
                continue  # see test_make_install_sets_up_the_pinned_environment
            done = subprocess.run(text, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"$ {text}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    finally:
        os.chdir(cwd)
    from refuge.experiments.store import Experiment

    # what the tutorial says happened, did
    assert (tmp_path / "one-run" / "stocks.csv").exists()
    assert Experiment(tmp_path / "ensemble").finished("baseline") == list(range(30))
    assert Experiment(tmp_path / "tighter").variant_set("baseline") == {"security_factor": 0.3}
    assert Experiment(tmp_path / "sweep").variants == ["lax", "strict"]
    whatif = Experiment(tmp_path / "whatif")
    assert whatif.variants[0] == "baseline" and len(whatif.variants) > 1 and whatif.complete
    assert (tmp_path / "whatif" / "report.html").stat().st_size > 10_000
    assert (tmp_path / "whatif" / "report-figures" / "occupancy.png").exists()
    assert Experiment(tmp_path / "room").variants == ["baseline", "more-room"]
    assert Experiment(tmp_path / "on-dask").complete
    front = json.loads((tmp_path / "front" / "result.json").read_text())
    assert len(front["front"]) >= 1 and (tmp_path / "front" / "front.png").exists()
