"""Legacy cron entries as Kubernetes CronJobs: the same schedule and command, in the image
the service runs, with its config, one job at a time.

One entry the inventory saw in several places (the crontab, Puppet, Chef) is one CronJob.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from kubestep.jinja_ext import k8s_slug

_REDIRECT = re.compile(r"\s*(\d?>>?|&>)\s*\S+(\s+2>&1)?\s*$")
_CD = re.compile(r"^cd\s+\S+\s*&&\s*")
_VENV = re.compile(r"^(\S*/)?venv/bin/")


@dataclass(frozen=True)
class CronEntry:
    """One legacy cron job as it runs in the container."""

    name: str
    schedule: str
    command: list[str]
    original: str
    sources: tuple[str, ...]


def container_command(command: str) -> str:
    """The cron command as the image runs it: in its work dir, with its Python, output to
    the log (stdout) instead of a file."""
    text = _REDIRECT.sub("", command.strip())
    text = _CD.sub("", text)
    return _VENV.sub("", text)


def _what(command: str) -> str:
    """What a command runs, as a name: `python -m app.purge` -> purge, `./backup.sh | gzip` ->
    backup."""
    words = re.split(r"[|;&]", command)[0].split()
    program = words[-1].rsplit("/", 1)[-1] if words else ""
    program = re.sub(r"\.(sh|py|pl|rb)$", "", program)
    return program.rsplit(".", 1)[-1]


def _name(service: str, entry: dict[str, Any], command: str) -> str:
    given = str(entry.get("name") or "").strip()
    name = k8s_slug(given) if given else ""
    if not name or name == service:
        what = _what(command)
        name = k8s_slug(f"{service}-{what}") if what else f"{service}-cron"
    if not name.startswith(service):
        name = k8s_slug(f"{service}-{name}")
    return name[:52].rstrip("-")


def entries(cron_jobs: list[dict[str, Any]], service: str) -> list[CronEntry]:
    """The distinct cron entries, each with every place it was found."""
    found: dict[tuple[str, str], CronEntry] = {}
    for entry in cron_jobs:
        schedule = str(entry.get("schedule", "")).strip()
        command = container_command(str(entry.get("command", "")))
        if not schedule or not command or schedule.startswith("@reboot"):
            continue
        key = (schedule, command)
        source = str(entry.get("source", "?"))
        if key in found:
            old = found[key]
            # A named entry (Puppet's `cron { 'legacy-app-purge': }`) names the CronJob.
            name = old.name if old.name != f"{service}-cron" else _name(service, entry, command)
            found[key] = CronEntry(
                name, schedule, old.command, old.original, (*old.sources, source)
            )
        else:
            found[key] = CronEntry(
                _name(service, entry, command),
                schedule,
                ["sh", "-c", command] if _needs_shell(command) else shlex.split(command),
                str(entry.get("command")),
                (source,),
            )
    names: set[str] = set()
    result = []
    for cron in found.values():
        name, n = cron.name, 2
        while name in names:
            name, n = f"{cron.name[:49]}-{n}", n + 1
        names.add(name)
        result.append(CronEntry(name, cron.schedule, cron.command, cron.original, cron.sources))
    return result


def _needs_shell(command: str) -> bool:
    return any(char in command for char in "|&;<>$`*?")
