"""A mechanism lives in one folder plus two lines elsewhere (issue 17): the service order is the example.

Everything of the service order (its format, checks, words for the page, compile step, declaration, Numba steps
and reference steps) is in refuge/sim/mechanisms/order/. Outside it, the mechanism is named on exactly two lines:
the format's union (`refuge.scenario.extend.PARTS`) and the day's order of the mechanisms
(`refuge.sim.layout.DAY`). Everything else reaches it through generic hooks: the format's parts
(`refuge.scenario.extend`: fields, checks, tracking, words) and the engine's (`refuge.sim.hooks`).

What counts as naming it, in code outside the folder (comments and docstrings aside): a name the folder defines
(`ServiceOrder`, `compile_order`, `FIFO`, ...) other than the generic hook names every mechanism may use; an array
it declares (`order_kind`, `class_left`, ...); an attribute or a string that is a field it adds to the format
(`t.order`, `"order"`); the folder's module path.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import numpy as np
from numba import njit

from refuge.scenario.extend import PARTS, parts
from refuge.sim.layout import DAY

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "refuge"
FOLDER = PACKAGE / "sim" / "mechanisms" / "order"
# The two lines outside the folder that name it: (file, the variable the line assigns).
ALLOWED = {("refuge/scenario/extend.py", "PARTS"), ("refuge/sim/layout.py", "DAY")}
# Names of the generic contracts (declare.Mechanism's hooks, the format's PART, the declaration's DECL) that
# every mechanism defines: using them elsewhere does not name this mechanism.
GENERIC = {"DECL", "PART", "ARRAYS", "derive", "set_aside", "serve_aside", "set_aside_reference",
           "serve_aside_reference", "serve", "annotations"}
# Another thing of the same word: the route network's own array of today's list (`w.order`), in its folder.
OTHER = {"refuge/sim/mechanisms/network/": "w.order"}


def _defined_names() -> set[str]:
    """The module-level public names the folder's modules define (its private helpers may share a name with
    another module's)."""
    names: set[str] = set()
    for path in FOLDER.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    for n in ast.walk(target):
                        if isinstance(n, ast.Name):
                            names.add(n.id)
    return {n for n in names if not n.startswith("_")} - GENERIC


def _vocabulary() -> tuple[set[str], set[str]]:
    """(names that name the mechanism wherever they occur, its format fields: named as attributes or strings)."""
    from refuge.sim.mechanisms.order import DECL
    from refuge.sim.mechanisms.order.format import PART

    names = _defined_names() | set(DECL.spec) | {a.name for a in DECL.world}
    fields = {f for where in PART.fields.values() for f in where}
    return names, fields


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _assigned_on(tree: ast.AST) -> dict[int, str]:
    """Line -> the variable a module-level assignment on it names."""
    out = {}
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            for line in range(node.lineno, node.end_lineno + 1):
                out[line] = node.targets[0].id
    return out


def naming_lines() -> list[tuple[str, int, str, str]]:
    """Every line of code outside the folder that names the mechanism: (file, line, the token, the variable the
    line assigns at module level or "")."""
    names, fields = _vocabulary()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if FOLDER in path.parents:
            continue
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        docs, assigned = _docstring_lines(tree), _assigned_on(tree)
        previous = None
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            line = tok.start[0]
            hit = None
            if tok.type == tokenize.NAME and tok.string in names:
                hit = tok.string
            elif tok.type == tokenize.NAME and tok.string in fields and previous is not None and previous.string == ".":
                hit = "." + tok.string
            elif tok.type == tokenize.STRING and line not in docs:
                value = ast.literal_eval(tok.string) if not tok.string.lstrip("rbuRBU").startswith("f") else ""
                if isinstance(value, str) and (value in fields or "mechanisms.order" in value):
                    hit = tok.string
            if hit and not any(rel.startswith(where) and what in text.splitlines()[line - 1]
                               for where, what in OTHER.items()):
                found.append((rel, line, hit, assigned.get(line, "")))
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                previous = tok
    return found


def test_the_service_order_is_named_outside_its_folder_on_two_lines_only():
    found = naming_lines()
    lines = {(rel, line) for rel, line, _, _ in found}
    bad = [f"{rel}:{line}: {hit}" for rel, line, hit, var in found if (rel, var) not in ALLOWED]
    assert not bad, ("the service order is named outside refuge/sim/mechanisms/order/ (reach it through the hooks "
                     "of refuge.scenario.extend and refuge.sim.hooks instead):\n" + "\n".join(bad))
    assert len(lines) == 2, sorted(lines)
    assert {(rel, var) for rel, _, _, var in found} == ALLOWED
    assert "order" in PARTS and "order" in DAY


def test_the_check_sees_what_it_is_for():
    names, fields = _vocabulary()
    assert {"ServiceOrder", "OrderClass", "compile_order", "order_kind", "class_left", "FIFO", "ORDER_KINDS"} <= names
    assert fields == {"order"}
    assert not names & {"DECL", "PART", "set_aside"}


def test_the_folder_holds_the_whole_mechanism():
    assert sorted(p.name for p in FOLDER.glob("*.py")) == ["__init__.py", "compile.py", "declare.py", "format.py",
                                                          "reference.py", "step.py"]
    part = next(p for p in parts() if p.name == "service order")
    from refuge.scenario.structure import Transition

    assert "order" in Transition.model_fields  # the format's field, from the part
    from refuge.scenario import json_schema

    assert "ServiceOrder" in json_schema()["$defs"]  # the schema follows the declarations
    assert part.tracks is not None and part.words is not None


def test_the_format_loads_without_the_engine():
    import subprocess
    import sys

    code = ("import sys; import refuge.sim.mechanisms.order.format as f; from refuge.scenario import read; "
            "print('numba' in sys.modules, f.PART.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "service", "order"]


@njit
def _claims_even(t, i, j, m, w):
    return i % 2 == 0


@njit
def _claims_three(t, i, j, m, w):
    return i % 3 == 0


@njit
def _adds_one(t, n, m, w):
    w[0] += 1


@njit
def _adds_ten(t, n, m, w):
    w[0] += 10


def test_several_mechanisms_share_a_hook():
    from refuge.sim.hooks import _each_of, _first_of

    either = _first_of([_claims_even, _claims_three])
    assert [bool(either(0, i, 0, 0, 0)) for i in range(7)] == [True, False, True, True, True, False, True]
    assert not _first_of([])(0, 1, 0, 0, 0)
    w = np.zeros(1, np.int64)
    _each_of([_adds_one, _adds_ten])(0, 0, 0, w)
    assert w[0] == 11
