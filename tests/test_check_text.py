"""`refuge check` in a terminal (issue 20, finding 10): each fact in its source's own words, and a layout made
for narrow terminals and pipes: a compact block per fact, one line a row for a series' data points."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from refuge.evidence.check_text import print_report
from refuge.experiments.check import check

CENTRE = Path(__file__).parent / "scenarios" / "reception-centre.yaml"


def printed(result, width: int) -> list[str]:
    out = io.StringIO()
    print_report(result, Console(file=out, width=width, color_system=None))
    return out.getvalue().splitlines()


@pytest.fixture(scope="module")
def centre():
    return check(CENTRE, runs=2, seed=0)


@pytest.mark.parametrize("width", [80, 200])
def test_each_fact_is_printed_in_its_sources_words(centre, width):
    text = " ".join(" ".join(line.split()) for line in printed(centre, width))
    for fact in centre.model.evidence:
        words = " ".join(fact["fact"].split())
        assert words[:30] in text, (width, words)


def test_a_narrow_terminal_gets_a_compact_block_per_fact(centre):
    lines = printed(centre, 80)
    assert all(len(line) <= 80 for line in lines)
    head = next(k for k, line in enumerate(lines) if line.startswith("interviewed-by-june"))
    assert "holds: yes" in lines[head]  # (it held no before the queue served people: the boats jammed it)
    assert lines[head + 1].strip().startswith("“at least 3,000 interviews")
    assert lines[head + 2].strip().startswith("≥ 3000 · model ")
    assert not any(line.startswith(("┏", "┃", "│")) for line in lines[:head + 4])  # no grid squeezed into 80


def test_time_in_the_site_and_each_states_stays_are_labelled_apart(centre):
    text = "\n".join(printed(centre, 200))
    assert "time in the site in days, from entering it to leaving it" in text
    assert "days in that state alone" in text
    assert "wait median" not in text


def test_a_series_data_points_take_one_line_each_when_piped():
    result = check("mali2012", runs=2, seed=0)
    lines = printed(result, 80)
    points = len(result.series_points)
    rows = [line for line in lines if re.match(r"^\s*\d{4}-\d\d-\d\d\s+[\d,]+\s+[\d,.]+ \[", line)]
    assert len(rows) == points  # one line a data point (was three: a heading and wrapped fields)
    assert all(len(line) <= 80 for line in lines)
    assert len(lines) < points + 80


def test_validate_counts_in_words_people_write():
    from typer.testing import CliRunner

    from refuge.cli import app

    out = CliRunner().invoke(app, ["validate", str(Path(__file__).parent / "scenarios" / "jam.yaml")]).output
    assert "ok — 2 states, 1 transition, 0 parameters, 0 rules, 0 evidence entries" in out
