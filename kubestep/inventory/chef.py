"""Chef recipes: package, user, template/file, service, cron and execute resources.

Recipes are Ruby; this reads the declarative subset line by line (`type 'title' do ... end`
with one property per line) and resolves `node['cookbook']['key']` from attributes files,
which is how most recipes that deploy one service are written.
"""

from __future__ import annotations

import re
from typing import Any

from kubestep.inventory import resources, scope, unit_templates
from kubestep.inventory.model import Inventory, ManagedFile, ServiceUnit
from kubestep.inventory.resources import Resource
from kubestep.inventory.scope import Unit
from kubestep.inventory.tree import SourceTree, at


class Unknown(str):
    """A node attribute or Ruby expression only a Chef run knows: kept apart, never a fact."""


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
_NODE = re.compile(
    r"node(?:\.(?:default|override|normal|set))?((?:\[\s*(?:'[^']*'|\"[^\"]*\"|:\w+)\s*\])+)"
)
_ATTRIBUTE = re.compile(
    r"^\s*(?:node\.)?(?:default|override|normal|set)((?:\[[^\]]+\])+)\s*=\s*(.+)$"
)
_KEY = re.compile(r"\[\s*(?:'([^']*)'|\"([^\"]*)\"|:(\w+))\s*\]")
_PACKAGE_TYPES = {"apt_package", "yum_package", "dnf_package"}
# Community cookbooks' resources for a long-running process with its command line.
_PROGRAM_TYPES = {"supervisor_service", "runit_service", "poise_service"}
_ESSENTIAL = {"command", "code", "path", "package_name", "service_name", "username"}
# Properties the inventory records; an unknown one is worth a warning.
_USED = _ESSENTIAL | {
    "user", "cwd", "uid", "home", "shell", "owner", "group", "mode", "source", "minute", "hour",
    "day", "month", "weekday", "action", "predefined_value",
}  # fmt: skip


def read(tree: SourceTree, found: Inventory) -> Inventory:
    """Each cookbook is a unit; those from Berksfile/Cheffile/submodules are left out."""
    attributes: dict[tuple[str, ...], Any] = {}
    for rel in tree.matching("attributes/*.rb", "*/attributes/*.rb"):
        attributes.update(_attributes(tree.text(rel) or ""))
    listed = _vendored_cookbooks(tree)
    units: dict[str, Unit] = {}
    for rel in tree.matching("recipes/*.rb", "*/recipes/*.rb"):
        root = rel.rsplit("/recipes/", 1)[0] if "/recipes/" in rel else ""
        name = root.rsplit("/", 1)[-1] if root else tree.root.name
        unit = units.setdefault(
            root, Unit(label=f"cookbook {name}", source=at(rel, 1), module=name)
        )
        unit.vendored = unit.vendored or _vendored(root, name, listed)
        unit.facts.merge(tree.per_file([rel], lambda r, t: parse(tree, r, t, attributes)))
    result, _ = scope.select(list(units.values()), scope.clues(tree, found), "chef")
    for unit in units.values():  # a recipe that could not be read is worth saying, if ours
        if not unit.vendored and unit.facts.warnings:
            result.warnings.extend(w for w in unit.facts.warnings if w not in result.warnings)
    return result


def _vendored_cookbooks(tree: SourceTree) -> dict[str, str]:
    listed: dict[str, str] = {}
    for rel in tree.matching("Berksfile", "Cheffile"):
        for number, line in enumerate((tree.text(rel) or "").splitlines(), 1):
            match = re.match(r"""^\s*cookbook\s+['"]([^'"]+)['"](.*)$""", line)
            if match and not re.search(r"\bpath\s*:|:path\s*=>", match.group(2)):
                listed.setdefault(scope.normal(match.group(1)), f"{rel}:{number}")
    for path in scope.submodule_paths(tree):
        listed.setdefault(scope.normal(path.rsplit("/", 1)[-1]), f".gitmodules {path}")
    return listed


def _vendored(root: str, name: str, listed: dict[str, str]) -> str | None:
    if scope.normal(name) in listed:
        return f"listed in {listed[scope.normal(name)]}"
    if any(part in ("berks-cookbooks", "vendor", "vendor-cookbooks") for part in root.split("/")):
        return f"a vendored directory ({root})"
    return None


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
        unknown = {k: v for k, v in properties.items() if _unknown(v) and k in _USED}
        properties = {k: v for k, v in properties.items() if not _unknown(v)}
        title_value = _value(start["title"], attributes or {})
        source = at(rel, line_number)
        essential = [f"{key} ({unknown[key]})" for key in unknown if key in _ESSENTIAL]
        if _unknown(title_value) or essential:
            what = ", ".join(essential) or "its title"
            found.warn(
                source, f"{kind}[{start['title']}]: {what} only known to a Chef run: left out"
            )
            continue
        if unknown:
            listed = ", ".join(f"{key} ({value})" for key, value in unknown.items())
            found.warn(
                source, f"{kind}[{start['title']}]: {listed} only known to a Chef run: left out"
            )
        for title in _titles(title_value):
            if kind in _PROGRAM_TYPES and properties.get("command"):
                found.services.append(_program(kind, title, source, properties))
                continue
            before = len(found.managed_files)
            resource = Resource(kind, title, at(rel, line_number), "chef", properties)
            resources.add(found, resource, lambda name: template_file(tree, name))
            for written in found.managed_files[before:]:
                _templated_services(tree, written, attributes or {}, found)
    unit_templates.one_per_name(found)
    return found


def _program(kind: str, title: str, source: str, properties: dict[str, Any]) -> ServiceUnit:
    """supervisor_service 'web' do command '...' end: a process the host ran, with its command."""
    return ServiceUnit(
        name=str(properties.get("process_name") or title),
        manager="chef",
        source=source,
        user=str(properties["user"]) if properties.get("user") else None,
        command=str(properties["command"]),
        working_directory=str(properties["directory"]) if properties.get("directory") else None,
        ensure=", ".join(map(str, a)) if isinstance(a := properties.get("action"), list) else a,
    )


def _templated_services(
    tree: SourceTree, written: ManagedFile, attributes: dict[tuple[str, ...], Any], found: Inventory
) -> None:
    """A template resource that writes a systemd unit or supervisor program."""
    text = tree.text(written.template_file) if written.template_file else None
    if (
        not text
        or not written.template_file
        or not unit_templates.defines_services(written.path, text)
    ):
        return

    def lookup(expression: str) -> Any:
        value = _value(expression, attributes) if _NODE.fullmatch(expression) else None
        return None if _unknown(value) else value

    rendered = unit_templates.render_erb(text, lookup)
    name = written.path.rsplit("/", 1)[-1].removesuffix(".service")
    units = unit_templates.services(written.template_file, text, rendered, name, "chef")
    for unit in units.services:
        unit_templates.add_service(found, unit)
    found.warnings.extend(units.warnings)
    found.environment.extend(units.environment)


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


def _unknown(value: Any) -> bool:
    if isinstance(value, list):
        return any(_unknown(item) for item in value)
    return isinstance(value, Unknown)


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
            parts = [_value(m, attributes) for m in re.findall(r"#\{(.*?)\}", text)]
            if any(_unknown(part) for part in parts):
                return Unknown(raw)
            text = re.sub(r"#\{(.*?)\}", lambda m: str(_value(m.group(1), attributes)), text)
        return text
    if raw.startswith(":"):
        return raw[1:]
    if re.fullmatch(r"[1-9]\d*", raw):
        return int(raw)
    node = _NODE.fullmatch(raw)
    if node:
        return attributes.get(_path(node.group(1)), Unknown(raw))
    if raw in ("true", "false", "nil") or re.fullmatch(r"0\d+|\d+\.\d+", raw):
        return raw
    return Unknown(raw)  # a Ruby expression: not evaluated


def _attributes(text: str) -> dict[tuple[str, ...], Any]:
    values: dict[tuple[str, ...], Any] = {}
    for line in text.splitlines():
        match = _ATTRIBUTE.match(line.split(" #", 1)[0])
        if match:
            values[_path(match.group(1))] = _value(match.group(2), values)
    return values


def _path(subscripts: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _KEY.findall(subscripts))
