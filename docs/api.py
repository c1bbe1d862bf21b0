"""Build the API reference of refuge from its docstrings and annotations with pdoc (pinned in
requirements.lock): `python docs/api.py [OUT]` (default docs/api), or `make docs`."""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path


def modules(depth: int | None = None) -> list[str]:
    """refuge and every public module under it (names starting with `_` are private), down to `depth` dots."""
    import refuge

    found = [m.name for m in pkgutil.walk_packages(refuge.__path__, "refuge.")]
    public = [n for n in found if not any(p.startswith("_") for p in n.split(".")[1:])]
    return ["refuge"] + sorted(n for n in public if depth is None or n.count(".") <= depth)


def build(out: str | Path) -> Path:
    """Write the HTML reference into `out`; return it."""
    import pdoc

    out = Path(out)
    pdoc.render.configure(docformat="markdown", footer_text="refuge API reference", search=True)
    pdoc.pdoc(*modules(depth=1), output_directory=out)  # pdoc walks each package's modules itself
    return out


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "api"))
