"""The code's own rules, enforced: ruff's configuration in pyproject.toml passes on the package, the tests, the
benchmarks and the docs scripts, and every `noqa` says why."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
TREES = ("refuge", "tests", "benchmarks", "docs")


def test_ruff_is_clean():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *TREES],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_noqa_says_why():
    bare = []
    for tree in TREES:
        for path in (ROOT / tree).rglob("*.py"):
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                m = re.search(r"#\s*noqa\b(:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*)?(.*)$", line)
                if m and not re.search(r"[a-z]{3}", m.group(3)):
                    bare.append(f"{path.relative_to(ROOT)}:{i}")
    assert not bare, "a noqa without a reason: " + ", ".join(bare)
