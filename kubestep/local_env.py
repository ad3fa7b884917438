"""config/local.env for a migrated service: every variable its code reads, wired for compose.

A variable that names a backing service (DATABASE_URL, REDIS_HOST, DB_PORT, ...) points at the
compose service in the form the code reads it: a URL for *_URL/*_URI/*_DSN, a host, port, user,
password or database name otherwise. Other variables keep the code's default. A variable the
code requires (read without a default) and that kubestep cannot wire gets a placeholder that
names itself, so the app fails on it with a clear line, never on an empty string. Secrets get
no value that looks real: local backing services use the catalog's `local-only-...` ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubestep.catalog import CATALOG
from kubestep.secrets import secret_key

# Words in a variable name -> the kinds of backing service it may name, in order of preference.
_SERVICE_WORDS: dict[str, tuple[str, ...]] = {
    "database": ("postgres", "mysql"),
    "db": ("postgres", "mysql"),
    "sql": ("postgres", "mysql"),
    "sqlalchemy": ("postgres", "mysql"),
    "pg": ("postgres",),
    "postgres": ("postgres",),
    "postgresql": ("postgres",),
    "psql": ("postgres",),
    "mysql": ("mysql",),
    "maria": ("mysql",),
    "redis": ("redis",),
    "redistogo": ("redis",),
    "cache": ("redis", "memcached"),
    "broker": ("rabbitmq", "redis"),
    "celery": ("redis", "rabbitmq"),
    "result": ("redis",),
    "memcache": ("memcached",),
    "memcached": ("memcached",),
    "rabbit": ("rabbitmq",),
    "rabbitmq": ("rabbitmq",),
    "amqp": ("rabbitmq",),
}
_URL_SUFFIXES = ("url", "uri", "dsn", "backend", "location")
# The last word of a name -> the local setting of the service it stands for.
_PART_SETTINGS = {
    "host": "host",
    "hostname": "host",
    "server": "host",
    "port": "port",
    "user": "user",
    "username": "user",
    "password": "password",
    "pass": "password",
    "name": "name",
    "db": "name",
    "database": "name",
    "dbname": "name",
}
# A switch that sends the app's logs to stdout instead of files (LOG_TO_STDOUT, LOGS_STDOUT).
_STDOUT_SWITCH = re.compile(r"^LOGS?_(TO_)?STD_?OUT$|^LOG_STDOUT$")
PLACEHOLDER = "REQUIRED-set-{name}-in-config/local.env"


@dataclass(frozen=True)
class Entry:
    name: str
    value: str | None  # None: left commented out, the code copes without it
    why: str
    required: bool = False
    # A required value kubestep cannot tell: the user must set it (the value is PLACEHOLDER).
    unset: bool = False


def _kind_for(words: list[str], present: list[str]) -> str | None:
    for word in words:
        for kind in _SERVICE_WORDS.get(word, ()):
            if kind in present:
                return kind
    return None


def _wiring(name: str, present: list[str]) -> tuple[str, str] | None:
    """(kind, "url" or the local setting) of the backing service a variable reaches, or None."""
    words = [word for word in name.lower().split("_") if word]
    kind = _kind_for(words, present)
    if kind is None or not words:
        return None
    last = words[-1]
    if last in _URL_SUFFIXES or name.lower() in ("database_url", "redis_url"):
        return kind, "url"
    setting = _PART_SETTINGS.get(last)
    if setting and setting in CATALOG[kind].local_settings:
        return kind, setting
    return None


def backing_variables(
    env_vars: list[dict[str, Any]], backing_kinds: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per backing service kind, the variables the code reads that name where it is (a URL,
    a host or a port), as local_env wires them, each with the code's default."""
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in backing_kinds}
    seen: set[str] = set()
    for variable in env_vars:
        name = str(variable.get("name", ""))
        wired = _wiring(name, backing_kinds) if name not in seen else None
        seen.add(name)
        if wired is not None and wired[1] in ("url", "host", "port"):
            found[wired[0]].append(
                {"name": name, "part": wired[1], "default": variable.get("default")}
            )
    return found


def _backing_value(name: str, default: Any, present: list[str]) -> tuple[str, str] | None:
    """(value, why) for a variable that reaches a backing service, or None."""
    wired = _wiring(name, present)
    if wired is None:
        return None
    kind, setting = wired
    service = CATALOG[kind]
    if setting == "url":
        url = service.local_url
        scheme = str(default).split("://", 1)[0] if "://" in str(default or "") else ""
        if (
            scheme
            and kind in ("postgres", "mysql")
            and scheme.split("+")[0]
            in (
                "postgres",
                "postgresql",
                "mysql",
            )
        ):
            url = scheme + "://" + url.split("://", 1)[1]  # the driver the code names
        return url, f"the compose service {kind}, as a URL"
    return service.local_settings[setting], f"the compose service {kind}: its {setting}"


def local_env(env_vars: list[dict[str, Any]], backing_kinds: list[str]) -> list[Entry]:
    """One entry per variable the code reads, in the order the inventory found them."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for variable in env_vars:
        name = str(variable.get("name", ""))
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or name in seen:
            continue
        seen.add(name)
        default = variable.get("default")
        required = bool(variable.get("required"))
        where = variable.get("source", "?")
        wired = _backing_value(name, default, backing_kinds)
        if _STDOUT_SWITCH.match(name) and default in (None, "", False, "0", "false", "False"):
            why = f"logs go to stdout in a container, whose root is read-only (read at {where})"
            entries.append(Entry(name, "1", why))
        elif wired is not None:
            entries.append(Entry(name, wired[0], f"{wired[1]} (read at {where})", required))
        elif secret_key(name):
            value = f"local-only-{name.lower().replace('_', '-')}" if required else None
            why = (
                "a secret: a local-only value"
                if required
                else "a secret: the code's default applies"
                if default is not None
                else "a secret, optional"
            )
            entries.append(Entry(name, value, f"{why} (read at {where})", required))
        elif isinstance(default, str):
            entries.append(Entry(name, default, f"the code's default (read at {where})"))
        elif default is not None:  # os.environ.get("DEBUG", False): the string "False" differs
            entries.append(
                Entry(name, None, f"the code's default is {default!r} (read at {where})")
            )
        elif required:
            entries.append(
                Entry(
                    name,
                    PLACEHOLDER.format(name=name),
                    f"required, no default (read at {where}): set it",
                    True,
                    unset=True,
                )
            )
        else:
            entries.append(Entry(name, None, f"optional, no default (read at {where})"))
    return entries
