"""Reading scenario YAML safely: never Python objects, YAML 1.2 floats (`5e-4`), and the file's limits
(no repeated key, bounded nesting and alias expansion, no value containing itself, real dates)."""

from __future__ import annotations

from refuge.scenario.limits import MAX_DEPTH, MAX_NODES

# YAML 1.1 (PyYAML) reads a float only with a dot and a signed exponent (`5.0e-4`), so `5e-4` or `1E7`
# became strings. This is the YAML 1.2 core-schema pattern for floats, which accepts what people write.
_FLOAT_12 = r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$"""
_LOADER: type | None = None


def _loader() -> type:
    """A safe YAML loader (no Python objects) that reads YAML 1.2 floats such as `5e-4`."""
    global _LOADER
    if _LOADER is None:
        import re

        import yaml

        class Loader(_HardenedLoader, yaml.SafeLoader):
            pass

        # Drop the YAML 1.1 float resolver and add the 1.2 one (ints keep their own resolver, tried first).
        Loader.yaml_implicit_resolvers = {
            key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:float"]
            for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
        Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(_FLOAT_12, re.X),
                                     list("-+0123456789."))
        Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
        _LOADER = Loader
    return _LOADER


class _HardenedLoader:
    """What a scenario file may not do: repeat a key, nest deeper than MAX_DEPTH, hold more than MAX_NODES
    values once its aliases are expanded (`&a`/`*a` reuse a value; a few lines of nested aliases can
    stand for billions), let a value contain itself, or give an impossible date. Each is a YAML error
    with the line and column."""

    def compose_document(self):
        import yaml

        node = super().compose_document()
        sizes: dict[int, int] = {}
        try:
            total = _expanded_size(node, sizes, set(), MAX_NODES)
        except _Cyclic as exc:
            raise yaml.composer.ComposerError(None, None, "a value that contains itself (through an alias)",
                                              exc.mark) from None
        except RecursionError:
            total = MAX_NODES + 1
        if total > MAX_NODES:
            raise yaml.composer.ComposerError(None, None, f"more than {MAX_NODES:,} values once aliases (*name) "
                                              "are expanded", node.start_mark)
        return node

    def compose_node(self, parent, index):
        import yaml
        from yaml.events import AliasEvent

        event = self.peek_event()
        if isinstance(event, AliasEvent):
            return super().compose_node(parent, index)
        self._depth = getattr(self, "_depth", 0) + 1
        self._nodes = getattr(self, "_nodes", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels",
                                                  event.start_mark)
            if self._nodes > MAX_NODES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_NODES:,} values in one file",
                                                  event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        import yaml

        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class says so
                duplicate = False
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key `{str(key)[:60]}` a second time (keys are unique; the second would silently "
                    "win)", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        import yaml

        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(None, None, f"`{str(node.value)[:40]}`, which is not a "
                                                    "calendar date", node.start_mark) from None



class _Cyclic(Exception):
    def __init__(self, mark):
        self.mark = mark


def _expanded_size(node, sizes: dict[int, int], open_: set[int], cap: int) -> int:
    """Values under `node` with every alias expanded, counted once per shared node (stops past `cap`)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise _Cyclic(node.start_mark)
    open_.add(key)
    total = 1
    value = node.value if isinstance(node.value, list) else []
    for item in value:
        for child in (item if isinstance(item, tuple) else (item,)):
            total += _expanded_size(child, sizes, open_, cap)
            if total > cap:
                break
        if total > cap:
            break
    open_.discard(key)
    sizes[key] = total
    return total


def _flow_depth_check(text: str) -> None:
    """Refuse deep `[[[...` / `{{{...` before PyYAML's scanner, whose cost grows with the square of the depth."""
    import re

    import yaml

    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    plain = re.sub(r"'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*", lambda m: " " * len(m.group()), text)
    depth = 0
    for m in re.finditer(r"[\[\]{}]", plain):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_DEPTH:
            i = m.start()
            line = text.count("\n", 0, i)
            mark = yaml.error.Mark("<scenario>", i, line, i - (text.rfind("\n", 0, i) + 1), None, None)
            raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
        depth = max(depth, 0)


def load_yaml(text: str) -> object:
    """Parse YAML text safely (never Python objects), reading `5e-4` and `1E7` as numbers."""
    import yaml

    _flow_depth_check(text)
    return yaml.load(text, Loader=_loader())
