"""Imports go one way along the data flow, and never in a circle.

Every module under refuge/ is parsed (not imported) with `ast`; every import counts, at module level or
inside a function, except those under `if TYPE_CHECKING:` (type hints only, never run). The layers are
the table below (docs/architecture.md shows the same table): a module may import its own layer and the
layers below it, never one above, and no chain of imports may lead back to where it started.

`python tests/test_imports.py` prints the counts: modules, import edges (and how many sit inside
functions), cycles, imports against the layers, modules over 500 lines and functions over 80 lines.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "refuge"

# The layers, bottom (0) to top, by the first part of the module name under `refuge.`. A module may import
# from its own layer or any layer below; importing a layer above is an error.
LAYERS: dict[str, int] = {
    "errors": 0, "numbers": 0, "console": 0, "_html": 0,       # base: shared by every step
    "scenario": 1,                                             # the file format, reading, limits
    "model": 2, "sim": 2, "engine": 2,                         # compile and run a model
    "results": 3,                                              # a run's arrays and files
    "evidence": 4,                                             # facts measured in runs, scores
    "experiments": 5, "inference": 5,                          # ensembles, stores, calibration
    "present": 6, "interop": 6,                                # report, app, other tools' cases
    "cli": 7, "api": 7, "__main__": 7,                         # the command and the Python API (top)
}
# `refuge` itself (its __init__) imports nothing: it holds the version and a table of the public names it
# resolves on first use (`_LAZY`). So it sits in the base layer, and an import of one of those names
# (`from refuge import simulate`, or `import refuge` then `refuge.simulate`) counts as an import of the module
# that defines it.
ROOT_LAYER = 0
LAYER_NAMES = ["base", "scenario", "model/sim/engine", "results", "evidence", "experiments/inference",
               "present/interop", "cli/api"]

# Tables of mechanisms loaded by name (`importlib.import_module`): each entry counts as an import, at the line of
# the table, of the module it names. (importing module, the table's variable) -> the module an entry names.
NAME_TABLES: dict[tuple[str, str], str] = {
    ("refuge.scenario.extend", "PARTS"): "refuge.sim.mechanisms.{}.format",  # the format's union
    ("refuge.sim.layout", "DAY"): "refuge.sim.mechanisms.{}",  # the day's order of the mechanisms
}
# A mechanism's part of the format (refuge/sim/mechanisms/NAME/format.py) sits in the format's layer: it may
# import only the layers up to the format, and the format may import it. (The packages above it, `refuge.sim`,
# `refuge.sim.mechanisms` and the mechanism's own, import nothing of refuge when they load.)
FORMAT_PART = re.compile(r"refuge\.sim\.mechanisms\.\w+\.format")
FORMAT_LAYER = 1

# Known exceptions, each an import edge (importer, imported) with the reason it is allowed for now. They are
# left out of both checks; a new upward import or cycle fails. An entry that no longer occurs fails too
# (delete it when it is fixed).
KNOWN: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Edge:
    source: str        # importing module, e.g. refuge.cli.run_cmd
    target: str        # imported module (a package's __init__ is the package name)
    line: int
    in_function: bool


def module_name(path: Path, package: Path | None = None) -> str:
    """`refuge/cli/run_cmd.py` -> `refuge.cli.run_cmd` (a package's `__init__.py` is the package)."""
    parts = list(path.relative_to((package or PACKAGE).parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path | None = None) -> dict[str, Path]:
    """Every module of the package (refuge/ by default): name -> file."""
    package = package or PACKAGE
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def lazy_names() -> dict[str, str]:
    """`refuge._LAZY`: public name -> the module that defines it, read from the source."""
    for node in ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The refuge module `name` stands for: itself, or the nearest package above it that exists."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Edge]:
    """Every import of a refuge module by `name`, with its line and whether it runs inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    edges: list[Edge] = []
    seen: set[tuple[str, int]] = set()
    lazy = lazy_names() if name != "refuge" else {}
    # names used as `refuge.NAME` in this module (after a bare `import refuge`)
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "refuge"}

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _type_checking(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                _add(alias.name, node.lineno, in_function)
                if alias.name == "refuge" and alias.asname is None:
                    for attr in sorted(used & set(lazy)):
                        _add(lazy[attr], node.lineno, in_function)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, name, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if base == "refuge" and alias.name in lazy:
                    sub = lazy[alias.name]
                _add(sub if sub in known else base, node.lineno, in_function)
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    def _add(target: str, line: int, in_function: bool) -> None:
        if target != "refuge" and not target.startswith("refuge."):
            return
        resolved = _resolve(target, known)
        if resolved is not None and resolved != name and (resolved, line) not in seen:
            seen.add((resolved, line))
            edges.append(Edge(name, resolved, line, in_function))

    visit(tree, False)
    for (importer, variable), pattern in NAME_TABLES.items():
        if importer == name:
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == variable
                                                        for t in node.targets):
                    for entry in ast.literal_eval(node.value):
                        _add(pattern.format(entry), node.lineno, False)
    return edges


def all_edges() -> list[Edge]:
    known = modules()
    return [e for name, path in known.items() for e in imports_of(name, path, known)]


def layer_of(module: str) -> int:
    if FORMAT_PART.fullmatch(module):
        return FORMAT_LAYER
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT_LAYER
    key = parts[1]
    if key not in LAYERS:
        raise KeyError(f"{module}: no layer for `refuge.{key}`; add it to LAYERS in tests/test_imports.py and to "
                       "the table in docs/architecture.md")
    return LAYERS[key]


def upward(edges: list[Edge]) -> list[Edge]:
    return [e for e in edges if layer_of(e.target) > layer_of(e.source) and (e.source, e.target) not in KNOWN]


def cycles(edges: list[Edge]) -> list[list[str]]:
    """The import cycles: each strongly connected group of two or more modules (Tarjan), sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if (e.source, e.target) not in KNOWN:
            graph.setdefault(e.source, set()).add(e.target)
            graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:  # iterative, so that a long chain cannot exhaust the recursion limit
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        group.append(w)
                        if w == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(groups)


def _describe(e: Edge) -> str:
    where = "in a function" if e.in_function else "at module level"
    return (f"{e.source} (line {e.line}, {where}) imports {e.target}: "
            f"{LAYER_NAMES[layer_of(e.source)]} -> {LAYER_NAMES[layer_of(e.target)]}")


# --- the tests ------------------------------------------------------------------------------------------


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_no_import_runs_against_the_layers():
    bad = upward(all_edges())
    assert not bad, "imports against the layers (lower layers may not import higher ones):\n" + \
        "\n".join(_describe(e) for e in bad)


def test_no_import_cycles():
    found = cycles(all_edges())
    assert not found, "import cycles (function-level imports included):\n" + "\n".join(" <-> ".join(c) for c in found)


def test_known_exceptions_still_occur():
    present = {(e.source, e.target) for e in all_edges()}
    stale = [f"{s} -> {t}" for (s, t) in KNOWN if (s, t) not in present]
    assert not stale, ("known exceptions that no longer occur: delete them from KNOWN in tests/test_imports.py "
                       "(and from docs/architecture.md):\n" + "\n".join(stale))


def test_the_checks_catch_what_they_are_for(tmp_path):
    # a cycle through a function-level import, an upward import, and a TYPE_CHECKING import left aside
    pkg = tmp_path / "refuge"
    (pkg / "scenario").mkdir(parents=True)
    (pkg / "results").mkdir()
    for p in (pkg, pkg / "scenario", pkg / "results"):
        (p / "__init__.py").write_text("")
    (pkg / "scenario" / "a.py").write_text("def f():\n    from refuge.scenario import b\n")
    (pkg / "scenario" / "b.py").write_text("from . import a\nfrom typing import TYPE_CHECKING\n"
                                           "if TYPE_CHECKING:\n    from refuge.results import run\n")
    (pkg / "results" / "run.py").write_text("")
    (pkg / "scenario" / "c.py").write_text("import refuge.results.run\n")
    known = modules(pkg)
    edges = [e for name, path in known.items() for e in imports_of(name, path, known)]
    assert cycles(edges) == [["refuge.scenario.a", "refuge.scenario.b"]]
    assert [(e.source, e.target) for e in upward(edges)] == [("refuge.scenario.c", "refuge.results.run")]
    assert any(e.in_function for e in edges if e.source == "refuge.scenario.a")


# --- the counts (python tests/test_imports.py) ----------------------------------------------------------


def long_functions(limit: int = 80, package: Path | None = None) -> list[tuple[str, str, int]]:
    """(module, function, lines) of every function (nested and methods too) longer than `limit` lines."""
    out = []
    for name, path in modules(package).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append((name, node.name, n))
    return sorted(out)


def report() -> str:
    edges = all_edges()
    pairs = {(e.source, e.target) for e in edges}
    inside = {(e.source, e.target) for e in edges if e.in_function} - \
        {(e.source, e.target) for e in edges if not e.in_function}
    long_modules = sorted((n, len(p.read_text(encoding="utf-8").splitlines())) for n, p in modules().items()
                          if len(p.read_text(encoding="utf-8").splitlines()) > 500)
    lines = [f"modules: {len(modules())}",
             f"import edges (module pairs): {len(pairs)}, of which only inside functions: {len(inside)}",
             f"import statements: {len(edges)}, inside functions: {sum(e.in_function for e in edges)}",
             f"cycles: {len(cycles(edges))}"]
    lines += ["  " + " <-> ".join(c) for c in cycles(edges)]
    bad = upward(edges)
    lines.append(f"imports against the layers: {len({(e.source, e.target) for e in bad})} edges "
                 f"({len(bad)} statements); known exceptions: {len(KNOWN)}")
    lines += ["  " + _describe(e) for e in bad]
    lines += [f"  known: {s} -> {d} ({why})" for (s, d), why in KNOWN.items()]
    lines.append(f"modules over 500 lines: {len(long_modules)}")
    lines += [f"  {n}: {k}" for n, k in long_modules]
    funcs = long_functions()
    lines.append(f"functions over 80 lines: {len(funcs)}")
    lines += [f"  {m}.{f}: {n}" for m, f, n in funcs]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        PACKAGE = Path(sys.argv[1]).resolve()
    print(report())
