"""The static report as a reader sees it: opened in Chromium at 1280 px, nothing spills sideways, no script errors."""

from __future__ import annotations

import pytest
from conftest import overflow

from refuge.experiments.compare import compare
from refuge.present.report import write_report


@pytest.fixture(scope="module")
def flagship_report(tmp_path_factory):
    """The flagship with its declared variants (few runs): long names, twelve years of flows, four variants."""
    exp = compare("north-korea-china", runs=4, seed=0, workers=1,
                  store=tmp_path_factory.mktemp("flagship") / "exp").experiment
    return write_report(exp)


def test_the_flagship_report_fits_a_1280_px_window(flagship_report, page_at_1280, test_output):
    page = page_at_1280
    page.goto(flagship_report.as_uri())
    page.wait_for_load_state("load")
    assert overflow(page) == {}
    assert page.errors == []
    assert page.evaluate("document.querySelectorAll('.wide').length") >= 5  # wide tables scroll in their own box
    height = page.evaluate("document.documentElement.scrollHeight")
    # a guard against tables repeated per variant (the page was 37,888 px tall); the time series section
    # (the flagship's yearly arrivals against the data, about 700 px), the time in each site and each rule's
    # days on (about 1,000 px together, a row per site or rule with a cell per variant) are content
    assert height < 23000, f"the report is {height} px tall"
    page.screenshot(path=str(test_output / "report-1280.png"), full_page=False)


def test_the_evidence_table_has_one_row_per_fact_and_a_column_per_variant(flagship_report, page_at_1280):
    page = page_at_1280
    page.goto(flagship_report.as_uri())
    rows = page.evaluate("""() => {
        const h = document.getElementById('evidence');
        let el = h.nextElementSibling;
        while (el && !el.classList.contains('wide')) el = el.nextElementSibling;
        const t = el.querySelector('table');
        return {rows: t.rows.length - 1, header: [...t.rows[0].cells].map(c => c.textContent.trim())};
    }""")
    from refuge.api import load

    assert rows["rows"] == len(load("north-korea-china").evidence)
    assert rows["header"][-4:] == ["baseline", "fast-clearance", "no-pressure", "tight-security"]


def test_a_flee_case_report_fits_a_1280_px_window(tmp_path, page_at_1280, test_output):
    """mali2012: 24 locations, no transitions, seven camps against their data with the ARD table."""
    from refuge.experiments.ensemble import run_ensemble

    exp = run_ensemble("mali2012", runs=3, seed=0, workers=1, store=tmp_path / "mali")
    page = page_at_1280
    page.goto(write_report(exp).as_uri())
    page.wait_for_load_state("load")
    assert overflow(page) == {}
    assert page.errors == []
    assert page.evaluate("document.querySelectorAll('#series ~ figure img').length") >= 1
    page.locator("#series").scroll_into_view_if_needed()
    page.screenshot(path=str(test_output / "report-mali2012-1280.png"), full_page=False)


def test_the_reception_centre_report_fits_a_1280_px_window(tmp_path, page_at_1280, test_output):
    """The user's reception centre of issue 20 with its what-if: nine states in one site, a table of time in
    the site, panels titled by the scenario's names."""
    from pathlib import Path

    exp = compare(Path(__file__).parent / "scenarios" / "reception-centre.yaml", runs=4, seed=0, workers=1,
                  store=tmp_path / "centre").experiment
    page = page_at_1280
    page.goto(write_report(exp).as_uri())
    page.wait_for_load_state("load")
    assert overflow(page) == {}
    assert page.errors == []
    header = page.evaluate("[...document.querySelectorAll('#site-time + .wide th')].map(c => c.textContent)")
    assert header == ["site", "baseline: mean days [90%]", "double_interviews: mean days [90%]"]
    page.locator("#site-time").scroll_into_view_if_needed()
    page.screenshot(path=str(test_output / "report-reception-centre-1280.png"), full_page=False)
