"""The Python API's functions to load and run a scenario (`refuge.load`, `refuge.simulate`, ...); they live in
`refuge.results.simulate`, the random streams in `refuge.sim.streams`."""

from __future__ import annotations

from refuge.results.simulate import (  # noqa: F401 (re-exported as the API)
    as_model,
    engine_ready,
    load,
    simulate,
    simulate_reference,
)
from refuge.sim.streams import Streams, decision_names  # noqa: F401 (part of the API)
