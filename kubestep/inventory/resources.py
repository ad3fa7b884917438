"""Configuration-management resources (Puppet, Chef) turned into inventory facts.

Puppet and Chef spell the same things differently (`monthday` vs `day`, `content =>
template()` vs a `template` resource); this module is where both meet the inventory's terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubestep.inventory.model import (
    CronJob,
    Inventory,
    ManagedFile,
    ServiceUnit,
    SetupCommand,
    SystemPackage,
    User,
)

# Types read elsewhere or of no use to a container; anything else becomes a warning.
IGNORED_TYPES = {"group", "notify", "anchor", "include_recipe", "log", "ruby_block"}
FILE_TYPES = {
    "file",
    "template",
    "directory",
    "cookbook_file",
    "remote_file",
    "link",
    "remote_directory",
}
EXEC_TYPES = {"exec", "execute", "bash", "script"}


@dataclass
class Resource:
    """One resource as declared: type, title and attributes already as Python values."""

    type: str
    title: str
    source: str
    manager: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def text(self, *names: str) -> str | None:
        """The first of the named attributes that is set, as text."""
        for name in names:
            value = self.attributes.get(name)
            if value is not None and not isinstance(value, list | dict):
                return str(value)
        return None


def add(found: Inventory, resource: Resource, template_file: Callable[[str], str | None]) -> None:
    """Record resource in found; template_file maps a template reference to a repo path."""
    kind = resource.type
    if kind == "package":
        found.system_packages.append(
            SystemPackage(name=resource.title, source=resource.source, manager=resource.manager)
        )
    elif kind == "user":
        found.users.append(_user(resource))
    elif kind in FILE_TYPES:
        found.managed_files.append(_file(resource, template_file))
    elif kind in ("service", "systemd_unit"):
        found.services.append(_service(resource))
    elif kind in ("cron", "cron_d"):
        found.cron_jobs.append(_cron(resource))
    elif kind in EXEC_TYPES:
        command = resource.text("command", "code") or resource.title
        found.setup_commands.append(
            SetupCommand(
                command=command.strip(),
                source=resource.source,
                user=resource.text("user"),
                cwd=resource.text("cwd"),
                manager=resource.manager,
            )
        )
    elif kind not in IGNORED_TYPES:
        found.warn(
            resource.source,
            f"{resource.manager} resource {kind}[{resource.title!r}] is not inventoried",
        )


def _user(resource: Resource) -> User:
    uid = resource.attributes.get("uid")
    return User(
        name=resource.text("name", "username") or resource.title,
        source=resource.source,
        uid=int(str(uid)) if str(uid).isdigit() else None,
        home=resource.text("home"),
        shell=resource.text("shell"),
        manager=resource.manager,
    )


def _file(resource: Resource, template_file: Callable[[str], str | None]) -> ManagedFile:
    ensure = resource.text("ensure") or ""
    kind = "directory" if resource.type == "directory" or ensure == "directory" else "file"
    if resource.type == "link" or ensure == "link":
        kind = "link"
    template = resource.text("template")
    if resource.type == "template":
        template = resource.text("source") or f"{resource.title.rsplit('/', 1)[-1]}.erb"
    mode = resource.attributes.get("mode")
    return ManagedFile(
        path=resource.text("path") or resource.title,
        source=resource.source,
        kind=kind,
        owner=resource.text("owner"),
        group=resource.text("group"),
        mode=str(mode) if mode is not None else None,
        template=template,
        template_file=template_file(template) if template else None,
        manager=resource.manager,
    )


def _service(resource: Resource) -> ServiceUnit:
    action = resource.attributes.get("action")
    actions = action if isinstance(action, list) else [action] if action else []
    ensure = resource.text("ensure") or (", ".join(str(item) for item in actions) or None)
    return ServiceUnit(
        name=(resource.text("service_name", "name") or resource.title).removesuffix(".service"),
        manager=resource.manager,
        source=resource.source,
        ensure=ensure,
    )


def _cron(resource: Resource) -> CronJob:
    schedule = " ".join(
        resource.text(*names) or "*"
        for names in (("minute",), ("hour",), ("monthday", "day"), ("month",), ("weekday",))
    )
    return CronJob(
        name=resource.title,
        schedule=resource.text("special_time", "predefined_value") or schedule,
        command=resource.text("command") or "",
        source=resource.source,
        user=resource.text("user"),
        manager=resource.manager,
    )
