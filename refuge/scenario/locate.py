"""Where a scenario argument points: a YAML file, or a built-in scenario by name (with a suggestion for a near miss)."""

from __future__ import annotations

from pathlib import Path

from refuge.errors import Problem, ScenarioError, suggest


def scenario_file(path_or_name: str | Path) -> Path:
    """The file of a scenario given as a path or a built-in name (`north-korea-china`, `mali2012`, ...).

    Neither an existing file nor a built-in name: a ScenarioError listing the built-in names, with the nearest
    one suggested (`north-korea` -> `north-korea-china`)."""
    from refuge.scenario.format import builtin_names, builtin_path

    p = Path(path_or_name)
    if p.exists():
        return p
    text = str(path_or_name)
    if builtin_path(text).exists():
        return builtin_path(text)
    names = builtin_names()
    hint = suggest(text, names) or suggest(p.stem, names)
    if not hint:
        starts = [n for n in names if n.startswith(p.stem) or p.stem.startswith(n)]
        hint = f" (did you mean `{starts[0]}`?)" if p.stem and starts else ""
    raise ScenarioError(text, [Problem("", f"an existing scenario file or a built-in scenario name "
                                           f"({', '.join(names)})", f"no such file{hint}")])
