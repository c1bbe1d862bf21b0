"""The `refuge` command: a thin layer over the Python API.

Each command imports what it needs when it runs, so `refuge --help` stays fast.
Errors in user input are printed as short messages (file, field, expected, found), never tracebacks.

One module per command group; `common` holds the app and what the commands share. The modules are imported
below in the order `refuge --help` lists their commands (each registers its commands on `app`).
"""

from __future__ import annotations

# isort: off
from refuge.cli.common import (  # noqa: F401 (re-exported: the helpers were importable from refuge.cli)
    DEFAULT_SCENARIO, FORMAT_HELP, Format, app, as_date, check_counts, cluster_option, complete_scenario, fail,
    guarded, interrupted, load_model, message, parse_date, parse_sets, print_frame, settings_text, workers_option)
from refuge.cli.run_cmd import (  # noqa: F401 (re-exported)
    print_experiment, print_summary, run, run_ensemble_command, run_posterior_command, with_overrides, write_single)
from refuge.cli.compare_cmd import compare, print_differences  # noqa: F401 (re-exported)
from refuge.cli.report_cmd import app_command, report  # noqa: F401 (re-exported)
from refuge.cli.calibrate_cmd import calibrate_command, print_calibration  # noqa: F401 (re-exported)
from refuge.cli.backtest_cmd import backtest_command, backtest_search  # noqa: F401 (re-exported)
from refuge.cli.sensitivity_cmd import print_sensitivity, sensitivity_command  # noqa: F401 (re-exported)
from refuge.cli.check_cmd import check_command  # noqa: F401 (re-exported)
from refuge.cli.optimize_cmd import optimize_command  # noqa: F401 (re-exported)
from refuge.cli.files_cmd import import_app, import_flee_command, schema, validate  # noqa: F401 (re-exported)
# isort: on

__all__ = ["app", "main"]  # the command; the functions below are its parts, not an API


def main() -> None:
    """Entry point of the `refuge` command (and of `python -m refuge`)."""
    app(prog_name="refuge")
