"""Shared test helpers: where the test scenarios live, and the invariants every run must satisfy."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture(scope="session")
def scenarios_dir() -> Path:
    """The folder of small YAML scenarios written for tests."""
    return SCENARIOS


@pytest.fixture(scope="session")
def assert_sound():
    """Call it on any Run: the test fails listing every invariant the run breaks (see refuge.engine.reference)."""
    from refuge.engine.reference import check_invariants

    return check_invariants
