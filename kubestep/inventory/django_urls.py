"""Django's routes: urlpatterns from ROOT_URLCONF down through include(), with their prefixes.

`path("api/", include("shop.urls"))` serves shop.urls under /api/; `re_path`/`url` are
regexes, joined the way Django's resolver joins them (each part anchored where the last
ended). Without ROOT_URLCONF in the code, every urls module no other includes is a root.
"""

from __future__ import annotations

import ast

from kubestep.inventory.model import Inventory, Route
from kubestep.inventory.python_code import find_module, module_name
from kubestep.inventory.route_patterns import regex_body, regex_literal, template_regex
from kubestep.inventory.tree import SourceTree, at

_ENTRIES = {"path": "path", "re_path": "regex", "url": "regex"}
MAX_DEPTH = 8


def routes(tree: SourceTree, found: Inventory) -> list[Route]:
    modules: dict[str, tuple[str, ast.Module]] = {}
    root_urlconfs: dict[str, list[str]] = {}
    for rel in tree.python_files():
        parsed = tree.python(rel)
        if not isinstance(parsed, ast.Module):
            continue
        modules[module_name(rel)] = (rel, parsed)
        root_urlconfs[module_name(rel)] = _root_urlconf(parsed)
    patterns = {
        name: entries
        for name, (_rel, parsed) in modules.items()
        if (entries := _urlpatterns(parsed))
    }
    if not patterns:
        return []
    reader = _Reader(modules, patterns)
    settings = found.entrypoint.settings.value if found.entrypoint.settings else ""
    chosen = [
        confs for name, confs in root_urlconfs.items() if settings and name.endswith(settings)
    ]
    confs = (
        chosen[0]
        if chosen and chosen[0]
        else [conf for confs in root_urlconfs.values() for conf in confs]
    )
    roots = [name for conf in dict.fromkeys(confs) if (name := reader.resolve(conf))]
    if not roots:
        included = {
            reader.resolve(target)
            for entries in patterns.values()
            for *_, target in entries
            if target
        }
        roots = [name for name in patterns if name not in included]
    result: list[Route] = []
    for root in roots:
        reader.walk(root, "/", "/", True, 0, result)
    return result


def _root_urlconf(parsed: ast.Module) -> list[str]:
    return [
        statement.value.value
        for statement in parsed.body
        if isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "ROOT_URLCONF" for t in statement.targets)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    ]


Entry = tuple[str, str, int, str | None]  # (kind, route text, line, included module or None)


def _urlpatterns(parsed: ast.Module) -> list[Entry]:
    """The entries of `urlpatterns = [...]` (and `+= [...]`, `patterns('', ...)`)."""
    entries: list[Entry] = []
    for statement in parsed.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        if isinstance(statement, ast.AugAssign):
            targets = [statement.target]
        if not any(isinstance(t, ast.Name) and t.id == "urlpatterns" for t in targets):
            continue
        value = statement.value  # type: ignore[attr-defined]
        for node in ast.walk(value):
            if isinstance(node, ast.Call) and (entry := _entry(node)):
                entries.append(entry)
    return entries


def _entry(call: ast.Call) -> Entry | None:
    name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
    if name not in _ENTRIES or not call.args:
        return None
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    target = call.args[1] if len(call.args) > 1 else None
    included = None
    if isinstance(target, ast.Call) and getattr(target.func, "id", "") == "include" and target.args:
        argument = target.args[0]
        if isinstance(argument, ast.Tuple) and argument.elts:  # include(("shop.urls", "shop"))
            argument = argument.elts[0]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            included = argument.value
        elif isinstance(argument, ast.Name | ast.Attribute):
            included = "?" + ast.unparse(argument)  # a module imported by name: resolved later
        else:
            included = "?"
    elif isinstance(target, ast.Attribute) and target.attr == "urls":  # admin.site.urls
        included = "?" + ast.unparse(target)
    return (_ENTRIES[name], first.value, call.lineno, included)


class _Reader:
    def __init__(
        self, modules: dict[str, tuple[str, ast.Module]], patterns: dict[str, list[Entry]]
    ):
        self.modules = modules
        self.patterns = patterns

    def resolve(self, dotted: str | None) -> str | None:
        """The urls module a dotted name is, matched from the end (`app/shop/urls.py` is
        `shop.urls` when app/ is on sys.path)."""
        if not dotted or dotted.startswith("?"):
            return None
        return find_module(dotted, self.patterns)

    def walk(
        self, name: str, shown: str, regex: str, literal: bool, depth: int, out: list[Route]
    ) -> None:
        rel = self.modules[name][0]
        for kind, text, line, included in self.patterns[name]:
            part = template_regex(text) if kind == "path" else regex_body(text)
            if kind == "path":
                part_shown: str | None = text
            else:
                part_shown = regex_literal(text)
            here_shown = shown + (part_shown if part_shown is not None else text)
            here_literal = literal and part_shown is not None
            if included is None:
                ending = "" if kind == "path" or part.endswith("$") else ".*"
                pattern = regex + part.removesuffix("$") + ending
                out.append(
                    Route(
                        path=here_shown,
                        pattern=pattern,
                        source=at(rel, line),
                        kind="django",
                        note=None if here_literal else "a regex route",
                    )
                )
                continue
            child = self.resolve(included)
            prefix = regex + part.removesuffix("$")
            if child is None or depth >= MAX_DEPTH:
                what = included.lstrip("?") or "a list of patterns"
                out.append(
                    Route(
                        path=here_shown,
                        pattern=prefix + ".*",
                        source=at(rel, line),
                        kind="django",
                        note=f"includes {what}, whose routes kubestep did not read",
                    )
                )
                continue
            self.walk(child, here_shown, prefix, here_literal, depth + 1, out)
