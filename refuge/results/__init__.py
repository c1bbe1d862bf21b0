"""What a run produces: the `Run` object with tidy frames (`refuge.results.run`) and files (`refuge.results.files`)."""

from refuge.results.run import Run  # noqa: F401 (re-exported as the package's API)
