"""Service definitions that configuration management writes from a template in the repo.

A Puppet or Chef file resource that installs `/etc/systemd/system/app.service` or a supervisor
program from an ERB template holds the real start command; Ansible does the same with Jinja.
The template is rendered with the variables the manifest knows, and whatever stays unknown is
left out with a warning instead of reaching a command line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kubestep.inventory import systemd
from kubestep.inventory.model import Inventory, ServiceUnit
from kubestep.inventory.tree import at, line_of

MARK = "\x00"
_MARKED = re.compile(r"\x00([^\x00]*)\x00")
_ERB_OUTPUT = re.compile(r"<%=\s*(.*?)\s*-?%>", re.DOTALL)
_ERB_CODE = re.compile(r"<%[^=].*?%>\n?", re.DOTALL)
_ERB_VARIABLE = re.compile(
    r"""@(\w+)|scope\[['"](?:::)?(?:[\w:]*::)?(\w+)['"]\]|scope\.lookupvar\(['"](?:::)?(?:[\w:]*::)?(\w+)['"]\)"""
)
_PROGRAM = re.compile(r"^\[program:([^\]]+)\]\s*$")


def render_erb(text: str, lookup: Callable[[str], Any]) -> str:
    """Each `<%= expression %>` replaced by lookup(expression) when that is a plain value;
    other Ruby is marked as unknown (output) or dropped (control code)."""

    def output(match: re.Match[str]) -> str:
        value = lookup(match.group(1).strip())
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        return f"{MARK}{match.group(1).strip()}{MARK}"

    return _ERB_CODE.sub("", _ERB_OUTPUT.sub(output, text))


def puppet_lookup(variables: dict[str, Any]) -> Callable[[str], Any]:
    """`@name`, `scope['mod::name']`, `scope.lookupvar('name')` from a manifest's variables."""

    def lookup(expression: str) -> Any:
        variable = _ERB_VARIABLE.fullmatch(expression)
        if variable is None:
            return None
        return variables.get(next(group for group in variable.groups() if group))

    return lookup


def unmark(text: str, placeholder: str = "<%= {} %>") -> str:
    return _MARKED.sub(lambda m: placeholder.format(m.group(1)), text)


def defines_services(dest: str, text: str) -> bool:
    """Whether a file installed at dest from text is a systemd unit or supervisor program."""
    return dest.endswith(".service") or re.search(r"^\[program:", text, re.MULTILINE) is not None


def services(
    rel: str, original: str, rendered: str, name: str, manager: str, placeholder: str = "<%= {} %>"
) -> Inventory:
    """The systemd unit or supervisor programs in rendered, as `manager`'s services."""
    found = Inventory()
    found.services = []
    if "[Service]" in rendered:
        parsed = systemd.parse(rel, rendered)
        for unit in parsed.services:
            unit.name, unit.manager = name, manager
            if unit.command:
                unit.source = at(rel, line_of(original, "ExecStart"))
            found.services.append(_known(unit, found, placeholder))
        found.environment.extend(v for v in parsed.environment if MARK not in (v.value or ""))
        return found
    program: ServiceUnit | None = None
    key = ""
    for number, line in enumerate(rendered.splitlines(), 1):
        heading = _PROGRAM.match(line.strip())
        if heading:
            program, key = (
                ServiceUnit(name=heading.group(1), manager=manager, source=at(rel, number)),
                "",
            )
            found.services.append(program)
            continue
        if program is None or not line.strip() or line.lstrip().startswith((";", "#")):
            continue
        if line[0].isspace() and key:  # an INI continuation line
            _set(program, key, f"{_get(program, key)} {line.strip()}")
            continue
        name, equals, value = line.partition("=")
        key = name.strip() if equals else ""
        if key == "command":
            program.source = at(rel, line_of(original, "command"))
        _set(program, key, value.strip())
    found.services = [_known(unit, found, placeholder) for unit in found.services]
    return found


_PROGRAM_KEYS = {"command": "command", "user": "user", "directory": "working_directory"}


def _get(unit: ServiceUnit, key: str) -> str:
    return str(getattr(unit, _PROGRAM_KEYS[key]) or "") if key in _PROGRAM_KEYS else ""


def _set(unit: ServiceUnit, key: str, value: str) -> None:
    if key in _PROGRAM_KEYS:
        setattr(unit, _PROGRAM_KEYS[key], value)


def add_service(facts: Inventory, unit: ServiceUnit) -> None:
    """One service per name: a unit file gives the command, a service resource its state."""
    for known in facts.services:
        if known.name.lower().replace("_", "-") == unit.name.lower().replace("_", "-"):
            if unit.command and not known.command:
                known.command, known.source = unit.command, unit.source
            known.user = known.user or unit.user
            known.working_directory = known.working_directory or unit.working_directory
            known.ensure = known.ensure or unit.ensure
            return
    facts.services.append(unit)


def one_per_name(facts: Inventory) -> None:
    """A service declared, started by a handler and written as a unit file is one service."""
    units, facts.services = facts.services, []
    for unit in units:
        add_service(facts, unit)


def _known(unit: ServiceUnit, found: Inventory, placeholder: str) -> ServiceUnit:
    for attribute in ("command", "user", "working_directory"):
        value = getattr(unit, attribute)
        if value and MARK in value:
            found.warn(
                unit.source,
                f"{unit.name}: {attribute} {unmark(value, placeholder)!r} is only known to a real "
                "run: left out",
            )
            setattr(unit, attribute, None)
    return unit
