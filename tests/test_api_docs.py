"""A typed, documented API: every public name has a docstring and annotations, and the API reference built
from them (pdoc) has no broken link."""

from __future__ import annotations

import importlib
import inspect
import re
import runpy
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = runpy.run_path(str(ROOT / "docs" / "api.py"))


def public_names():
    """(qualified name, object) of every public module, function, class, method and property."""
    for name in DOCS["modules"]():
        mod = importlib.import_module(name)
        yield name, mod
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if hasattr(mod, "__all__") and attr not in mod.__all__:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            yield f"{name}.{attr}", obj
            if inspect.isclass(obj):
                for m, f in vars(obj).items():
                    if not m.startswith("_") and (inspect.isfunction(f) or isinstance(f, property)):
                        yield f"{name}.{attr}.{m}", f.fget if isinstance(f, property) else f


def test_every_public_name_has_a_docstring_and_annotations():
    undocumented, unannotated = [], []
    names = list(public_names())
    for qual, obj in names:
        if not (obj.__doc__ or "").strip():
            undocumented.append(qual)
        if inspect.isfunction(obj):
            sig = inspect.signature(obj)
            params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
            if sig.return_annotation is inspect.Signature.empty or any(
                    p.annotation is inspect.Parameter.empty for p in params):
                unannotated.append(qual)
    assert len(names) > 200
    assert undocumented == [] and unannotated == []


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "link", "script", "img"):
                self.links.append(a[key])


def test_the_api_reference_builds_and_has_no_broken_link(tmp_path):
    pytest.importorskip("pdoc")
    out = DOCS["build"](tmp_path / "api")
    pages = {p: _Links() for p in out.rglob("*.html")}
    for page, parser in pages.items():
        parser.feed(page.read_text(encoding="utf-8"))
    assert len(pages) > 30 and (out / "refuge" / "api.html").exists()
    broken = []
    for page, parser in pages.items():
        for link in parser.links:
            if re.match(r"^(https?:|mailto:|data:|javascript:)", link) or "${" in link:
                continue
            target, _, anchor = link.partition("#")
            path = (page.parent / target).resolve() if target else page
            if not path.exists():
                broken.append(f"{page.relative_to(out)}: {link}")
            elif anchor and path.suffix == ".html" and anchor not in pages[path].ids:
                broken.append(f"{page.relative_to(out)}: {link} (no #{anchor})")
    assert broken == []
    text = (out / "refuge" / "results" / "run.html").read_text(encoding="utf-8")
    assert "to_df" in text and "Tidy DataFrame" in text
