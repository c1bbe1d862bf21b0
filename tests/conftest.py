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
    """Call it on any Run: the test fails listing every invariant the run breaks (see refuge.sim.invariants)."""
    from refuge.sim.invariants import check_invariants

    return check_invariants


# --- a real browser (Debian's Chromium driven by Playwright; `make install` puts both on the machine) -----------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def test_output() -> Path:
    """Where tests leave files for people to look at (screenshots): $REFUGE_TEST_OUTPUT or test-output/."""
    import os

    out = Path(os.environ.get("REFUGE_TEST_OUTPUT", Path(__file__).parent.parent / "test-output"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium; fails (not skips) when it is missing, so CI cannot pass without browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: `make install` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_at_1280(browser):
    """A page 1280 px wide that records console errors and uncaught exceptions in `page.errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()


def overflow(page) -> dict:
    """How far the page and each element reach past the window's width (px); empty when nothing spills."""
    return page.evaluate("""() => {
        const w = document.documentElement.clientWidth, out = {};
        if (document.documentElement.scrollWidth > w) out.page = document.documentElement.scrollWidth - w;
        for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            const box = el.parentElement && el.parentElement.closest('.wide, .scroll');  // scrolls inside its box
            if (r.width && r.right > w + 0.5 && !box) {
                const cls = el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '';
                const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls;
                out[name] = Math.round(r.right - w);
            }
        }
        return out;
    }""")
