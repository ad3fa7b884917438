"""systemd units shipped in the repo: the service, its user, start command and environment.

The unit is how the legacy host really ran the service, so its ExecStart, User= and
Environment= lines are the ground truth the container must reproduce.
"""

from __future__ import annotations

import re

from kubestep.inventory.model import EnvVar, Inventory, ServiceUnit
from kubestep.inventory.tree import SourceTree, at

_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_DIRECTIVE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$")


def read(tree: SourceTree, found: Inventory) -> Inventory:
    return tree.per_file(tree.matching("*.service"), parse)


def parse(rel: str, text: str) -> Inventory:
    found = Inventory()
    name = rel.rsplit("/", 1)[-1].removesuffix(".service")
    unit = ServiceUnit(name=name, manager="systemd", source=at(rel, 1))
    section = None
    for number, line in _lines(text):
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1)
            continue
        directive = _DIRECTIVE.match(line)
        if directive is None:
            found.warn(at(rel, number), f"not a systemd directive: {line!r}")
            continue
        if section != "Service":
            continue
        key, value = directive.groups()
        if key == "ExecStart" and unit.command is None:
            unit.command = value.lstrip("@-:+!")  # systemd's prefixes change privileges only
            unit.source = at(rel, number)
        elif key == "User":
            unit.user = value
        elif key == "WorkingDirectory":
            unit.working_directory = value.lstrip("-")
        elif key == "Environment":
            found.environment.extend(_environment(value, at(rel, number)))
    if section is None:
        found.warn(at(rel, 1), "no [Unit] or [Service] section: not a systemd unit")
        return found
    found.services.append(unit)
    return found


def _lines(text: str) -> list[tuple[int, str]]:
    """Directives with continuation lines joined, numbered by their first line."""
    result: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending:
            start, head = pending
            line = head + " " + line
            number = start
            pending = None
        if not line or line.startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending = (number, line[:-1].strip())
            continue
        result.append((number, line))
    return result


def _environment(value: str, source: str) -> list[EnvVar]:
    pairs = re.findall(r'"([^"=]+)=([^"]*)"|(\S+?)=(\S*)', value)
    return [
        EnvVar(name=quoted_name or name, value=quoted_value or plain_value, source=source)
        for quoted_name, quoted_value, name, plain_value in pairs
    ]
