"""Hostile text in a scenario (issue 20, the closing note's "control characters"): control characters, line
breaks in names and Unicode's bidirectional overrides are refused in every field whose text reaches output
(names, references, descriptions, sources, notes, series names, keys), with one line naming the file and the
field; free text keeps its line breaks and tabs. A Flee case's CSV cells (a conflicts file's header too) are
refused at their cell."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from refuge.errors import ScenarioError
from refuge.interop.flee.csvread import FleeInputError, header, rows
from refuge.scenario import parse

SCENARIOS = Path(__file__).parent / "scenarios"
HOSTILE = ["\x1b[2J", "\x00", "\x07", "\r", "\x7f", "\x9b", "\u2028", "\u202e", "\u2066", "\x0b"]
LINE_BREAKS = ["\n", "\t"]  # allowed in free text only


def _base() -> dict:
    """The reception centre with a source list, a rule, an event and a dated series: every kind of text."""
    data = yaml.safe_load((SCENARIOS / "reception-centre.yaml").read_text())
    data["states"][1]["label"] = "health check"
    data["transitions"][1]["label"] = "health check done"
    data["sources"] = {"office": {"publisher": "An office", "date": "2023-05-01", "headline": "A report",
                                  "url": "https://example.org/report", "author": "A writer", "note": "dated"}}
    data["rules"] = [{"name": "crowded", "signal": {"occupancy": "centre"}, "above": 15000,
                      "actions": [{"multiply": {"parameter": "boats_per_day", "by": 0.5}}], "description": "d"}]
    data["events"] = [{"name": "big_boat", "date": "2023-02-01", "to": "landed", "size": 300,
                       "source": {"ref": "office", "fact": "a boat of 300"}, "description": "d"}]
    data["evidence"].append({"id": "registered-monthly", "group": "registry", "note": "n",
                             "source": {"ref": "office", "fact": "monthly registrations"},
                             "measure": {"flow": ["register"]},
                             "series": {"points": [{"date": "2023-01-31", "value": 3000}]}})
    return data


# (path into the scenario, whether it is free text); a str last step is a field, ("key", k) renames a key
FIELDS = [
    (("name",), False), (("title",), True), (("description",), True),
    (("sites", 0, "description"), True), (("states", 0, "description"), True),
    (("states", 0, "name"), False), (("transitions", 0, "description"), True),
    (("transitions", 0, "name"), False), (("arrivals", 0, "name"), False),
    (("parameters", "boats_per_day", "description"), True), (("parameters", "boats_per_day", "unit"), False),
    (("parameters", ("key", "boats_per_day")), False), (("schedules", 0, "parameter"), False),
    (("evidence", 0, "id"), False), (("evidence", 0, "source", "fact"), True),
    (("evidence", 1, "source", "file"), False), (("evidence", 2, "group"), False),
    (("evidence", 2, "note"), True), (("evidence", 2, "source", "ref"), False),
    (("evidence", 0, "measure", "flow", 0), False),
    (("variants", 0, "name"), False), (("variants", 0, "description"), True),
    (("variants", 0, "set", ("key", "interviews_from_march")), False),
    (("rules", 0, "name"), False), (("rules", 0, "description"), True),
    (("events", 0, "name"), False), (("events", 0, "description"), True),
    (("events", 0, "source", "fact"), True),
    (("sources", "office", "publisher"), True), (("sources", "office", "headline"), True),
    (("sources", "office", "url"), False), (("sources", "office", "note"), True),
    (("sources", ("key", "office")), False),
    (("states", 1, "label"), True), (("transitions", 1, "label"), True),
    (("outcomes", 0, "name"), False), (("outcomes", 0, "label"), True), (("outcomes", 0, "unit"), False),
    (("outcomes", 0, "description"), True),
]


def _set(data: dict, path: tuple, text: str) -> str:
    """Put `text` into the field at `path` (before what is there); the field's path as a problem names it."""
    node = data
    for step in path[:-1]:
        node = node[step]
    last = path[-1]
    if isinstance(last, tuple):  # a key of a mapping
        node[text + last[1]] = node.pop(last[1])
        path = path[:-1]
    else:
        node[last] = text + str(node.get(last, "") if isinstance(node, dict) else node[last])
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path).lstrip(".")


@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), bad=st.sampled_from(HOSTILE + LINE_BREAKS),
       words=st.text(alphabet="abc xyz", max_size=6))
@example(field=(("description",), True), bad="\x1b[31m", words="red ")
@example(field=(("parameters", ("key", "boats_per_day")), False), bad="\n", words="")
def test_hostile_text_is_refused_in_one_line_naming_the_field(field, bad, words):
    path, free = field
    data = copy.deepcopy(_base())
    where = _set(data, path, words + bad)
    if free and bad in LINE_BREAKS:
        parse(data, "s.yaml")  # free text may run over lines
        return
    with pytest.raises(ScenarioError) as e:
        parse(data, "s.yaml")
    text = str(e.value)
    lines = text.splitlines()
    assert lines[0] == "s.yaml: 1 problem" and len(lines) == 2, text
    item = where.endswith("]") and path[-2] == "flow"  # an item of a list: the list, and which item
    field_path = where.rsplit("[", 1)[0] if item else where
    assert lines[1].strip().startswith(f"{field_path}: expected "), (where, text)
    if item:
        assert f"in {where[len(field_path):]}: " in lines[1]
    if isinstance(path[-1], tuple):
        assert "in the name: " in lines[1]
    assert "control characters" in lines[1]
    assert not any(c in text for c in HOSTILE + LINE_BREAKS if c not in "\n"), repr(text)


def test_the_untouched_base_and_free_text_over_lines_are_accepted():
    data = _base()
    data["description"] = "a centre\non an island\twith tabs"
    assert parse(data, "s.yaml").description.startswith("a centre\n")


@pytest.mark.parametrize("text, line, column", [
    ("name,region\nA\x1b[2J,X\n", 2, 1),
    ("name,region\nA,X\u202eY\n", 2, 2),
])
def test_a_flee_cell_with_hostile_text_is_refused_at_its_cell(tmp_path, text, line, column):
    path = tmp_path / "locations.csv"
    path.write_text(text)
    with pytest.raises(FleeInputError) as e:
        rows(path)
    msg = str(e.value)
    assert f"locations.csv line {line}, column {column}: expected text without control characters" in msg
    assert "\x1b" not in msg and "\u202e" not in msg and len(msg.splitlines()) == 1


def test_a_flee_header_with_hostile_text_is_refused(tmp_path):
    path = tmp_path / "conflicts.csv"
    path.write_text("#Day,A,B\x07\n0,1,0\n")
    with pytest.raises(FleeInputError, match=r"conflicts.csv line 1, column 3: expected text without control"):
        header(path)
