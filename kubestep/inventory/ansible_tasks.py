"""Ansible tasks turned into inventory facts: packages, pip, users, files, services, cron, commands.

Both spellings are read (`apt: name=x state=present` and the dict form, `action: apt ...`),
with FQCNs (`ansible.builtin.apt`), `loop`/`with_items`, `become_user`, blocks and included
task files. A value that needs a real Ansible run is left out with a warning, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kubestep.inventory.ansible_vars import Resolver, Unresolved, parse_kv, shown, split_args
from kubestep.inventory.model import (
    CronJob,
    Dependency,
    Inventory,
    ManagedFile,
    ServiceUnit,
    SetupCommand,
    SystemPackage,
    User,
)
from kubestep.inventory.tree import at

TASK_KEYWORDS = {
    "name", "when", "loop", "loop_control", "register", "become", "become_user",
    "become_method", "become_flags", "notify", "tags", "vars", "args", "environment",
    "ignore_errors", "changed_when", "failed_when", "delegate_to", "delegate_facts", "run_once",
    "no_log", "until", "retries", "delay", "check_mode", "diff", "async", "poll", "listen",
    "any_errors_fatal", "remote_user", "sudo", "sudo_user", "connection", "debugger",
    "throttle", "timeout", "module_defaults", "collections", "ignore_unreachable", "local_action",
    "action",
}  # fmt: skip
PACKAGE_MODULES = {"apt", "yum", "dnf", "package", "apk", "zypper", "pacman"}
SERVICE_MODULES = {"service", "systemd", "systemd_service", "sysvinit", "supervisorctl"}
FILE_MODULES = {"template", "copy", "file", "lineinfile", "blockinfile", "ini_file"}
COMMAND_MODULES = {"command", "shell", "raw", "script"}
# Modules that change nothing a container needs to know about.
QUIET_MODULES = {
    "debug", "set_fact", "assert", "fail", "meta", "stat", "pause", "wait_for", "include_vars",
    "setup", "gather_facts", "add_host", "group_by", "ping", "uri", "get_url", "apt_key",
    "apt_repository", "yum_repository", "group", "ufw", "firewalld", "hostname", "timezone",
    "authorized_key", "known_hosts", "reboot", "wait_for_connection", "find", "slurp", "fetch",
}  # fmt: skip
_COMMAND_OPTIONS = {"chdir", "creates", "removes", "executable", "warn", "stdin"}
_ABSENT = {"absent", "removed", "purged"}


@dataclass
class Context:
    """Where a task sits: its file, variables, inherited become_user and how to find files."""

    rel: str
    resolver: Resolver
    find_file: Callable[[str, str], str | None]
    load_tasks: Callable[[str, str], tuple[str, list[Any]] | None]
    become_user: str | None = None
    unit_files: list[tuple[str, str, str]] = field(default_factory=list)  # (src, dest, source)
    depth: int = 0


def read_tasks(tasks: Any, context: Context, found: Inventory) -> None:
    """Every task of a list, blocks and included files followed."""
    if not isinstance(tasks, list):
        return
    for task in tasks:
        if isinstance(task, dict):
            try:
                _task(task, context, found)
            except Unresolved as error:
                found.warn(_source(context, task), f"{_label(task)}: {_why(error)}: left out")
            except Exception as error:  # an odd shape costs this task only
                message = f"{_label(task)} could not be read: {type(error).__name__}: {error}"
                found.warn(_source(context, task), message)


def _task(task: dict[str, Any], context: Context, found: Inventory) -> None:
    inner = replace(context, become_user=_become(task, context, found))
    if isinstance(task.get("vars"), dict):
        inner.resolver = context.resolver.with_vars(task["vars"])
    for key in ("block", "rescue", "always"):
        if key in task:
            read_tasks(task[key], inner, found)
    module, args = _module(task)
    if module is None:
        return
    if module in ("include_tasks", "import_tasks", "include"):
        _include(args, inner, found, task)
        return
    if module in ("include_role", "import_role"):
        return  # the role is read as a unit of its own
    loop = _loop(task)
    if loop is None:
        _module_facts(module, args, task, inner, found)
        return
    items = loop if isinstance(loop, list) else inner.resolver.value(loop)
    for item in items if isinstance(items, list) else [items]:
        variable = (task.get("loop_control") or {}).get("loop_var", "item")
        value = inner.resolver.value(item)
        item_context = replace(inner, resolver=inner.resolver.with_vars({variable: value}))
        _module_facts(module, args, task, item_context, found)


def _module(task: dict[str, Any]) -> tuple[str | None, Any]:
    """(module short name, its arguments) in any of the spellings."""
    action = task.get("action") or task.get("local_action")
    if isinstance(action, str):
        name, _, rest = action.strip().partition(" ")
        return _short(name), rest
    if isinstance(action, dict) and "module" in action:
        return _short(str(action["module"])), {k: v for k, v in action.items() if k != "module"}
    for key, value in task.items():
        if (
            key not in TASK_KEYWORDS
            and not key.startswith("with_")
            and key
            not in (
                "block",
                "rescue",
                "always",
            )
        ):
            return _short(key), value
    return None, None


def _short(name: str) -> str:
    """ansible.builtin.apt and community.general.supervisorctl are apt and supervisorctl."""
    return name.rsplit(".", 1)[-1]


def _loop(task: dict[str, Any]) -> Any:
    for key in ("loop", "with_items", "with_list", "with_flattened"):
        if key in task:
            return task[key]
    return None


def _arguments(module: str, args: Any, task: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(options, free form) whatever the spelling; `args:` merged in."""
    if isinstance(args, str) and module in COMMAND_MODULES:
        options, rest = {}, []  # `echo a=b` keeps its a=b: only the module's own options go
        for word in split_args(args):
            key, equals, option = word.partition("=")
            if equals and key in _COMMAND_OPTIONS:
                options[key] = option
            else:
                rest.append(word)
        free = " ".join(rest)
    elif isinstance(args, str):
        options, free = parse_kv(args)
    elif isinstance(args, dict):
        options, free = dict(args), str(args.get("cmd") or args.get("_raw_params") or "")
    else:
        options, free = {}, ""
    if isinstance(task.get("args"), dict):
        options.update(task["args"])
    return options, free


def _module_facts(
    module: str, args: Any, task: dict[str, Any], context: Context, found: Inventory
) -> None:
    source = _source(context, task)
    options, free = _arguments(module, args, task)
    value = context.resolver

    def text(*names: str) -> str | None:
        for name in names:
            if options.get(name) is not None:
                return value.text(options[name])
        return None

    def optional(*names: str) -> str | None:
        try:
            return text(*names)
        except Unresolved as error:
            found.warn(source, f"{_label(task)}: {names[0]} {_why(error)}: left out")
            return None

    state = optional("state") or ""
    if module in PACKAGE_MODULES:
        if state in _ABSENT:
            return
        for name in _names(value.value(options.get("name", options.get("pkg")))):
            found.system_packages.append(SystemPackage(name=name, source=source, manager="ansible"))
    elif module in ("pip", "easy_install"):
        _pip(options, value, source, context, found, state)
    elif module in ("user", *SERVICE_MODULES, *FILE_MODULES) and not (
        options.get("name") or options.get("dest") or options.get("path")
    ):
        found.warn(source, f"{_label(task)}: {module} without a name or path: left out")
    elif module == "user" and state not in _ABSENT:
        uid = optional("uid")
        found.users.append(
            User(
                name=value.text(options.get("name")),
                source=source,
                uid=int(uid) if uid and uid.isdigit() else None,
                home=optional("home"),
                shell=optional("shell"),
                manager="ansible",
            )
        )
    elif module in FILE_MODULES:
        _file(module, options, value, optional, source, context, found, state)
    elif module in SERVICE_MODULES:
        name = value.text(options.get("name")).removesuffix(".service")
        found.services.append(
            ServiceUnit(name=name, manager="ansible", source=source, ensure=state or None)
        )
    elif module == "cron" and state not in _ABSENT and options.get("job"):
        fields = ("minute", "hour", "day", "month", "weekday")
        schedule = " ".join(text(name) or "*" for name in fields)
        found.cron_jobs.append(
            CronJob(
                name=text("name") or str(task.get("name") or ""),
                schedule=(text("special_time") and f"@{text('special_time')}") or schedule,
                command=value.text(options["job"]),
                source=source,
                user=optional("user"),
                manager="ansible",
            )
        )
    elif module == "git" and options.get("repo"):
        version = optional("version")
        branch = f" --branch {version}" if version and version != "HEAD" else ""
        command = f"git clone{branch} {value.text(options.get('repo'))} {text('dest')}"
        _setup(found, command, source, context, None)
    elif module in COMMAND_MODULES:
        command = free or str(options.get("cmd") or "")
        if not command and isinstance(options.get("argv"), list):
            command = " ".join(str(word) for word in options["argv"])
        _setup(found, value.text(command), source, context, optional("chdir"))
    elif module == "django_manage":
        command = f"python manage.py {text('command')}"
        _setup(found, command, source, context, optional("project_path", "app_path"))
    elif module not in QUIET_MODULES:
        found.warn(source, f"ansible module {module} ({_label(task)}) is not inventoried")


def _pip(
    options: dict[str, Any],
    value: Resolver,
    source: str,
    context: Context,
    found: Inventory,
    state: str,
) -> None:
    if state in _ABSENT:
        return
    version = value.text(options["version"]) if options.get("version") else None
    for spec in _names(value.value(options.get("name"))):
        spec = f"{spec}=={version}" if version and not re.search(r"[<>=!~]", spec) else spec
        name = re.split(r"[<>=!~\[;\s]", spec, maxsplit=1)[0]
        found.dependencies.append(Dependency(name=name, spec=spec, source=source))
    if options.get("requirements"):
        venv = value.text(options["virtualenv"]) if options.get("virtualenv") else None
        pip = f"{venv}/bin/pip" if venv else "pip"
        command = f"{pip} install -r {value.text(options['requirements'])}"
        cwd = value.text(options["chdir"]) if options.get("chdir") else None
        _setup(found, command, source, context, cwd)


def _file(
    module: str,
    options: dict[str, Any],
    value: Resolver,
    optional: Callable[..., str | None],
    source: str,
    context: Context,
    found: Inventory,
    state: str,
) -> None:
    if state in _ABSENT:
        return
    path = value.text(options.get("dest") or options.get("path") or options.get("name"))
    kind = {"directory": "directory", "link": "link"}.get(state, "file")
    template = template_file = None
    if module in ("template", "copy") and options.get("src"):
        src = value.text(options["src"])
        folder = "templates" if module == "template" else "files"
        found_file = context.find_file(src, folder)
        if module == "template":
            template, template_file = src, found_file
        if found_file:
            context.unit_files.append((found_file, path, source))
    found.managed_files.append(
        ManagedFile(
            path=path,
            source=source,
            kind=kind,
            owner=optional("owner"),
            group=optional("group"),
            mode=optional("mode"),
            template=template,
            template_file=template_file,
            manager="ansible",
        )
    )


def _setup(found: Inventory, command: str, source: str, context: Context, cwd: str | None) -> None:
    if not command.strip():
        found.warn(source, "a command task without a command: left out")
        return
    found.setup_commands.append(
        SetupCommand(
            command=command.strip(),
            source=source,
            user=context.become_user,
            cwd=cwd,
            manager="ansible",
        )
    )


def _include(args: Any, context: Context, found: Inventory, task: dict[str, Any]) -> None:
    name = args.get("file") if isinstance(args, dict) else str(args or "").split()[0:1]
    name = name[0] if isinstance(name, list) and name else name
    if not name or context.depth > 8:
        return
    loaded = context.load_tasks(context.resolver.text(name), context.rel)
    if loaded is None:
        found.warn(_source(context, task), f"{_label(task)}: {name} not found or not a task list")
        return
    rel, tasks = loaded
    read_tasks(
        tasks, Context(**{**context.__dict__, "rel": rel, "depth": context.depth + 1}), found
    )


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value if item is not None]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _become(task: dict[str, Any], context: Context, found: Inventory) -> str | None:
    """The user the task runs as: its own become_user, else the play's or block's."""
    raw = task.get("become_user") or task.get("sudo_user")
    if raw is None:
        return context.become_user
    try:
        return context.resolver.text(raw)
    except Unresolved as error:
        found.warn(_source(context, task), f"{_label(task)}: become_user {_why(error)}: left out")
        return None


def _source(context: Context, task: dict[str, Any]) -> str:
    return at(context.rel, getattr(task, "line", 1))


def _label(task: dict[str, Any]) -> str:
    if task.get("name"):
        return f"task {task['name']!r}"
    module, _ = _module(task)
    return f"a {module} task" if module else "a task"


def _why(error: Unresolved) -> str:
    names = ", ".join(name for name in error.names if name)
    return f"{shown(error)} is only known to Ansible" + (f" ({names})" if names else "")
