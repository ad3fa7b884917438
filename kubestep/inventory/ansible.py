"""Ansible playbooks and roles, read as YAML (no Ansible needed): what the hosts were given.

Plays (grouped by playbook and hosts) and roles are units; galaxy roles (requirements.yml,
meta/.galaxy_install_info, `namespace.role` directories, another galaxy author) and plays
that only set up the rest of the fleet are left out by `scope`. systemd unit templates a
role ships become services with their ExecStart, which is where a start command comes from.
"""

from __future__ import annotations

import configparser
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from kubestep.inventory import ansible_tasks, scope, unit_templates
from kubestep.inventory.ansible_tasks import Context
from kubestep.inventory.ansible_vars import Resolver, Unresolved, YamlError, load, shown
from kubestep.inventory.model import Inventory, ServiceInfo
from kubestep.inventory.naming import dns_label
from kubestep.inventory.scope import Unit
from kubestep.inventory.tree import SourceTree, at

_PLAY = re.compile(r"^\s*-?\s*(hosts|import_playbook)\s*:", re.MULTILINE)
_TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
_INVENTORIES = ("hosts", "hosts.ini", "inventory", "inventory.ini", ".hosts")


class _Reader:
    def __init__(self, tree: SourceTree) -> None:
        self.tree = tree
        self.result = Inventory()
        self._loaded: dict[str, Any] = {}

    def yaml(self, rel: str, report: bool = True) -> Any:
        """The file's YAML, None when missing or broken (a warning with the line)."""
        if rel not in self._loaded:
            text = self.tree.text(rel) if rel in self.tree.files else None
            try:
                self._loaded[rel] = load(text) if text is not None else None
            except YamlError as error:
                self._loaded[rel] = None
                if report:
                    self.result.warn(at(rel, error.line), str(error))
        return self._loaded[rel]

    def find(self, bases: list[str], name: str) -> str | None:
        for base in bases or [""]:
            rel = (
                posixpath.normpath(posixpath.join(base, name)) if base else posixpath.normpath(name)
            )
            if rel in self.tree.files:
                return rel
        return None


def read(tree: SourceTree, found: Inventory) -> Inventory:
    reader = _Reader(tree)
    roles = _roles(tree)
    playbooks = [
        rel
        for rel in tree.matching("*.yml", "*.yaml")
        if not any(rel.startswith(root + "/") for root in roles.values())
        and _PLAY.search(tree.text(rel) or "")
    ]
    if not roles and not playbooks:
        return reader.result
    base_vars = _inventory_vars(reader)
    units: list[Unit] = []
    invoked: dict[str, Invocation] = {}
    for rel in playbooks:
        plays = reader.yaml(rel)
        if not isinstance(plays, list):
            continue
        try:
            units.extend(_play_units(reader, rel, plays, base_vars, roles, invoked))
        except Exception as error:  # a reader bug must not cost the other playbooks
            reader.result.warn(at(rel, 1), f"could not be read: {type(error).__name__}: {error}")
    for name, root in roles.items():
        try:
            call = invoked.get(name, Invocation())
            units.append(_role_unit(reader, name, root, base_vars, call))
        except Exception as error:
            rel = f"{root}/tasks/main.yml" if root else "tasks/main.yml"
            reader.result.warn(at(rel, 1), f"could not be read: {type(error).__name__}: {error}")
    for unit in units:
        unit_templates.one_per_name(unit.facts)
    _mark_vendored(reader, units, roles)
    clues = scope.clues(tree, found)
    chosen_facts, chosen = scope.select(units, clues, "ansible")
    reader.result.merge(chosen_facts)
    reader.result.service = _service(chosen, chosen_facts, clues)
    return reader.result


def _roles(tree: SourceTree) -> dict[str, str]:
    """Role name -> its directory, for every directory holding tasks/main.yml."""
    roles: dict[str, str] = {}
    for rel in tree.matching("tasks/main.yml", "tasks/main.yaml", "*/tasks/main.y*ml"):
        root = rel.rsplit("/tasks/", 1)[0] if "/tasks/" in rel else ""
        name = root.rsplit("/", 1)[-1] if root else tree.root.name
        roles.setdefault(name, root)
    return roles


def _inventory_vars(reader: _Reader) -> dict[str, Any]:
    """group_vars/ files and [group:vars] of INI inventories: `all` first, other groups after,
    a name two groups disagree on left unknown."""
    layers: list[tuple[str, dict[str, Any]]] = []
    for rel in reader.tree.matching("group_vars/*", "*/group_vars/*", "*/group_vars/*/*"):
        data = reader.yaml(rel)
        group = rel.split("group_vars/", 1)[1].split("/", 1)[0].rsplit(".", 1)[0]
        if isinstance(data, dict):
            layers.append((group, data))
    for rel in _inventory_files(reader.tree):
        layers.extend(_ini_group_vars(reader.tree.text(rel) or ""))
    merged: dict[str, Any] = {}
    for _, data in (layer for layer in layers if layer[0] == "all"):
        merged.update(data)
    others: dict[str, Any] = {}
    conflicts: set[str] = set()
    for _, data in (layer for layer in layers if layer[0] != "all"):
        for key, value in data.items():
            if key in others and others[key] != value:
                conflicts.add(key)
            others[key] = value
    merged.update({key: value for key, value in others.items() if key not in conflicts})
    return merged


def _inventory_files(tree: SourceTree) -> list[str]:
    named = set(tree.matching(*_INVENTORIES))
    for rel in tree.matching("ansible.cfg"):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(tree.text(rel) or "")
        except configparser.Error:
            continue
        path = parser.get("defaults", "inventory", fallback=None)
        if path:
            base = posixpath.dirname(rel)
            named.add(posixpath.normpath(posixpath.join(base, path.split(",")[0].strip())))
    return sorted(rel for rel in named if rel in tree.files)


def _ini_group_vars(text: str) -> list[tuple[str, dict[str, Any]]]:
    layers: list[tuple[str, dict[str, Any]]] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        line = line.split(" #", 1)[0].split(" ;", 1)[0].strip()
        heading = re.fullmatch(r"\[([^\]:]+):vars\]", line)
        if heading:
            current = {}
            layers.append((heading.group(1), current))
        elif line.startswith("["):
            current = None
        elif current is not None and "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip().strip("'\"")
    return layers


def _play_units(
    reader: _Reader,
    rel: str,
    plays: list[Any],
    base_vars: dict[str, Any],
    roles: dict[str, str],
    invoked: dict[str, Invocation],
) -> list[Unit]:
    """One unit per playbook and hosts pattern: its own tasks; the roles it runs get its vars."""
    units: dict[str, Unit] = {}
    folder = posixpath.dirname(rel)
    for play in plays:
        if not isinstance(play, dict) or "hosts" not in play:
            continue
        play_vars = _play_vars(reader, rel, play)
        resolver = Resolver(base_vars, play_vars)
        hosts = str(play.get("hosts"))
        label = f"play {hosts} ({rel})"
        line = getattr(play, "line", 1)
        unit = units.setdefault(label, Unit(label=label, source=at(rel, line)))
        become = _play_become(resolver, play, unit.facts, at(rel, line))
        context = _context(reader, rel, [folder], resolver, become)
        for key in _TASK_LISTS:
            ansible_tasks.read_tasks(play.get(key), context, unit.facts)
        _unit_templates(reader, context, unit.facts)
        for entry in play.get("roles") or []:
            name, params = _role_entry(entry)
            if name:
                short = name.rstrip("/").rsplit("/", 1)[-1]
                invoked.setdefault(short, Invocation(play_vars, params, become))
    return list(units.values())


@dataclass
class Invocation:
    """How the first play that runs a role runs it: its vars, the role's parameters (these
    win over the role's vars/, as in Ansible) and its become_user."""

    play_vars: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    become_user: str | None = None


def _play_become(
    resolver: Resolver, play: dict[str, Any], facts: Inventory, source: str
) -> str | None:
    raw = play.get("become_user") or play.get("sudo_user")
    if raw is None:
        return None
    try:
        return resolver.text(raw)
    except Unresolved as error:
        facts.warn(source, f"play become_user {shown(error)} is only known to Ansible: left out")
        return None


def _role_entry(entry: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict):
        name = entry.get("role") or entry.get("name")
        params = {k: v for k, v in entry.items() if k not in ("role", "name", "tags", "when")}
        if isinstance(params.get("vars"), dict):
            params.update(params.pop("vars"))
        return (str(name) if name else None), params
    return None, {}


def _play_vars(reader: _Reader, rel: str, play: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    files = play.get("vars_files") or []
    for name in files if isinstance(files, list) else [files]:
        if isinstance(name, str) and "{{" not in name:
            found = reader.find([posixpath.dirname(rel)], name)
            data = reader.yaml(found) if found else None
            if isinstance(data, dict):
                variables.update(data)
    if isinstance(play.get("vars"), dict):
        variables.update(play["vars"])
    return variables


def _context(
    reader: _Reader, rel: str, bases: list[str], resolver: Resolver, become: str | None
) -> Context:
    def find_file(src: str, folder: str) -> str | None:
        return reader.find([f"{base}/{folder}" if base else folder for base in bases] + bases, src)

    def load_tasks(name: str, current: str) -> tuple[str, list[Any]] | None:
        found = reader.find([posixpath.dirname(current), *[f"{b}/tasks" for b in bases]], name)
        tasks = reader.yaml(found) if found else None
        return (found, tasks) if found and isinstance(tasks, list) else None

    return Context(rel, resolver, find_file, load_tasks, become_user=become)


def _role_unit(
    reader: _Reader, name: str, root: str, base_vars: dict[str, Any], call: Invocation
) -> Unit:
    prefix = f"{root}/" if root else ""
    layers = []
    for folder in ("defaults", "vars"):
        rel = reader.find([], f"{prefix}{folder}/main.yml") or reader.find(
            [], f"{prefix}{folder}/main.yaml"
        )
        data = reader.yaml(rel) if rel else None
        layers.append(data if isinstance(data, dict) else {})
    resolver = Resolver(layers[0], base_vars, call.play_vars, layers[1], call.params)
    meta = reader.yaml(f"{prefix}meta/main.yml", report=False)
    galaxy = meta.get("galaxy_info") if isinstance(meta, dict) else None
    unit = Unit(
        label=f"role {name}",
        source=at(f"{prefix}tasks/main.yml", 1),
        module=name,
        author=scope.author(galaxy.get("author")) if isinstance(galaxy, dict) else None,
    )
    for rel in reader.tree.matching(f"{prefix}tasks/main.y*ml", f"{prefix}handlers/main.y*ml"):
        context = _context(reader, rel, [root], resolver, call.become_user)
        ansible_tasks.read_tasks(reader.yaml(rel), context, unit.facts)
        _unit_templates(reader, context, unit.facts)
    shipped = reader.tree.matching(
        f"{prefix}templates/*.service.j2", f"{prefix}templates/*.service"
    )
    context = _context(reader, f"{prefix}tasks/main.yml", [root], resolver, None)
    for rel in shipped:
        if not any(item.source.startswith(rel + ":") for item in unit.facts.services):
            context.unit_files.append((rel, rel.rsplit("/", 1)[-1].removesuffix(".j2"), ""))
    _unit_templates(reader, context, unit.facts)
    return unit


def _unit_templates(reader: _Reader, context: Context, facts: Inventory) -> None:
    """systemd units and supervisor programs the tasks install from the repo, rendered with
    the unit's variables."""
    for rel, dest, _ in context.unit_files:
        original = reader.tree.text(rel) or ""
        if not unit_templates.defines_services(dest, original):
            continue
        name = PurePosixPath(dest).name.removesuffix(".service")
        rendered = context.resolver.partial(original)
        found = unit_templates.services(rel, original, rendered, name, "ansible", "{{{{ {} }}}}")
        for unit in found.services:
            unit_templates.add_service(facts, unit)
        facts.warnings.extend(found.warnings)
        facts.environment.extend(found.environment)
    context.unit_files.clear()


def _mark_vendored(reader: _Reader, units: list[Unit], roles: dict[str, str]) -> None:
    listed: dict[str, str] = {}
    for rel in reader.tree.matching("requirements.yml", "requirements.yaml"):
        data = reader.yaml(rel)
        entries = data.get("roles", []) if isinstance(data, dict) else data
        for entry in entries if isinstance(entries, list) else []:
            source = at(rel, getattr(entry, "line", 1))
            names = [entry] if isinstance(entry, str) else []
            if isinstance(entry, dict):
                names = [str(entry[key]) for key in ("name", "src") if entry.get(key)]
            for name in names:
                short = name.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
                for key in (short, short.rsplit(".", 1)[-1]):
                    listed.setdefault(scope.normal(key), source)
    submodules = scope.submodule_paths(reader.tree)
    for unit in units:
        if not unit.module:
            continue
        root = roles.get(unit.module, "")
        prefix = f"{root}/" if root else ""
        if scope.normal(unit.module) in listed:
            unit.vendored = f"listed in {listed[scope.normal(unit.module)]}"
        elif f"{prefix}meta/.galaxy_install_info" in reader.tree.files:
            unit.vendored = f"installed by ansible-galaxy: {prefix}meta/.galaxy_install_info"
        elif "." in unit.module:
            unit.vendored = "a galaxy namespace.role directory"
        elif any(root == path or root.startswith(path + "/") for path in submodules):
            unit.vendored = "a git submodule"


def _service(chosen: list[Unit], facts: Inventory, clues: scope.Clues) -> ServiceInfo | None:
    named = next((u for u in chosen if u.module and scope.normal(u.module) in clues.names), None)
    if named is not None and named.module:
        return ServiceInfo(name=dns_label(named.module), source=named.source)
    unit = next((s for s in facts.services if s.command), None)
    return ServiceInfo(name=dns_label(unit.name), source=unit.source) if unit else None
