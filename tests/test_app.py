"""The what-if page's server side: changes are checked and applied, runs are reduced as `refuge` counts them."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
import yaml

from refuge.errors import RefugeError
from refuge.experiments.ensemble import resolve_scenario
from refuge.present.app import (
    Change,
    Session,
    _compiled,
    _years,
    changed_data,
    changed_scenario,
    make_server,
    parse_change,
    scenario_yaml,
)


@pytest.fixture(scope="module")
def flagship():
    return resolve_scenario("north-korea-china")


def test_a_change_is_checked_field_by_field(flagship):
    """Each problem names the field as the page shows it (a parameter by its name, a site's "room (people)",
    a closure's "closed from"/"to"), not by the request's path (`values.x`, `sites.x.capacity`)."""
    sc, _ = flagship
    with pytest.raises(RefugeError, match=r"^nope: not a parameter"):
        parse_change(sc, {"values": {"nope": 1}})
    with pytest.raises(RefugeError, match=r"^security_factor: expected a number; found 'x'"):
        parse_change(sc, {"values": {"security_factor": "x"}})
    with pytest.raises(RefugeError, match=r"^rule: no `securty` in the scenario \(did you mean `security`\?\)"):
        parse_change(sc, {"rules_off": ["securty"]})
    with pytest.raises(RefugeError, match=r"^closed to, closure 1 of sk_beijing: expected a date"):
        parse_change(sc, {"sites": {"sk_beijing": {"closed": [{"from": "2003-01-01", "to": "soon"}]}}})
    with pytest.raises(RefugeError, match=r"^closure 1 of sk_beijing: the closure ends \(2003-01-01\) before it "):
        parse_change(sc, {"sites": {"sk_beijing": {"closed": [{"from": "2003-02-01", "to": "2003-01-01"}]}}})
    with pytest.raises(RefugeError, match=r"expected dates within 2001-01-01..2012-12-31"):
        parse_change(sc, {"sites": {"sk_beijing": {"closed": [{"from": "1999-02-01", "to": "2003-01-01"}]}}})
    with pytest.raises(RefugeError, match=r"^room \(people\) in sk_beijing: expected a number >= 0; found -5"):
        parse_change(sc, {"sites": {"sk_beijing": {"capacity": -5}}})
    assert parse_change(sc, {}).empty


def test_a_change_applies_values_variants_capacity_and_closures(flagship):
    sc, origin = flagship
    change = parse_change(sc, {"values": {"security_factor": 0.9}, "variants": ["fast-clearance"],
                               "sites": {"spain_beijing": {"capacity": 7,
                                                           "closed": [{"from": "2004-01-01", "to": "2004-02-01"}]}}})
    new = changed_scenario(sc, origin, change)
    assert new.parameters["security_factor"].value == 0.9
    assert new.parameters["clearance_2003"].value == 7  # from the variant
    spain = next(s for s in new.sites if s.name == "spain_beijing")
    assert spain.capacity == 7 and str(spain.closed[0].start) == "2004-01-01"
    assert next(s for s in new.sites if s.name == "japan_shenyang").capacity == "mission_room"  # others untouched


def test_a_rule_switched_off_never_acts_and_leaves_the_downloaded_yaml(flagship):
    sc, origin = flagship
    session = Session("north-korea-china", workers=1, runs=2)
    spec = session._spec(parse_change(sc, {"rules_off": ["security"]}))
    from refuge.api import simulate

    model = _compiled(spec).model
    run = simulate(model, seed=3)
    assert not run.rules_active[:, model.rule_names.index("security")].any()
    assert run.rules_active[:, model.rule_names.index("sk_consular_closure")].any()  # the others still act
    data, notes = changed_data(sc, Change(rules_off=("security",)))
    assert "security" not in [r["name"] for r in data["rules"]]
    text = scenario_yaml(sc, Change(rules_off=("security",)))
    assert text.startswith("# north-korea-china, changed in `refuge app`")
    from refuge.scenario import parse

    parse(yaml.safe_load(text), "downloaded.yaml")  # the download is a valid scenario


def test_yearly_totals_match_the_check_tables(flagship):
    from refuge.api import simulate
    from refuge.evidence.outcomes import outcomes_by_year

    session = Session("north-korea-china", workers=1, runs=2)
    c = _compiled(session._spec(Change()))
    for seed in (0, 1):
        run = simulate(c.model, seed=seed)
        assert np.allclose(_years(c, run), outcomes_by_year(run)[1])


def test_the_baseline_and_a_change_share_seeds_and_differ_only_by_the_change():
    session = Session("north-korea-china", workers=1, runs=6)
    same = session.run({})
    assert all(o["difference"] == 0 for o in same["outcomes"]) and not same["changed"]
    page = session.run({"values": {"security_factor": 1.0}})
    entries = page["outcomes"][0]
    assert entries["label"].startswith("entries")
    assert entries["value"] > entries["baseline"] and entries["low"] >= 0  # paired: every run gains entries
    assert len(page["evidence"]) == 43 and page["runs"] == 6
    assert [y["name"] for y in page["yearly"]] == [o["name"] for o in session.base_model.outcomes if o["total"]]


def test_the_server_answers_bad_requests_with_a_message(tmp_path):
    session = Session("north-korea-china", workers=1, runs=2)
    server = make_server(session, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        def post(path, body: bytes):
            req = urllib.request.Request(url + path, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req) as res:
                    return res.status, json.loads(res.read())
            except urllib.error.HTTPError as err:
                return err.code, json.loads(err.read())

        assert post("/api/run", b"{nope")[1]["error"].startswith("request: not valid JSON")
        code, data = post("/api/run", json.dumps({"change": {"values": {"arrest_rate": -1}}}).encode())
        assert code == 200 and "arrest_rate" in data["error"] and "Traceback" not in data["error"]
        bad = {"yaml": "name: x\nstates: []\n", "filename": "bad.yaml"}
        code, data = post("/api/scenario", json.dumps(bad).encode())
        assert code == 200 and data["error"].startswith("bad.yaml")
        with urllib.request.urlopen(url + "/static/uPlot-LICENSE.txt") as res:
            assert b"MIT License" in res.read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "/static/../app.py")
    finally:
        server.shutdown()
        server.server_close()


def test_import_refuge_does_not_import_the_app_or_its_libraries():
    import subprocess
    import sys

    heavy = "('refuge.present.app', 'duckdb', 'http.server')"
    code = f"import sys, refuge; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_cli_app_rejects_bad_options_with_one_line():
    from typer.testing import CliRunner

    from refuge.cli import app

    res = CliRunner().invoke(app, ["app", "--runs", "0"])
    assert res.exit_code == 2 and "--runs: expected a whole number from 1 to 1000; found 0" in res.output
    res = CliRunner().invoke(app, ["app", "no-such-scenario.yaml", "--port", "0"])
    assert res.exit_code == 2 and "no-such-scenario.yaml" in res.output and "Traceback" not in res.output


def test_the_page_ships_its_scripts_and_their_licence():
    from refuge.present.app import STATIC

    page = (STATIC / "app.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page  # nothing from a CDN: works offline
    for name in ("app.js", "app.css", "uPlot.iife.min.js", "uPlot.min.css", "uPlot-LICENSE.txt"):
        assert (STATIC / name).is_file()


def test_a_newer_request_or_cancel_stops_a_long_ensemble():
    from refuge.present.app import Cancelled

    session = Session("north-korea-china", workers=1, runs=2)
    session.run({})  # the baseline of 2 runs: cached
    outcome = {}

    def long_run():
        try:
            outcome["page"] = session.run({"values": {"security_factor": 0.8}}, runs=400)
        except Cancelled:
            outcome["cancelled"] = True

    t = threading.Thread(target=long_run)
    t.start()
    import time

    while session.progress["total"] != 400:  # the changed ensemble has started (its baseline runs first)
        time.sleep(0.05)
    session.cancel()
    t.join(timeout=120)
    assert outcome == {"cancelled": True}
    assert session.progress["done"] < 400


WHATIF = __import__("pathlib").Path(__file__).parent / "scenarios" / "whatif.yaml"


def test_any_scenario_file_works_capacity_and_closures_included():
    session = Session(WHATIF, workers=1, runs=4)
    desc = session.description()
    assert desc["title"] == "Toy what-if scenario" and desc["sites"][0]["closed"] == [
        {"from": "2002-06-01", "to": "2002-07-15"}]
    page = session.run({"sites": {"embassy": {"capacity": 0, "closed": []}}})  # no room at all
    entries = page["outcomes"][0]
    assert entries["value"] == 0 < entries["baseline"]
    assert page["series"]["site:embassy"]["q"][4] == [0] * len(page["x"])  # nobody inside on any day


def test_the_report_of_a_change_has_the_baseline_and_the_changed_scenario():
    from refuge.present.app import report_html

    session = Session(WHATIF, workers=1, runs=3)
    session.run({"values": {"clear_days": 15}})
    html = report_html(session).decode("utf-8")
    assert "<b>changed</b>" in html and "clear_days = 15" in html and "<b>baseline</b>" in html
    session.run({"rules_off": [session.scenario.rules[0].name]})  # not a parameter: the changed scenario alone
    html = report_html(session).decode("utf-8")
    assert 'id="whatif"' not in html and "<b>baseline</b>" not in html
    assert "as changed on the page (rules switched off: security" in html
