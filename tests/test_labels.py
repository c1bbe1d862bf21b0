"""A declared `label:` on a state, transition or site (issue 20, finding 3): it titles the thing the same way
everywhere (report panels and tables, `refuge check`, the page), its description goes to the caption with the
name the file uses, and a bad label is one line naming the file and the field."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

import refuge
from refuge.errors import RefugeError

CENTRE = Path(__file__).parent / "scenarios" / "reception-centre.yaml"
LABELS = {("states", "landed"): "registration queue", ("states", "awaiting_interview"): "interview queue",
          ("transitions", "interview"): "asylum interview", ("sites", "centre"): "reception centre"}


def labelled(tmp_path: Path, labels: dict | None = None, name: str = "labelled.yaml") -> Path:
    data = yaml.safe_load(CENTRE.read_text(encoding="utf-8"))
    for (what, item), label in (LABELS if labels is None else labels).items():
        next(x for x in data[what] if x["name"] == item)["label"] = label
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    from refuge.experiments.ensemble import run_ensemble

    tmp = tmp_path_factory.mktemp("labels")
    return run_ensemble(labelled(tmp), runs=3, seed=0, workers=1, store=tmp / "exp")


def test_a_label_titles_panels_and_the_description_goes_to_the_caption(centre, monkeypatch):
    import refuge.present.figures as figures

    seen = []
    monkeypatch.setattr(figures, "_style", lambda ax, title: seen.append(title))
    monkeypatch.setattr(figures, "_title", lambda ax, title: seen.append(title))
    stocks = figures.stocks_figure(centre)
    assert "interview queue" in seen and "registration queue" in seen and "awaiting_interview" not in seen
    assert ("interview queue", "`awaiting_interview` — in site reception centre: registered; waiting for the "
            "asylum interview (interview office; first come first served)") in stocks.key
    assert ("health_check", "in site reception centre: a fixed 7-day health check (after registration)") in stocks.key
    figures.occupancy_figure(centre)
    assert seen[-1] == "reception centre"
    flows = figures.flows_figure(centre)
    assert "asylum interview → awaiting_decision" in flows.panels
    assert "register → health_check" in flows.panels  # unlabelled: its name
    assert ("asylum interview", "`interview` — asylum interview; first come first served (the interview office)"
            ) in flows.key


def test_a_label_titles_the_report_tables_with_the_files_name_beneath(centre, tmp_path):
    from refuge.present.report import write_report

    html = write_report(centre, tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<td class="name">reception centre<br><span class="id">centre</span></td>' in html  # sites, time in site
    assert html.count("reception centre<br><span class=\"id\">centre</span>") >= 2
    assert "<td>interview queue<br><span class=\"id\">awaiting_interview</span></td>" in html  # stays
    assert "asylum interview → awaiting_decision<br><span class=\"id\">interview-&gt;awaiting_decision" in html
    assert "<dt>interview queue</dt>" in html  # the panels' key


def test_check_titles_its_tables_by_label(tmp_path):
    from rich.console import Console

    from refuge.evidence.check_text import print_report

    result = refuge.check(labelled(tmp_path), runs=2, workers=1)
    out = io.StringIO()
    print_report(result, Console(file=out, width=220))
    text = out.getvalue()
    rows = [line.strip(" │┃|") for line in text.splitlines()]
    assert any(r.startswith("reception centre ") and "[" in r for r in rows), text  # per site
    assert any(r.startswith("interview queue ") and "[" in r for r in rows), text  # per state
    assert not any(r.startswith(("centre ", "awaiting_interview ")) for r in rows)


def test_the_page_describes_each_thing_by_its_title(tmp_path):
    from refuge.present.app_change import describe

    desc = describe(refuge.load(labelled(tmp_path)).scenario, "labelled.yaml")
    assert {s["name"]: s["title"] for s in desc["sites"]} == {"centre": "reception centre"}
    titles = {s["name"]: s["title"] for s in desc["states"]}
    assert titles["awaiting_interview"] == "interview queue" and titles["health_check"] == "health_check"
    assert {t["name"]: t["title"] for t in desc["transitions"]}["interview"] == "asylum interview"
    roles = {p["name"]: p["roles"] for p in desc["parameters"]}
    assert roles["interviews_per_day"] == ["capacity of asylum interview"]
    assert roles["centre_room"] == ["room (people) in reception centre"]


@pytest.mark.parametrize("labels, message", [
    ({("states", "landed"): "   "}, r"labelled.yaml: 1 problem\n  states\[0\].label: expected a label with words"),
    ({("transitions", "interview"): "x" * 61}, r"transitions\[2\].label: expected a label of at most 60 characters"),
    ({("states", "landed"): "queue", ("states", "awaiting_interview"): "queue"},
     r"states\[2\].label: expected a title no other of the states has; found `queue`, the title of `landed` too"),
    ({("states", "landed"): "health_check"}, r"states\[0\].label: .*the title of `health_check` too"),
])
def test_a_bad_label_is_one_line_naming_the_field(tmp_path, labels, message):
    with pytest.raises(RefugeError, match=message):
        refuge.load(labelled(tmp_path, labels))


def test_a_label_may_repeat_its_own_name_and_labels_leave_digests_of_unlabelled_files_alone(tmp_path):
    import hashlib
    import json

    from refuge.model.compiler import scenario_digest

    refuge.load(labelled(tmp_path, {("states", "landed"): "landed"}))
    plain = refuge.load(CENTRE).scenario
    before = plain.model_dump(mode="json", by_alias=True)  # the file as the format read it before `label:` came
    for part in ("states", "transitions", "sites"):
        for x in before[part]:
            del x["label"]
            if x.get("order", 0) is None:
                del x["order"]
    if not before.get("drift"):  # the other field added since, left out of digests when empty
        before.pop("drift", None)
    want = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:16]
    assert scenario_digest(plain) == want  # stores and posteriors made before labels still fit
    assert scenario_digest(refuge.load(labelled(tmp_path)).scenario) != scenario_digest(plain)


def test_the_schema_offers_label_on_states_transitions_and_sites():
    from refuge.scenario.format import json_schema

    schema = json_schema()
    defs = schema["$defs"]
    for part in ("State", "Transition", "Site"):
        assert "label" in defs[part]["properties"], part
        assert "default: its name" in defs[part]["properties"]["label"]["description"]
    shipped = (Path(refuge.__file__).parent / "scenario" / "schema" / "scenario.schema.json").read_text()
    assert '"label"' in shipped and "default: its name" in shipped  # `make schema` was run


def test_any_label_text_is_a_one_line_title_or_a_one_line_error():
    """Hostile labels (control characters, escape sequences, line breaks, very long text): either a title of
    printable text on one line, or one error line naming the field."""
    from hypothesis import given
    from hypothesis import strategies as st
    from test_fuzz import PROFILE

    from refuge.scenario import parse

    base = yaml.safe_load(CENTRE.read_text(encoding="utf-8"))

    @PROFILE
    @given(st.text(max_size=90))
    def check(text):
        data = {**base, "states": [dict(s) for s in base["states"]]}
        data["states"][1]["label"] = text
        try:
            sc = parse(data, "hostile.yaml")
        except RefugeError as exc:
            message = str(exc)
            assert message.startswith("hostile.yaml: 1 problem\n  states[1].label: expected "), message
            assert len(message.splitlines()) == 2 and "\x1b" not in message
            return
        title = sc.states[1].title
        assert title and title == title.strip() and "\n" not in title and len(title) <= 60
        assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in title)

    check()
