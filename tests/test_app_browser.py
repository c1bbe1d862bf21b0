"""The live what-if page in a real browser: it loads, a slider redraws the numbers, nothing spills or errs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import overflow

from refuge.present.app import Session, make_server

RUNS = 20  # per change: enough for bands and paired differences, quick on a shared machine


@pytest.fixture(scope="module")
def app_url():
    """The flagship's page on a free port of 127.0.0.1, runs in this process (no worker pool in tests)."""
    session = Session("north-korea-china", workers=1, runs=RUNS)
    server = make_server(session, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def loaded(page, url: str):
    page.goto(url)
    page.wait_for_function("Number(document.body.dataset.renders || 0) >= 1", timeout=180_000)
    return page


def table_text(page, table: str) -> str:
    return page.inner_text(f"#{table}")


def move(page, selector: str, value) -> int:
    """Set a control as a user lets go of it; returns the number of redraws before."""
    before = page.evaluate("window.refuge.renders")
    page.evaluate("""([sel, v]) => { const s = document.querySelector(sel); s.value = v;
        s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }""", [selector, value])
    return before


def test_the_page_loads_the_flagship_with_its_evidence(app_url, page_at_1280, test_output):
    page = loaded(page_at_1280, app_url)
    assert "North Koreans seeking refuge" in page.inner_text("h1")
    assert page.locator("#evidence tr[data-fact]").count() == 43
    import refuge

    priors = sum(p.prior is not None for p in refuge.load("north-korea-china").scenario.parameters.values())
    assert page.locator(".param input[type=range]").count() == priors  # one slider per parameter with a prior
    assert page.locator("#charts .uplot").count() >= 6
    assert page.locator("#yearly .uplot").count() == 4  # entries, arrivals, arrests, returns
    assert "20 runs" in page.inner_text("#status")
    assert overflow(page) == {}
    assert page.errors == []
    page.screenshot(path=str(test_output / "app-loaded-1280.png"))


def test_moving_a_slider_redraws_numbers_and_evidence(app_url, page_at_1280, test_output):
    page = loaded(page_at_1280, app_url)
    entries = page.locator("#outcomes tr[data-outcome=entries] td")
    assert entries.nth(3).inner_text().startswith("0 ")  # no change yet: every paired difference is zero
    evidence_before = table_text(page, "evidence")
    before = move(page, "input[data-param=security_factor]", 1000)  # security cuts attempts far less
    page.wait_for_function(f"window.refuge.renders > {before}", timeout=180_000)
    assert page.inner_text(".param[data-name=security_factor] .value") == "0.90"  # the top of its prior
    baseline, changed = (float(entries.nth(k).inner_text().replace(",", "")) for k in (1, 2))
    assert changed > baseline  # more people get in when security does not tighten
    assert entries.nth(3).inner_text().startswith("+")
    assert table_text(page, "evidence") != evidence_before
    assert "changed scenario and the baseline" in page.inner_text("#status")
    assert overflow(page) == {}
    assert page.errors == []
    page.screenshot(path=str(test_output / "app-after-slider-1280.png"), full_page=True)


def test_a_bad_value_gets_a_message_on_the_page(app_url, page_at_1280):
    page = loaded(page_at_1280, app_url)
    page.evaluate("""() => { const i = document.querySelector('.site[data-site=sk_beijing] input[type=number]');
        i.value = -5; i.dispatchEvent(new Event('change')); }""")
    page.wait_for_selector("#error:not([hidden])", timeout=60_000)
    assert "room (people) in sk_beijing: expected a number >= 0; found -5" in page.inner_text("#error")
    assert "Traceback" not in page.content()
    assert page.errors == []


def test_switching_a_rule_off_and_downloading_the_changed_scenario(app_url, page_at_1280):
    import yaml

    page = loaded(page_at_1280, app_url)
    before = page.evaluate("window.refuge.renders")
    page.locator("input[data-rule=security]").uncheck()
    page.wait_for_function(f"window.refuge.renders > {before}", timeout=180_000)
    with page.expect_download() as info:
        page.click("#dl-yaml")
    text = open(info.value.path(), encoding="utf-8").read()
    assert "rules switched off: security" in text
    data = yaml.safe_load(text)
    assert "security" not in [r["name"] for r in data["rules"]]
    with page.expect_download() as info:
        page.click("#dl-csv")
    rows = open(info.value.path(), encoding="utf-8").read().splitlines()
    assert len(rows) == 1 + 2 * RUNS and rows[0].startswith("variant,run,seed,outcome:entries")


def test_opening_a_yaml_file_from_the_page(page_at_1280, test_output):
    from pathlib import Path

    session = Session("north-korea-china", workers=1, runs=4)
    server = make_server(session, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        page = loaded(page_at_1280, f"http://127.0.0.1:{server.server_address[1]}/")
        before = page.evaluate("window.refuge.renders")
        page.set_input_files("#scenario-file", str(Path(__file__).parent / "scenarios" / "whatif.yaml"))
        page.wait_for_function(f"window.refuge.renders > {before}", timeout=180_000)
        assert page.inner_text("h1") == "Toy what-if scenario"
        assert "whatif.yaml" in page.inner_text("#period")
        assert page.locator("#evidence tr[data-fact]").count() == len(session.scenario.evidence)
        bad = test_output / "broken.yaml"
        bad.write_text("name: broken\nstart: 2002-01-01\nend: 2001-01-01\nstates: []\n", encoding="utf-8")
        page.set_input_files("#scenario-file", str(bad))
        page.wait_for_selector("#error:not([hidden])", timeout=60_000)
        assert page.inner_text("#error").startswith("broken.yaml")
        assert page.inner_text("h1") == "Toy what-if scenario"  # the page keeps the scenario it had
        assert page.errors == []
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def centre_url():
    """The user's reception centre of issue 20: every state inside one site, the main lever a capacity."""
    from pathlib import Path

    session = Session(Path(__file__).parent / "scenarios" / "reception-centre.yaml", workers=1, runs=8)
    server = make_server(session, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_every_state_flow_and_parameter_is_offered(centre_url, page_at_1280, test_output):
    """Finding 4: the interview backlog (a state inside a site) can be drawn, flows too, and the interview
    capacity (a parameter without a prior) has an input that changes the answer."""
    import refuge

    sc = refuge.load(Path(__file__).parent / "scenarios" / "reception-centre.yaml").scenario
    page = loaded(page_at_1280, centre_url)
    offered = page.evaluate("[...document.querySelectorAll('#pick input[data-show]')].map(i => i.dataset.show)")
    assert {f"state:{s.name}" for s in sc.states} <= set(offered)
    assert {f"flow:{t.name}" for t in sc.transitions} <= set(offered)
    assert page.evaluate("[...document.querySelectorAll('.param')].map(d => d.dataset.name)") == list(sc.parameters)
    page.locator("#pick input[data-show='state:awaiting_interview']").check()
    page.locator("#pick input[data-show='flow:interview']").check()
    page.wait_for_selector("#charts .chart[data-series='state:awaiting_interview'] .uplot")
    assert page.inner_text("#charts .chart[data-series='flow:interview'] h4") == "interview"
    assert "capacity of interview" in page.inner_text(".param[data-name=interviews_per_day]")
    interviewed = page.locator("#outcomes tr[data-outcome=interviewed] td")
    before = move(page, "input[data-param=interviews_per_day]", 80)  # a number input: no prior, no slider
    page.wait_for_function(f"window.refuge.renders > {before}", timeout=180_000)
    baseline, changed = (float(interviewed.nth(k).inner_text().replace(",", "")) for k in (1, 2))
    assert changed > baseline
    assert overflow(page) == {}
    assert page.errors == []
    page.screenshot(path=str(test_output / "app-centre-1280.png"), full_page=True)


def test_the_evidence_table_keeps_its_header_in_view_at_1280_px(app_url, page_at_1280, test_output):
    """Finding 4: scrolled down to its last facts, the flagship's evidence table still shows its header."""
    page = loaded(page_at_1280, app_url)
    page.locator("#evidence tr[data-fact]").last.scroll_into_view_if_needed()
    seen = page.evaluate("""() => {
        const th = document.querySelector('#evidence th');
        const r = th.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + 5, r.top + r.height / 2);
        return {top: r.top, bottom: r.bottom, height: innerHeight, header: !!hit && !!hit.closest('th')};
    }""")
    assert 0 <= seen["top"] and seen["bottom"] <= seen["height"] and seen["header"], seen
    page.screenshot(path=str(test_output / "app-evidence-1280.png"))


def _serve(session: Session):
    server = make_server(session, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def test_fields_and_problems_are_named_as_the_page_shows_them(page_at_1280, test_output, tmp_path):
    """Finding 12 and the labels of finding 3: a state, transition and site are shown by their `label:`;
    a bad value's message names the field as the page labels it, never a path such as `sites.centre.capacity`
    or `transitions[2].capacity`."""
    from test_labels import labelled

    server, url = _serve(Session(labelled(tmp_path), workers=1, runs=4))
    try:
        page = loaded(page_at_1280, url)
        assert page.inner_text("#pick label:has(input[data-show='state:awaiting_interview'])") == "interview queue"
        assert page.inner_text("#pick label:has(input[data-show='flow:interview'])") == "asylum interview"
        assert page.inner_text(".site[data-site=centre] b") == "reception centre"
        assert "room (people)" in page.inner_text(".site[data-site=centre]")
        assert "capacity of asylum interview" in page.inner_text(".param[data-name=interviews_per_day]")
        page.locator("#pick input[data-show='state:awaiting_interview']").check()
        page.wait_for_selector("#charts .chart[data-series='state:awaiting_interview'] .uplot")
        assert page.inner_text("#charts .chart[data-series='state:awaiting_interview'] h4") == "interview queue"
        assert page.inner_text("#missions td.name") == "reception centre"
        # finding 2 on the page: time in the site, and each state's own stays beside it, each said for what it is
        in_site = float(page.locator("#missions tr td").nth(4).inner_text().split()[0].replace(",", ""))
        health = page.locator("#stays tr[data-state=health_check] td").nth(2).inner_text()
        assert health.startswith("7 [7–7]") and in_site > 30, (health, in_site)
        assert page.inner_text("#stays tr[data-state=awaiting_interview] td.name") == "interview queue"
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # read to the end: the controls stay
        box = page.evaluate("(() => { const r = document.querySelector('#controls').getBoundingClientRect(); "
                            "return {top: r.top, bottom: r.bottom, scrolled: window.scrollY}; })()")
        assert box["scrolled"] > 500 and abs(box["top"]) < 1 and box["bottom"] > 800, box
        for selector, value, message in [
            (".site[data-site=centre] input[type=number]", -5,
             "room (people) in reception centre: expected a number >= 0; found -5"),
            ("input[data-param=interviews_per_day]", -3, "interviews_per_day (sets capacity of asylum interview): "
             "expected people served (a transition's capacity): finite, at least 0"),
            ("input[data-param=centre_room]", 1e300, "centre_room: expected a finite number between"),
            ("input[data-param=appeal_share]", 1.5, "appeal_share (sets share of decision going to awaiting_appeal)"
             ": expected a probability"),
        ]:
            page.evaluate("""([sel, v]) => { const i = document.querySelector(sel); i.value = v;
                i.dispatchEvent(new Event('change')); }""", [selector, value])
            page.wait_for_function("t => document.querySelector('#error').textContent.includes(t)", arg=message,
                                   timeout=60_000)
            error = page.inner_text("#error")
            assert "sites." not in error and "sites[" not in error and "transitions[" not in error, error
            page.screenshot(path=str(test_output / "app-field-names-1280.png"))
            page.click("#reset")
            page.wait_for_function("!document.querySelector('#error').textContent", timeout=60_000)
        assert overflow(page) == {}
        assert page.errors == []
    finally:
        server.shutdown()
        server.server_close()


def test_the_page_draws_parameters_from_a_posterior(page_at_1280, test_output, tmp_path):
    """Finding 8: `refuge app SCENARIO --posterior DIR`: run r takes posterior draw r in the baseline and in each
    change; a drawn parameter says so beside its input; moving it sets one value for every run."""
    from test_variants import WHATIF, _posterior

    post = _posterior(tmp_path / "cal", [0.25, 0.5, 0.85])
    session = Session(WHATIF, workers=1, runs=6, posterior=post)
    server, url = _serve(session)
    try:
        page = loaded(page_at_1280, url)
        assert "1 parameter drawn from the posterior in" in page.inner_text("#period")
        success = ".param[data-name=success]"
        assert page.inner_text(f"{success} .value") == "drawn"
        assert "each run draws it from the posterior: median 0.50 [90%: 0.25–0.85]" in page.inner_text(success)
        assert "run r takes posterior draw r" in page.inner_text("#status")
        before = move(page, "input[data-param=clear_days]", 10)  # a number box: no prior
        page.wait_for_function(f"window.refuge.renders > {before}", timeout=180_000)
        drawn = [dict(v)["success"] for v in session.last.values]
        assert len(set(drawn)) > 1 and set(drawn) <= {0.25, 0.5, 0.85}  # the change runs on the draws
        before = move(page, f"{success} input", 500)
        page.wait_for_function(f"window.refuge.renders > {before}", timeout=180_000)
        assert "one value for every run instead of each run's draw" in page.inner_text(success)
        assert page.inner_text(".site[data-site=embassy]").splitlines()[:2] == ["embassy", "room (people)"]
        assert len({dict(v)["success"] for v in session.last.values}) == 1
        assert overflow(page) == {}
        assert page.errors == []
        page.screenshot(path=str(test_output / "app-posterior-1280.png"), full_page=True)
    finally:
        server.shutdown()
        server.server_close()
