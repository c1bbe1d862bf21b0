"""Where a Flee case keeps its files, as Flee's and FabFlee's runners find them.

A case folder holds its input files itself (Flee's `conflict_input/<case>`, FabFlee's grid cases) or in
`input_csv/` (FabFlee's `config_files/<case>`; `input_files/` in one case). Its validation folder is
`source_data/` or `refugee_data/` beside the input files or inside them, or, in Flee's own layout,
`conflict_validation/<case><year>` beside `conflict_input/`. Its settings are the case's `simsetting.yml`,
or the one of the sweep it belongs to (`validation/simsetting.yml` for `validation/SWEEP/<case>`), or none
(Flee's defaults). Multiscale cases (`locations-0.csv`, `locations-1.csv`) are found and marked: they need
Flee's coupled runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

INPUT_NAMES = ("input_csv", "input_files")
VALIDATION_NAMES = ("source_data", "refugee_data")
_MARKS = ("locations.csv", "routes.csv", "closures.csv", "locations-0.csv")


@dataclass
class CaseFolders:
    """The folders and files of one Flee case."""

    name: str  # the case folder, relative to the folder searched
    folder: Path
    input: Path
    validation: Path | None
    settings: Path | None
    multiscale: bool


def _is_input(folder: Path) -> bool:
    return any((folder / m).is_file() for m in _MARKS)


def case_folders(folder: str | Path, root: str | Path | None = None) -> CaseFolders:
    """The input, validation and settings of the case in a folder (the folder itself, or its input folder)."""
    folder = Path(folder)
    if folder.name in INPUT_NAMES and not any((folder / n).is_dir() for n in INPUT_NAMES):
        folder = folder.parent
    inp = next((folder / n for n in INPUT_NAMES if (folder / n).is_dir()), folder)
    validation = next((p / n for p in (folder, inp) for n in VALIDATION_NAMES
                       if (p / n / "data_layout.csv").is_file()), None)
    if validation is None and folder.parent.name == "conflict_input":
        validation = _flee_validation(folder)
    settings = next((p / "simsetting.yml" for p in (folder, folder.parent.parent)
                     if (p / "simsetting.yml").is_file() and (p == folder or folder.parent.name == "SWEEP")), None)
    name = str(folder.relative_to(root)) if root is not None else folder.name
    return CaseFolders(name, folder, inp, validation, settings, (inp / "locations-0.csv").is_file())


def _flee_validation(folder: Path) -> Path | None:
    """Flee's own layout: `conflict_validation/<case><year>` for `conflict_input/<case>` (one match only)."""
    vroot = folder.parent.parent / "conflict_validation"
    if not vroot.is_dir():
        return None
    hits = [p for p in vroot.iterdir() if p.name.startswith(folder.name) and (p / "data_layout.csv").is_file()]
    return hits[0] if len(hits) == 1 else None


def find_cases(root: str | Path) -> list[CaseFolders]:
    """Every case below a folder, in order of their paths."""
    root = Path(root)
    found: set[Path] = set()
    for mark in _MARKS:
        for p in root.rglob(mark):
            folder = p.parent.parent if p.parent.name in INPUT_NAMES else p.parent
            if not any(part in VALIDATION_NAMES for part in folder.relative_to(root).parts):
                found.add(folder)
    return [case_folders(f, root) for f in sorted(found)]
