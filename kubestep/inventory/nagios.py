"""Nagios object files: `define command` and `define service`, resolved into concrete checks.

A service's `check_command name!arg1!arg2` only means something once the command's
`$ARG1$`.. are substituted; the resolved command line is what nagios_checks classifies.
NRPE `command[name]=...` lines are read too, since `check_nrpe!name` runs them on the host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubestep.inventory import nagios_checks
from kubestep.inventory.model import Inventory
from kubestep.inventory.tree import SourceTree, at

_DEFINE = re.compile(r"^define\s+(\w+)\s*\{\s*$")
_DIRECTIVE = re.compile(r"^(\w+)\s+(.*?)\s*$")
_NRPE = re.compile(r"^command\[([^\]]+)\]\s*=\s*(.+)$")
_NRPE_CHECKS = {"check_nrpe", "check_nrpe_1arg", "check-nrpe"}


@dataclass
class NagiosObject:
    type: str
    rel: str
    line: int
    directives: dict[str, str] = field(default_factory=dict)


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    objects: list[NagiosObject] = []
    nrpe: dict[str, str] = {}
    for rel in tree.matching("*.cfg"):
        text = tree.text(rel) or ""
        if re.search(r"^\s*define\s+\w+", text, re.MULTILINE):
            objects.extend(parse(rel, text, result))
        for name, command in _nrpe_commands(text).items():
            nrpe.setdefault(name, command)
    commands = {
        obj.directives["command_name"]: obj
        for obj in objects
        if obj.type == "command" and "command_name" in obj.directives
    }
    templates = {obj.directives["name"]: obj for obj in objects if "name" in obj.directives}
    for service in (obj for obj in objects if obj.type == "service"):
        if service.directives.get("register") == "0":
            continue  # a template, not a check
        _add_check(tree, result, service, commands, templates, nrpe)
    return result


def parse(rel: str, text: str, found: Inventory) -> list[NagiosObject]:
    objects: list[NagiosObject] = []
    current: NagiosObject | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = _without_comment(raw)
        if not line:
            continue
        define = _DEFINE.match(line)
        if define:
            if current is not None:
                found.warn(at(rel, current.line), f"define {current.type} is not closed by '}}'")
            current = NagiosObject(define.group(1), rel, number)
        elif line == "}":
            if current is None:
                found.warn(at(rel, number), "'}' without a define")
            else:
                objects.append(current)
                current = None
        elif current is not None and (directive := _DIRECTIVE.match(line)):
            current.directives[directive.group(1)] = directive.group(2)
        else:
            found.warn(at(rel, number), f"not a Nagios object line: {line!r}")
    if current is not None:
        found.warn(at(rel, current.line), f"define {current.type} is not closed by '}}'")
    return objects


def _nrpe_commands(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip() for m in map(_NRPE.match, text.splitlines()) if m}


def _add_check(
    tree: SourceTree,
    found: Inventory,
    service: NagiosObject,
    commands: dict[str, NagiosObject],
    templates: dict[str, NagiosObject],
    nrpe: dict[str, str],
) -> None:
    source = at(service.rel, service.line)
    directives = _inherited(service, templates)
    name = directives.get("service_description") or directives.get("name") or "unnamed"
    check_command = directives.get("check_command")
    if not check_command:
        found.warn(source, f"service {name!r} has no check_command")
        return
    command_name, *args = check_command.split("!")
    definition = commands.get(command_name)
    if definition is None:
        found.warn(source, f"check_command {command_name!r} has no define command")
        return
    command_line = substitute(definition.directives.get("command_line", ""), args)
    if command_name in _NRPE_CHECKS or "check_nrpe" in command_line:
        remote = _nrpe_target(command_line)
        if remote in nrpe:
            command_line = nrpe[remote]
    found.checks.append(nagios_checks.classify(name, command_line, source, tree.find_by_suffix))


def substitute(command_line: str, args: list[str]) -> str:
    """Replace $ARG1$.. with the check_command arguments; unknown macros stay as they are."""
    return re.sub(
        r"\$ARG(\d+)\$",
        lambda m: args[int(m.group(1)) - 1] if int(m.group(1)) <= len(args) else "",
        command_line,
    )


def _nrpe_target(command_line: str) -> str | None:
    match = re.search(r"\s-c\s+(\S+)", command_line)
    return match.group(1) if match else None


def _inherited(obj: NagiosObject, templates: dict[str, NagiosObject]) -> dict[str, str]:
    """Directives with those of `use` templates filled in (nearest wins)."""
    merged: dict[str, str] = {}
    seen: set[str] = set()
    current: NagiosObject | None = obj
    while current is not None:
        for key, value in current.directives.items():
            merged.setdefault(key, value)
        parent = current.directives.get("use", "").split(",")[0].strip()
        if parent in seen:
            break
        seen.add(parent)
        current = templates.get(parent)
    return merged


def _without_comment(raw: str) -> str:
    """Nagios comments start with '#' or ';' (';' also mid-line, unless escaped)."""
    line = raw.strip()
    if line.startswith(("#", ";", "command[")):  # NRPE lines are read by _nrpe_commands
        return ""
    return re.sub(r"(?<!\\);.*$", "", line).strip()
