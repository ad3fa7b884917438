"""cron.d files and crontabs in the repo: each job's schedule, user and command.

Every cron job becomes a Kubernetes CronJob, so its exact schedule and command matter more
than how it was installed.
"""

from __future__ import annotations

import re

from kubestep.inventory.model import CronJob, EnvVar, Inventory
from kubestep.inventory.tree import SourceTree, at

PATTERNS = ("*.cron", "*.crontab", "crontab", "cron.d/*", "crontabs/*")
# Numbers, ranges, steps and lists, or three-letter month and weekday names.
_FIELD = re.compile(r"^[\d*/,\-?LW#]+$|^[A-Za-z]{3}([-,][A-Za-z]{3})*$")
_ENV = re.compile(r"^([A-Za-z_]\w*)\s*=\s*(.*)$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*\$?$")
_NICKNAMES = {
    "@reboot",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
}


def read(tree: SourceTree, found: Inventory) -> Inventory:
    return tree.per_file(tree.matching(*PATTERNS), parse)


def has_user_field(rel: str) -> bool:
    """cron.d files (and /etc/crontab) name the user; per-user crontabs do not."""
    name = rel.rsplit("/", 1)[-1]
    return not (name == "crontab" or name.endswith(".crontab") or "crontabs/" in rel)


def parse(rel: str, text: str) -> Inventory:
    found = Inventory()
    stem = re.sub(r"\.(cron|crontab)$", "", rel.rsplit("/", 1)[-1])
    with_user = has_user_field(rel)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        env = _ENV.match(line)
        if env and not line.startswith("@"):
            found.environment.append(EnvVar(name=env[1], value=env[2], source=at(rel, number)))
            continue
        job = parse_line(line, with_user)
        if isinstance(job, str):
            found.warn(at(rel, number), job)
            continue
        schedule, user, command = job
        count = len(found.cron_jobs) + 1
        found.cron_jobs.append(
            CronJob(
                name=stem if count == 1 else f"{stem}-{count}",
                schedule=schedule,
                user=user,
                command=command,
                source=at(rel, number),
                manager="cron",
            )
        )
    return found


def parse_line(line: str, with_user: bool) -> tuple[str, str | None, str] | str:
    """(schedule, user, command) of one crontab line, or why it is not one."""
    words = line.split()
    width = 1 if words[0] in _NICKNAMES else 5
    if words[0].startswith("@") and width == 5:
        return f"unknown cron nickname {words[0]!r}"
    schedule = words[:width]
    if len(words) <= width or not (width == 1 or all(_FIELD.match(item) for item in schedule)):
        return f"not a cron line (schedule, {'user, ' if with_user else ''}command): {line!r}"
    rest = words[width:]
    user = None
    if with_user and len(rest) > 1 and _USER.match(rest[0]):
        user, rest = rest[0], rest[1:]
    command = line.split(None, width + (1 if user else 0))[-1]
    return " ".join(schedule), user, command
