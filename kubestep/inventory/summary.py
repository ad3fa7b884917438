"""A text summary of an inventory for people: one section per topic, each fact with its source."""

from __future__ import annotations

from collections.abc import Iterable

from kubestep.inventory.model import Check, Fact, Inventory


def summary(inventory: Inventory) -> str:
    """Readable lines grouped by topic; empty topics are left out."""
    sections = [
        ("Service", _service(inventory)),
        (
            "Runtime",
            _facts(inventory, ("language", "framework", "python_version", "dependencies_date")),
        ),
        ("Entrypoint", _entrypoint(inventory)),
        (
            "Dependencies",
            [f"{item.spec} ({item.scope})  [{item.source}]" for item in inventory.dependencies],
        ),
        ("Configuration", _config(inventory)),
        (
            "Backing services",
            [
                f"{item.kind}"
                + (f" [section {item.config_section}]" if item.config_section else "")
                + ": "
                + "; ".join(f"{e.value} ({e.source})" for e in item.evidence)
                for item in inventory.backing_services
            ],
        ),
        (
            "System packages",
            [f"{item.name}  [{item.source}]" for item in inventory.system_packages],
        ),
        (
            "Users",
            [
                f"{item.name} uid={item.uid} home={item.home} shell={item.shell}  [{item.source}]"
                for item in inventory.users
            ],
        ),
        (
            "Managed files",
            [
                f"{item.path} ({item.kind}, owner={item.owner}, mode={item.mode}"
                + (f", template={item.template}" if item.template else "")
                + f")  [{item.source}]"
                for item in inventory.managed_files
            ],
        ),
        (
            "Services",
            [
                f"{item.name} via {item.manager}"
                + (f" as {item.user}" if item.user else "")
                + (f": {item.command}" if item.command else "")
                + f"  [{item.source}]"
                for item in inventory.services
            ],
        ),
        (
            "Cron jobs",
            [
                f"{item.name}: {item.schedule} {item.user or ''} {item.command}  [{item.source}]"
                for item in inventory.cron_jobs
            ],
        ),
        ("Checks", [_check(item) for item in inventory.checks]),
        (
            "Make targets",
            [
                f"{item.name}: {' && '.join(item.recipe) or '(no recipe)'}  [{item.source}]"
                for item in inventory.make_targets
            ],
        ),
        ("Scripts", [f"{item.path} ({item.role})" for item in inventory.scripts]),
        (
            "Other processes",
            [f"{item.name}: {item.command}  [{item.source}]" for item in inventory.processes],
        ),
        (
            "Setup commands",
            [f"{item.command}  [{item.source}]" for item in inventory.setup_commands],
        ),
        (
            "Environment",
            [f"{item.name}={item.value}  [{item.source}]" for item in inventory.environment],
        ),
        ("Warnings", [f"{item.source}: {item.message}" for item in inventory.warnings]),
    ]
    lines: list[str] = []
    for title, entries in sections:
        entries = list(entries)
        if entries:
            lines += [title, "-" * len(title), *(f"  {entry}" for entry in entries), ""]
    return "\n".join(lines).rstrip() + "\n"


def _fact(label: str, fact: Fact | None) -> list[str]:
    if fact is None:
        return []
    extras = [f"kind {fact.kind}"] if fact.kind else []
    extras += [f"overridden by ${fact.env_var}"] if fact.env_var else []
    extras += [fact.note] if fact.note else []
    detail = f" ({', '.join(extras)})" if extras else ""
    return [f"{label}: {fact.value}{detail}  [{fact.source}]"]


def _facts(inventory: Inventory, names: Iterable[str]) -> list[str]:
    return [line for name in names for line in _fact(name, getattr(inventory, name))]


def _service(inventory: Inventory) -> list[str]:
    service = inventory.service
    if service is None:
        return []
    lines = [f"name: {service.name}  [{service.source}]"]
    if service.description:
        lines.append(f"description: {service.description}")
    return lines


def _entrypoint(inventory: Inventory) -> list[str]:
    entry = inventory.entrypoint
    names = ("app", "server", "command", "port", "workers", "settings")
    return [line for name in names for line in _fact(name, getattr(entry, name))]


def _config(inventory: Inventory) -> list[str]:
    config = inventory.config
    lines = [
        f"file {item.path or '(not read by code)'}"
        + (f" (env {item.env_var})" if item.env_var else "")
        + (f", example {item.example}" if item.example else "")
        + f"  [{item.source}]"
        for item in config.files
    ]
    lines += [
        f"[{key.section}] {key.key} ({key.type or 'str'}) default={key.default!r} "
        f"example={key.example_value!r} -> {key.env_name}  [{key.source}]"
        for key in config.keys
    ]
    lines += [
        f"env {item.name} default={item.default!r}  [{item.source}]" for item in config.env_vars
    ]
    return lines


def _check(check: Check) -> str:
    details = {
        "http": f"port {check.port} path {check.path} expect {check.expect_status}",
        "tcp": f"port {check.port}",
        "process": f"{check.process} count {check.min}..{check.max}",
        "disk": f"{check.path} warning {check.warning} critical {check.critical}",
    }.get(check.kind, f"{check.script} {' '.join(check.args)}" if check.script else check.command)
    return f"{check.name} ({check.kind}): {details}  [{check.source}]"
