"""Puppet manifests (*.pp): packages, users, files and templates, services, execs, cron jobs.

The manifest is the most precise record of the legacy host: which OS packages the service
needed, the user it ran as, where its config lived and who could read it. Only the code that
deploys the service counts: forge modules (Puppetfile, .fixtures.yml, metadata.json of another
author, git submodules) and fleet baselines (profile::base, nodes that only run other things)
are left out by `scope`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from kubestep.inventory import puppet_parser, resources, scope, unit_templates
from kubestep.inventory.model import Inventory, ManagedFile, ServiceInfo
from kubestep.inventory.naming import dns_label
from kubestep.inventory.puppet_parser import Block, Call, Unresolved
from kubestep.inventory.resources import Resource
from kubestep.inventory.scope import Unit
from kubestep.inventory.tree import SourceTree, at

_ROLE_MODULES = {"role", "roles", "profile", "profiles"}
_MOD_LINE = re.compile(r"""^\s*mod\s*\(?\s*['"]([^'"]+)['"](.*)$""")
# Attributes the inventory records; an unresolved one is left out with a warning.
_USED = {
    "name", "path", "command", "code", "user", "cwd", "uid", "home", "shell", "owner", "group",
    "mode", "template", "hour", "minute", "monthday", "month", "weekday", "special_time",
    "service_name", "ensure", "action", "username", "day",
}  # fmt: skip
# Without these the fact is not a fact: the resource is left out.
_ESSENTIAL = {"name", "path", "command", "service_name", "username"}
_SCHEDULE = {"minute", "hour", "monthday", "month", "weekday", "special_time"}


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    units: dict[str, Unit] = {}
    for rel in tree.matching("*.pp"):
        text = tree.text(rel)
        if text is None:
            result.warn(at(rel, 1), "not read: binary, unreadable or larger than 1 MB")
            continue
        try:
            _read_manifest(tree, rel, text, units)
        except Exception as error:  # a parser bug must not cost the other files
            result.warn(at(rel, 1), f"could not be read: {type(error).__name__}: {error}")
    listed = _vendored_modules(tree, result)
    own_author = _metadata_author(tree, "metadata.json")
    for unit in units.values():
        unit_templates.one_per_name(unit.facts)
        module = unit.label.split(" ", 1)[1].split("::", 1)[0]
        if unit.label.startswith(("module ", "class ", "define ")):
            unit.vendored = unit.vendored or listed.get(scope.normal(module))
    clues = scope.clues(tree, found)
    chosen_facts, chosen = scope.select(
        list(units.values()), clues, "puppet", [own_author] if own_author else []
    )
    for unit in units.values():  # syntax errors in vendored code are not the user's concern
        if not unit.vendored:
            result.warnings.extend(w for w in unit.facts.warnings if "Puppet syntax" in w.message)
    result.merge(chosen_facts)
    result.warnings = [w for i, w in enumerate(result.warnings) if w not in result.warnings[:i]]
    named = next((u for u in chosen if u.module and scope.normal(u.module) in clues.names), None)
    if named is not None and named.module:  # a module named after a tool does not name it
        result.service = ServiceInfo(name=dns_label(named.module), source=named.source)
    return result


def parse(tree: SourceTree, rel: str, text: str) -> Inventory:
    """Every resource of one manifest, in or out of scope (for tests and single files)."""
    units: dict[str, Unit] = {}
    _read_manifest(tree, rel, text, units)
    found = Inventory()
    for unit in units.values():
        found.merge(unit.facts)
    return found


def _read_manifest(tree: SourceTree, rel: str, text: str, units: dict[str, Unit]) -> None:
    manifest = puppet_parser.parse(text)
    root = _module_root(rel)
    vendored, author = _module_evidence(tree, root)
    syntax = []
    for error in manifest.errors:
        syntax.append((at(rel, error.line), f"Puppet syntax: {error}"))
    first = None
    for block in manifest.blocks:
        unit = _unit_for(block, rel, root, units)
        unit.vendored = unit.vendored or vendored
        unit.author = unit.author or author
        first = first or unit
    for declared in manifest.resources:
        block = declared.block or Block("top", "", 1)
        unit = _unit_for(block, rel, root, units)
        before = len(unit.facts.managed_files)
        _add_resource(tree, rel, declared, unit.facts)
        for written in unit.facts.managed_files[before:]:
            _add_templated_services(tree, written, manifest.variables, unit.facts)
    target = first or _unit_for(Block("top", "", 1), rel, root, units)
    for source, message in syntax:
        target.facts.warn(source, message)
    if not manifest.blocks and not manifest.resources and not syntax:
        units.pop(f"file {rel}", None)


def _unit_for(block: Block, rel: str, root: str, units: dict[str, Unit]) -> Unit:
    """Role and profile classes are units of their own; other classes group by module."""
    if block.kind in ("class", "define"):
        module = block.name.split("::", 1)[0]
        key = block.label if module in _ROLE_MODULES else f"module {module}"
        module_name = module_of(block.name)
    elif block.kind == "node":
        key, module_name = f"node {block.name}", None
    else:
        key, module_name = f"file {rel}", None
    if key not in units:
        units[key] = Unit(label=key, source=at(rel, block.line), module=module_name)
    return units[key]


def module_of(class_name: str) -> str:
    """The module a class belongs to; roles and profiles are named after what they wrap."""
    parts = class_name.lstrip(":").split("::")
    return parts[-1] if parts[0] in _ROLE_MODULES else parts[0]


def template_file(tree: SourceTree, reference: str) -> str | None:
    """'legacy_app/app.ini.erb' is modules/legacy_app/templates/app.ini.erb, or any
    templates/app.ini.erb when the repo keeps one module flat."""
    module, _, name = reference.partition("/")
    if not name:
        return tree.find_by_suffix(f"templates/{module}")
    return tree.find_by_suffix(f"{module}/templates/{name}") or tree.find_by_suffix(
        f"templates/{name}"
    )


def _add_resource(
    tree: SourceTree, rel: str, declared: puppet_parser.Resource, found: Inventory
) -> None:
    source = at(rel, declared.line)
    attributes, unknown = _plain_attributes(declared.attributes)
    titles = declared.title if isinstance(declared.title, list) else [declared.title]
    label = f"{declared.type}[{_text(declared.title)}]"
    needed = _ESSENTIAL | (_SCHEDULE if declared.type == "cron" else set())
    essential = sorted(name for name in unknown if name in needed)
    known = [title for title in titles if not _unresolved(title)]
    if essential or not known:
        what = ", ".join(f"{name} {unknown[name]}" for name in essential) or "its title"
        found.warn(source, f"{label}: {what} is only known to Puppet: left out")
        return
    if len(known) < len(titles):
        left = ", ".join(_text(title) for title in titles if _unresolved(title))
        found.warn(source, f"{label}: {left} only known to Puppet: left out")
    if unknown:
        listed = ", ".join(f"{name} ({value})" for name, value in sorted(unknown.items()))
        found.warn(source, f"{label}: {listed} only known to Puppet: left out")
    titles = known
    for title in titles:
        resource = Resource(
            type=declared.type,
            title=str(title),
            source=source,
            manager="puppet",
            attributes=attributes,
        )
        resources.add(found, resource, lambda reference: template_file(tree, reference))


def _add_templated_services(
    tree: SourceTree, written: ManagedFile, variables: dict[str, Any], found: Inventory
) -> None:
    """A file resource that writes a systemd unit or supervisor program from a template."""
    text = tree.text(written.template_file) if written.template_file else None
    if not text or not written.template_file:
        return
    if unit_templates.defines_services(written.path, text):
        rendered = unit_templates.render_erb(text, unit_templates.puppet_lookup(variables))
        name = written.path.rsplit("/", 1)[-1].removesuffix(".service")
        units = unit_templates.services(written.template_file, text, rendered, name, "puppet")
        for unit in units.services:
            unit_templates.add_service(found, unit)
        found.warnings.extend(units.warnings)
        found.environment.extend(units.environment)


def _plain_attributes(attributes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """content => template('x') becomes template: 'x'; values only Puppet knows go apart."""
    plain: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    for name, value in attributes.items():
        if isinstance(value, Call) and value.name in ("template", "epp") and value.args:
            if _unresolved(value.args[0]):
                unknown["template"] = _text(value)
            else:
                plain["template"] = str(value.args[0])
        elif _unresolved(value):
            if name in _USED:
                unknown[name] = _text(value)
        else:
            plain[name] = value
    return plain, unknown


def _unresolved(value: Any) -> bool:
    if isinstance(value, list):
        return any(_unresolved(item) for item in value)
    return isinstance(value, Unresolved | Call)


def _text(value: Any) -> str:
    """How the manifest wrote a value, for messages (never a Python repr)."""
    if isinstance(value, Call):
        return f"{value.name}({', '.join(_text(arg) for arg in value.args)})"
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if isinstance(value, Unresolved):
        return value.text
    return repr(value) if isinstance(value, str) else str(value)


def _module_root(rel: str) -> str:
    """The module directory: what holds manifests/ (or the file's own directory)."""
    parts = rel.split("/")[:-1]
    if "manifests" in parts:
        index = len(parts) - 1 - parts[::-1].index("manifests")
        return "/".join(parts[:index])
    return "/".join(parts)


def _module_evidence(tree: SourceTree, root: str) -> tuple[str | None, str | None]:
    """(why the module at root is vendored, its metadata author) from its own files."""
    if not root:
        return None, None
    if f"{root}/checksums.json" in tree.files:
        return f"installed from the Forge: {root}/checksums.json", None
    return None, _metadata_author(tree, f"{root}/metadata.json")


def _metadata_author(tree: SourceTree, rel: str) -> str | None:
    if rel not in tree.files:
        return None
    try:
        data = json.loads(tree.text(rel) or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name = str(data.get("name") or "")
    return scope.author(data.get("author") or re.split(r"[-/]", name, maxsplit=1)[0])


def _vendored_modules(tree: SourceTree, found: Inventory) -> dict[str, str]:
    """Module names the repo says come from elsewhere: Puppetfile, .fixtures.yml, submodules."""
    listed: dict[str, str] = {}
    for rel in tree.matching("Puppetfile"):
        for number, line in enumerate((tree.text(rel) or "").splitlines(), 1):
            match = _MOD_LINE.match(line)
            if match and not re.search(r":local\s*=>\s*true|local:\s*true", match.group(2)):
                name = re.split(r"[-/]", match.group(1))[-1]
                listed.setdefault(scope.normal(name), f"{rel}:{number}")
    for rel in tree.matching(".fixtures.yml", ".fixtures.yaml"):
        try:
            data = yaml.safe_load(tree.text(rel) or "") or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            found.warn(at(rel, mark.line + 1 if mark else 1), f"YAML: {error}")
            continue
        fixtures = data.get("fixtures", {}) if isinstance(data, dict) else {}
        for kind in ("forge_modules", "repositories"):
            names = fixtures.get(kind) if isinstance(fixtures, dict) else None
            for name in names or {}:
                listed.setdefault(scope.normal(str(name)), f"{rel} {kind}")
    for path in scope.submodule_paths(tree):
        listed.setdefault(scope.normal(path.rsplit("/", 1)[-1]), f".gitmodules {path}")
    return listed
