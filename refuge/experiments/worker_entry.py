"""The start of refuge's worker processes: they never re-run the caller's script.

To start a worker, multiprocessing (spawn and forkserver) re-runs the parent's main module as
`__mp_main__` so that functions defined there can be unpickled. A script that calls
`refuge.run_ensemble(...)` at top level without `if __name__ == "__main__":` would then start an
ensemble inside every worker while it starts (Python refuses, and the pool breaks), and a script read
from stdin (`python -`) has no file to re-run. refuge sends its workers only functions of its own
modules, so they skip that step: this module is preloaded in refuge's fork server, and importing it
there makes the main-module fix-up a no-op in that server and in the workers it forks. The parent
process never imports it (nothing there calls the fix-up anyway).
"""

from __future__ import annotations

from multiprocessing import spawn


def _skip_main(*_args: object) -> None:
    """In place of multiprocessing's `_fixup_main_from_path` / `_fixup_main_from_name`: leave `__main__` be."""


spawn._fixup_main_from_path = _skip_main
spawn._fixup_main_from_name = _skip_main
