"""Messages a new user meets (issue 20, item 12): each says what was expected and what to write."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from refuge.cli import app

HERE = Path(__file__).parent
TOY = HERE / "scenarios" / "toy.yaml"


@pytest.mark.parametrize("text,found", [("", "an empty file"), ("# only a comment\n", "an empty file"),
                                        ("- name: x\n", "a list"), ("just words\n", "plain text")])
def test_a_file_that_is_not_a_mapping_says_what_it_holds(tmp_path, text, found):
    (tmp_path / "s.yaml").write_text(text)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert res.exit_code == 2 and found in res.output, res.output
    assert "NoneType" not in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("until,why", [("2023-02-30", "(February 2023 has 28 days)"),
                                       ("2024-13-01", "(there is no month 13)"), ("soon", "found 'soon'")])
def test_a_date_that_is_not_on_the_calendar_says_why(tmp_path, until, why):
    res = CliRunner().invoke(app, ["run", str(TOY), "--until", until, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and res.output.startswith("--until: expected a date YYYY-MM-DD") and why in res.output
    assert "%Y" not in res.output, res.output


def test_a_variant_without_a_name_on_the_command_line(tmp_path):
    res = CliRunner().invoke(app, ["compare", str(HERE / "scenarios" / "whatif.yaml"), "--variant", "clear_days=15",
                                   "--out", str(tmp_path / "c")])
    assert res.exit_code == 2 and "write e.g. `--variant clear_days_15:clear_days=15`" in res.output, res.output


def test_an_unused_parameter_is_a_note_in_validate(tmp_path):
    text = (HERE / "scenarios" / "whatif.yaml").read_text().replace("parameters:\n", "parameters:\n  stray: {value: 3, "
                                                                     "assumption: true}\n", 1)
    (tmp_path / "s.yaml").write_text(text)
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert res.exit_code == 0 and "note:" in res.output and "parameter `stray` is never used" in res.output


def test_an_unknown_key_that_is_not_a_word_is_placed_where_it_is(tmp_path):
    """A key such as `:` or `a b` (found by the fuzz test): the problem is placed at the mapping that holds it
    (`(top level)`, `states[0]`), the key quoted in the message, not a path like `::`."""
    text = (HERE / "scenarios" / "whatif.yaml").read_text()
    (tmp_path / "s.yaml").write_text('":": 1\n' + text.replace("states:\n", "states:\n  - {name: z, kind: other, "
                                                              "\"a b\": 2}\n", 1))
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert res.exit_code == 2, res.output
    assert "(top level): expected a known field; found unknown field `:`" in res.output
    assert "states[0]: expected a known field; found unknown field `a b`" in res.output
