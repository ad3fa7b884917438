"""Run every reader over a legacy repo, each isolated, and merge what they found.

Readers run in a fixed order because later ones build on earlier facts (the entrypoint reader
uses systemd units and make targets; backing services use everything); when two readers know
the same single fact, the earlier, more deliberate source wins.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubestep.errors import TargetError
from kubestep.inventory import (
    ansible,
    backing_services,
    chef,
    ci_files,
    container_files,
    cron,
    dependency_dates,
    django_templates,
    entrypoint,
    ini_config,
    makefile,
    nagios,
    process_managers,
    puppet,
    python_code,
    python_project,
    readme,
    routes,
    static_storage,
    systemd,
    writable_paths,
)
from kubestep.inventory.model import Inventory, ServiceInfo
from kubestep.inventory.naming import dns_label
from kubestep.inventory.tree import SourceTree

Reader = Callable[[SourceTree, Inventory], Inventory]
READERS: tuple[tuple[str, Reader], ...] = (
    ("readme", readme.read),
    ("python project", python_project.read),
    ("dependency dates", dependency_dates.read),
    ("makefile", makefile.read),
    ("cron", cron.read),
    ("systemd", systemd.read),
    ("process managers", process_managers.read),
    ("container files", container_files.read),
    ("ini config", ini_config.read),
    ("puppet", puppet.read),
    ("chef", chef.read),
    ("ansible", ansible.read),
    ("nagios", nagios.read),
    ("entrypoint", entrypoint.read),
    ("python code", python_code.read),
    ("django templates", django_templates.read),
    ("routes", routes.read),
    ("writable paths", writable_paths.read),
    ("static storage", static_storage.read),
    ("backing services", backing_services.read),
    ("ci files", ci_files.read),
)


def collect(target: Path) -> Inventory:
    """Everything kubestep can learn from the repo at target, without writing anything."""
    target = Path(target)
    if not target.exists():
        raise TargetError(f"{target} does not exist: give the path of the legacy repo")
    if not target.is_dir():
        raise TargetError(f"{target} is not a directory: give the path of the legacy repo")
    tree = SourceTree(target.resolve())
    inventory = Inventory()
    for name, reader in READERS:
        try:
            inventory.merge(reader(tree, inventory))
        except Exception as error:  # one broken reader must not hide what the others found
            inventory.warn(".:1", f"the {name} reader failed: {type(error).__name__}: {error}")
    inventory.warnings.extend(tree.warnings())  # files left unread: links out, devices, ...
    _name_service(inventory, tree)
    _show_start_decision(inventory)
    return inventory


def _show_start_decision(inventory: Inventory) -> None:
    """The entrypoint facts show what the start decision picks with no answer given."""
    from kubestep import decide
    from kubestep.inventory.model import StartCandidate

    choice = decide.start_command(inventory.to_dict(), {})
    if isinstance(choice, decide.Choice):
        chosen = StartCandidate(**choice.candidate)
        entrypoint.set_entrypoint(inventory, chosen, choice.source)


def _name_service(inventory: Inventory, tree: SourceTree) -> None:
    """Puppet class, else a systemd unit shipped in the repo, else the directory name."""
    if inventory.service is None:
        unit = next((item for item in inventory.services if item.manager == "systemd"), None)
        if unit is not None:
            inventory.service = ServiceInfo(name=dns_label(unit.name), source=unit.source)
        else:
            inventory.service = ServiceInfo(name=dns_label(tree.root.name), source=".")
    if inventory.readme and inventory.readme.description and not inventory.service.description:
        inventory.service.description = inventory.readme.description
