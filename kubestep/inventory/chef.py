"""Chef recipes: package, user, template/file, service, cron and execute resources.

Recipes are Ruby; this reads the declarative subset line by line (`type 'title' do ... end`
with one property per line) and resolves `node['cookbook']['key']` from attributes files,
which is how most recipes that deploy one service are written.
"""

from __future__ import annotations

import re
from typing import Any

from kubestep.inventory import resources
from kubestep.inventory.model import Inventory
from kubestep.inventory.resources import Resource
from kubestep.inventory.tree import SourceTree, at

KNOWN_TYPES = {
    "package",
    "apt_package",
    "yum_package",
    "dnf_package",
    "user",
    "group",
    "template",
    "file",
    "directory",
    "cookbook_file",
    "remote_file",
    "link",
    "service",
    "systemd_unit",
    "cron",
    "cron_d",
    "execute",
    "bash",
    "script",
}
_TITLE = r"""(?P<title>'[^']*'|"[^"]*"|%w[(\[][^)\]]*[)\]]|\[[^\]]*\]|node(?:\[[^\]]+\])+)"""
_START = re.compile(
    rf"^\s*(?P<type>[a-z_]+)\s*\(?\s*{_TITLE}\s*\)?\s*(?P<do>do(\s*\|[^|]*\|)?)?\s*$"
)
_OPENS = re.compile(
    r"^\s*(if|unless|case|begin|while|until|def|class|module)\b|\bdo(\s*\|[^|]*\|)?\s*$"
)
_END = re.compile(r"^\s*end\b")
_PROPERTY = re.compile(r"^\s*([a-z_]+)[\s(]+(.*?)\)?\s*$")
_HEREDOC = re.compile(r"^<<[~-]?['\"]?(\w+)['\"]?$")
_NODE = re.compile(r"node((?:\[\s*(?:'[^']*'|\"[^\"]*\"|:\w+)\s*\])+)")
_ATTRIBUTE = re.compile(
    r"^\s*(?:node\.)?(?:default|override|normal|set)((?:\[[^\]]+\])+)\s*=\s*(.+)$"
)
_KEY = re.compile(r"\[\s*(?:'([^']*)'|\"([^\"]*)\"|:(\w+))\s*\]")
_PACKAGE_TYPES = {"apt_package", "yum_package", "dnf_package"}


def read(tree: SourceTree, found: Inventory) -> Inventory:
    attributes: dict[tuple[str, ...], Any] = {}
    for rel in tree.matching("attributes/*.rb", "*/attributes/*.rb"):
        attributes.update(_attributes(tree.text(rel) or ""))
    recipes = tree.matching("recipes/*.rb", "*/recipes/*.rb")
    return tree.per_file(recipes, lambda rel, text: parse(tree, rel, text, attributes))


def parse(
    tree: SourceTree, rel: str, text: str, attributes: dict[tuple[str, ...], Any] | None = None
) -> Inventory:
    found = Inventory()
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line_number = index + 1
        start = _START.match(lines[index])
        index += 1
        if start is None or (start["type"] not in KNOWN_TYPES and not start["do"]):
            continue
        properties: dict[str, Any] = {}
        if start["do"]:
            index, properties, complete = _body(lines, index, attributes or {})
            if not complete:
                found.warn(at(rel, line_number), f"{start['type']} resource has no matching 'end'")
        kind = "package" if start["type"] in _PACKAGE_TYPES else start["type"]
        for title in _titles(_value(start["title"], attributes or {})):
            resource = Resource(kind, title, at(rel, line_number), "chef", properties)
            resources.add(found, resource, lambda name: template_file(tree, name))
    return found


def template_file(tree: SourceTree, name: str) -> str | None:
    return tree.find_by_suffix(f"templates/default/{name}") or tree.find_by_suffix(
        f"templates/{name}"
    )


def _body(
    lines: list[str], index: int, attributes: dict[tuple[str, ...], Any]
) -> tuple[int, dict[str, Any], bool]:
    """Properties up to the matching `end`: (index after it, properties, whether it was found)."""
    properties: dict[str, Any] = {}
    depth = 1
    while index < len(lines):
        line = lines[index].split(" #", 1)[0].rstrip()
        index += 1
        if _END.match(line):
            depth -= 1
            if depth == 0:
                return index, properties, True
            continue
        if _OPENS.search(line):
            depth += 1
            continue
        match = _PROPERTY.match(line)
        if depth == 1 and match:
            raw = match.group(2).strip()
            heredoc = _HEREDOC.match(raw)
            if heredoc:
                end = next(
                    (i for i in range(index, len(lines)) if lines[i].strip() == heredoc.group(1)),
                    len(lines),
                )
                raw, index = "\n".join(line.strip() for line in lines[index:end]), end + 1
                properties[match.group(1)] = raw
                continue
            properties[match.group(1)] = _value(raw, attributes)
    return index, properties, False


def _titles(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _value(raw: str, attributes: dict[tuple[str, ...], Any]) -> Any:
    """A Ruby literal as Python; node['a']['b'] is looked up; anything else stays as text."""
    raw = raw.strip().rstrip(",")
    if raw.startswith("%w"):
        return raw[3:-1].split()
    if raw.startswith("[") and raw.endswith("]"):
        return [_value(item, attributes) for item in raw[1:-1].split(",") if item.strip()]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        text = raw[1:-1]
        if raw[0] == '"':
            text = re.sub(r"#\{(.*?)\}", lambda m: str(_value(m.group(1), attributes)), text)
        return text
    if raw.startswith(":"):
        return raw[1:]
    if re.fullmatch(r"[1-9]\d*", raw):
        return int(raw)
    node = _NODE.fullmatch(raw)
    if node:
        return attributes.get(_path(node.group(1)), raw)
    return raw


def _attributes(text: str) -> dict[tuple[str, ...], Any]:
    values: dict[tuple[str, ...], Any] = {}
    for line in text.splitlines():
        match = _ATTRIBUTE.match(line.split(" #", 1)[0])
        if match:
            values[_path(match.group(1))] = _value(match.group(2), values)
    return values


def _path(subscripts: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _KEY.findall(subscripts))
