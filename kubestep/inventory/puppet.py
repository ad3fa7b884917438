"""Puppet manifests (*.pp): packages, users, files and templates, services, execs, cron jobs.

The manifest is the most precise record of the legacy host: which OS packages the service
needed, the user it ran as, where its config lived and who could read it.
"""

from __future__ import annotations

from typing import Any

from kubestep.inventory import puppet_parser, resources
from kubestep.inventory.model import Inventory, ServiceInfo
from kubestep.inventory.naming import dns_label
from kubestep.inventory.puppet_parser import Call
from kubestep.inventory.resources import Resource
from kubestep.inventory.tree import SourceTree, at


def read(tree: SourceTree, found: Inventory) -> Inventory:
    return tree.per_file(tree.matching("*.pp"), lambda rel, text: parse(tree, rel, text))


def parse(tree: SourceTree, rel: str, text: str) -> Inventory:
    found = Inventory()
    manifest = puppet_parser.parse(text)
    for error in manifest.errors:
        found.warn(at(rel, error.line), f"Puppet syntax: {error}")
    if manifest.classes:
        name, line = manifest.classes[0]
        found.service = ServiceInfo(name=dns_label(module_of(name)), source=at(rel, line))
    for declared in manifest.resources:
        attributes = _plain_attributes(declared.attributes)
        titles = declared.title if isinstance(declared.title, list) else [declared.title]
        for title in titles:
            resource = Resource(
                type=declared.type,
                title=str(title),
                source=at(rel, declared.line),
                manager="puppet",
                attributes=attributes,
            )
            resources.add(found, resource, lambda reference: template_file(tree, reference))
    return found


def module_of(class_name: str) -> str:
    """The module a class belongs to; roles and profiles are named after what they wrap."""
    parts = class_name.lstrip(":").split("::")
    return parts[-1] if parts[0] in ("role", "roles", "profile", "profiles") else parts[0]


def template_file(tree: SourceTree, reference: str) -> str | None:
    """'legacy_app/app.ini.erb' is modules/legacy_app/templates/app.ini.erb, or any
    templates/app.ini.erb when the repo keeps one module flat."""
    module, _, name = reference.partition("/")
    if not name:
        return tree.find_by_suffix(f"templates/{module}")
    return tree.find_by_suffix(f"{module}/templates/{name}") or tree.find_by_suffix(
        f"templates/{name}"
    )


def _plain_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """content => template('x') becomes template: 'x'; other calls become their text."""
    plain: dict[str, Any] = {}
    for name, value in attributes.items():
        if isinstance(value, Call) and value.name in ("template", "epp") and value.args:
            plain["template"] = str(value.args[0])
        elif isinstance(value, Call):
            plain[name] = f"{value.name}({', '.join(map(repr, value.args))})"
        else:
            plain[name] = value
    return plain
