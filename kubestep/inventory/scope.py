"""Which configuration-management code deploys the service, and which is someone else's.

Puppet, Chef and Ansible repos carry vendored modules (apt, nginx, stdlib) and baselines for a
whole fleet; only the class, cookbook or role that installs and runs this service may reach
the inventory. Each reader cuts its code into units (a module, a profile class, a node, a
cookbook, a role, a play) and marks the vendored ones; this module keeps the units with
evidence that they deploy the service, and says what it left out and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from kubestep.inventory import commandline
from kubestep.inventory.model import Inventory
from kubestep.inventory.tree import SourceTree

# Directory names that say nothing about the service when they appear in a path.
_GENERIC = {
    "src",
    "lib",
    "test",
    "tests",
    "docs",
    "scripts",
    "bin",
    "config",
    "deploy",
    "puppet",
    "chef",
    "ansible",
    "manifests",
    "modules",
    "roles",
    "cookbooks",
    "site",
}
_PLACEHOLDER_AUTHORS = {"", "your name", "your name (optional)", "author", "you", "todo"}
_DEPLOYS_CODE = re.compile(
    r"\bpip3?\b.*\binstall\b.*(-r\b|requirements)|\brequirements[\w.-]*\.txt\b|\bgit\s+clone\b"
    r"|\bmanage\.py\b|\bsetup\.py\b|\bpip3?\s+install\s+(-e\s+)?\.(\s|$)"
)
_CONFIG_SUFFIXES = (".example", ".sample", ".dist", ".template", ".in", ".orig")
_LISTED = 8


@dataclass
class Unit:
    """One piece of configuration code that is in or out of the service's scope as a whole."""

    label: str
    source: str
    facts: Inventory = field(default_factory=Inventory)
    module: str | None = None
    author: str | None = None
    vendored: str | None = None


@dataclass
class Clues:
    """What the rest of the repo says about the service, to recognise the code deploying it."""

    names: set[str]
    users: set[str]
    config_paths: set[str]
    config_names: set[str]
    read: Callable[[str], str | None] = lambda rel: None


def normal(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def clues(tree: SourceTree, found: Inventory) -> Clues:
    names = {normal(tree.root.name)}
    for rel in tree.matching("*/__init__.py"):
        parts = rel.split("/")
        if len(parts) == 2 or (len(parts) == 3 and parts[0] == "src"):
            names.add(normal(parts[-2]))
    units = [unit for unit in found.services if unit.manager == "systemd"]
    names.update(normal(unit.name) for unit in units)
    config_paths = {item.path for item in found.config.files if item.path}
    config_names = {PurePosixPath(path).name for path in config_paths}
    for item in found.config.files:
        if item.example:
            name = PurePosixPath(item.example).name
            for suffix in _CONFIG_SUFFIXES:
                name = name.removesuffix(suffix)
            config_names.add(name)
    return Clues(
        names=names - _GENERIC,
        users={unit.user for unit in units if unit.user},
        config_paths=config_paths,
        config_names=config_names,
        read=tree.text,
    )


def author(value: object) -> str | None:
    """A metadata author, or None for the placeholders generators write."""
    text = str(value or "").strip()
    return None if text.lower() in _PLACEHOLDER_AUTHORS or "<" in text else text


def submodule_paths(tree: SourceTree) -> list[str]:
    """Paths of git submodules: other repositories, so other people's code."""
    text = tree.text(".gitmodules") if ".gitmodules" in tree.files else None
    return re.findall(r"^\s*path\s*=\s*(\S+)", text or "", re.MULTILINE)


def evidence(unit: Unit, found: Clues) -> tuple[list[str], list[str]]:
    """(strong, weak) reasons to think unit deploys the service."""
    facts, strong = unit.facts, []
    if unit.module and normal(unit.module) in found.names:
        strong.append(f"named after the service ({unit.module})")
    strong += [f"service {s.name}" for s in facts.services if normal(s.name) in found.names]
    strong += [f"user {u.name} runs the systemd unit" for u in facts.users if u.name in found.users]
    strong += [
        f"writes the config file {f.path}"
        for f in facts.managed_files
        if f.path in found.config_paths or PurePosixPath(f.path).name in found.config_names
    ]
    for command in _commands(facts):
        if commandline.mentions_server(command) or _DEPLOYS_CODE.search(command):
            strong.append(f"deploys the code: {_short(command)}")
    strong += [
        f"installs the server {d.name}"
        for d in facts.dependencies
        if commandline.mentions_server(d.name)
    ]
    for item in facts.managed_files:
        text = found.read(item.template_file) if item.template_file else None
        if text and commandline.mentions_server(text):
            strong.append(f"its template {item.template_file} starts the server")
    weak = sorted({f"mentions {word}" for word in _words(facts) if word in found.names})
    return strong, weak


def select(
    units: list[Unit], found: Clues, manager: str, own_authors: Iterable[str] = ()
) -> tuple[Inventory, list[Unit]]:
    """The facts of the units that deploy the service (and those units), with a warning for
    each kind of unit left out."""
    result = Inventory()
    present = [unit for unit in units if _has_facts(unit.facts)]
    reasons = {id(unit): evidence(unit, found) for unit in present}
    authors = set(own_authors) | {
        unit.author
        for unit in present
        if not unit.vendored and unit.author and reasons[id(unit)][0]
    }
    for unit in present:
        if not unit.vendored and unit.author and unit.author not in authors:
            unit.vendored = f"its metadata names the author {unit.author}"
    own = [unit for unit in present if not unit.vendored]
    chosen = [unit for unit in own if reasons[id(unit)][0]] or [
        unit for unit in own if reasons[id(unit)][1]
    ]
    if not chosen and len(own) == 1:
        chosen = own
    modules = {normal(unit.module) for unit in units if unit.module}
    for unit in chosen:
        _drop_module_services(unit, modules - found.names, found.names)
        result.merge(unit.facts)
    vendored = [unit for unit in present if unit.vendored]
    if vendored:
        result.warn(
            vendored[0].source,
            f"{manager}: vendored code left out: "
            + _listing(f"{unit.label} ({unit.vendored})" for unit in vendored),
        )
    rest = [unit for unit in own if unit not in chosen]
    if rest and chosen:
        kept = "; ".join(
            f"{unit.label}: {(reasons[id(unit)][0] or reasons[id(unit)][1] or ['the only one'])[0]}"
            for unit in chosen
        )
        result.warn(
            rest[0].source,
            f"{manager}: no sign that it deploys the service, left out: "
            + _listing(unit.label for unit in rest)
            + f" (kept {kept})",
        )
    elif rest:
        result.warn(
            rest[0].source,
            f"{manager}: cannot tell which of {_listing(unit.label for unit in rest)} deploys the "
            "service (none is named after it, runs its systemd unit or user, writes its config "
            "file or installs its code): none is inventoried",
        )
    return result, chosen


def _drop_module_services(unit: Unit, modules: set[str], names: set[str]) -> None:
    """A service named after another module (nginx, postgresql) is that module's, and one named
    after a package the unit installs (supervisor, nginx) is that package's daemon."""
    packages = {normal(item.name) for item in unit.facts.system_packages} - names
    kept = []
    for service in unit.facts.services:
        name = normal(service.name)
        if name in modules and name != normal(unit.module or ""):
            why = f"the {service.name} module's"
        elif name in packages:
            why = f"the daemon of the package {service.name}"
        else:
            kept.append(service)
            continue
        unit.facts.warn(
            service.source, f"service {service.name} is {why}, not the service: left out"
        )
    unit.facts.services = kept


def _has_facts(facts: Inventory) -> bool:
    return bool(
        facts.system_packages
        or facts.users
        or facts.managed_files
        or facts.services
        or facts.cron_jobs
        or facts.setup_commands
        or facts.dependencies
    )


def _commands(facts: Inventory) -> list[str]:
    commands = [item.command for item in facts.setup_commands]
    commands += [item.command for item in facts.services if item.command]
    commands += [item.command for item in facts.cron_jobs]
    return commands


def _words(facts: Inventory) -> set[str]:
    texts = [*_commands(facts), *(f.path for f in facts.managed_files)]
    texts += [u.home or "" for u in facts.users] + [u.name for u in facts.users]
    texts += [j.name for j in facts.cron_jobs] + [p.name for p in facts.system_packages]
    return {normal(word) for text in texts for word in re.split(r"[^A-Za-z0-9_-]+", text) if word}


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57] + "..."


def _listing(labels: Iterable[str]) -> str:
    items = list(labels)
    shown = ", ".join(items[:_LISTED])
    return shown + (f" and {len(items) - _LISTED} more" if len(items) > _LISTED else "")
