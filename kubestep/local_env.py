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
from kubestep.inventory.backing_services import SCHEMES, url_scheme
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
    "databases": ("postgres", "mysql"),
    "caches": ("redis", "memcached"),
    "mongo": ("mongodb",),
    "mongodb": ("mongodb",),
    "elasticsearch": ("elasticsearch",),
    "elastic": ("elasticsearch",),
    "es": ("elasticsearch",),
    "opensearch": ("elasticsearch",),
}
_URL_SUFFIXES = ("url", "uri", "dsn", "backend", "location", "urls", "hosts")
# A URL default's scheme -> the kind of service it reaches.
# Django's database engines, for SQL_ENGINE-like variables.
_ENGINES = {"postgres": "django.db.backends.postgresql", "mysql": "django.db.backends.mysql"}
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
            if kind in present and kind in CATALOG:
                return kind
    return None


def _words(name: str) -> list[str]:
    return [word for word in re.split(r"[_.\W]+", name.lower()) if word]


# libpq's own variables (psycopg and asyncpg read them too).
_LIBPQ = {"pghost": "host", "pgport": "port", "pguser": "user", "pgpassword": "password"}
_LIBPQ["pgdatabase"] = "name"


def _wiring(
    name: str, present: list[str], default: Any = None, feeds: str | None = None
) -> tuple[str, str] | None:
    """(kind, "url", "engine" or the local setting) of the backing service a variable reaches,
    from its name's words, else its URL default's scheme, else the setting it feeds."""
    if name.lower() in _LIBPQ and "postgres" in present:
        return "postgres", _LIBPQ[name.lower()]
    for label in filter(None, (name, feeds)):
        words = _words(label)
        kind = _kind_for(words, present)
        by_scheme = SCHEMES.get(url_scheme(default))
        if by_scheme in present and by_scheme in CATALOG and (kind is None or label == name):
            kind = by_scheme  # os.environ.get("QUEUE", "redis://localhost") is Redis
        if kind is None or not words:
            continue
        last = words[-1]
        if last in _URL_SUFFIXES or url_scheme(default) or label.lower() in _WHOLE_URLS:
            return kind, "url"
        if last == "engine" or str(default or "").startswith("django.db.backends."):
            return (kind, "engine") if kind in _ENGINES else None
        setting = _PART_SETTINGS.get(last)
        if setting and setting in CATALOG[kind].local_settings:
            return kind, setting
    return None


_WHOLE_URLS = ("database_url", "redis_url")


def backing_variables(
    env_vars: list[dict[str, Any]], backing_kinds: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per backing service kind, the variables the code reads that name where it is (a URL,
    a host or a port), as local_env wires them, each with the code's default."""
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in backing_kinds}
    seen: set[str] = set()
    for variable in env_vars:
        name = str(variable.get("name", ""))
        wired = (
            _wiring(name, backing_kinds, variable.get("default"), variable.get("feeds"))
            if name not in seen
            else None
        )
        seen.add(name)
        if wired is not None and wired[1] in ("url", "host", "port"):
            found[wired[0]].append(
                {"name": name, "part": wired[1], "default": variable.get("default")}
            )
    return found


def _backing_value(
    name: str, default: Any, present: list[str], feeds: str | None = None, sample: str = ""
) -> tuple[str, str] | None:
    """(value, why) for a variable that reaches a backing service, or None. A URL keeps the
    scheme the repo gives it (the code's default, else the repo's own environment for it:
    tortoise-orm knows `postgres://`, not `postgresql://`)."""
    wired = _wiring(name, present, default, feeds)
    if wired is None:
        return None
    kind, setting = wired
    service = CATALOG[kind]
    if setting == "engine":
        return _ENGINES[kind], f"the compose service {kind}: its Django engine"
    if setting == "url":
        url = service.local_url
        given = default if "://" in str(default or "") else sample
        scheme = str(given).split("://", 1)[0] if "://" in str(given or "") else ""
        if scheme and SCHEMES.get(url_scheme(given)) == kind and kind in ("postgres", "mysql"):
            url = scheme + "://" + url.split("://", 1)[1]  # the driver the code names
        return url, f"the compose service {kind}, as a URL"
    return service.local_settings[setting], f"the compose service {kind}: its {setting}"


_LOCAL_CLASS = re.compile(r"(^|[^a-z])(dev|development|local)([^a-z]|$)")


def _selected_class(choices: list[str]) -> str | None:
    """The one config class meant for a local run (DevelopmentConfig, LocalConfig), if any."""
    words = [re.sub(r"([a-z])([A-Z])", r"\1_\2", c.rsplit(".", 1)[-1]).lower() for c in choices]
    local = [c for c, w in zip(choices, words, strict=True) if _LOCAL_CLASS.search(w)]
    return local[0] if len(local) == 1 else None


def local_env(
    env_vars: list[dict[str, Any]],
    backing_kinds: list[str],
    samples: dict[str, str] | None = None,
) -> list[Entry]:
    """One entry per variable the code reads, in the order the inventory found them; samples
    are the values the repo's own environment gives them (its compose file, its units)."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for variable in env_vars:
        name = str(variable.get("name", ""))
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) and name not in seen:
            seen.add(name)
            entries.append(_entry(name, variable, backing_kinds, (samples or {}).get(name, "")))
    return entries


def _entry(
    name: str, variable: dict[str, Any], backing_kinds: list[str], sample: str = ""
) -> Entry:
    default = variable.get("default")
    required = bool(variable.get("required"))
    where = f"read at {variable.get('source', '?')}"
    choices = [str(choice) for choice in variable.get("choices") or []]
    example = variable.get("example") or {}
    if choices and example.get("value") not in choices:
        example = {}  # a selector's sample must name one of its classes
    selected = _selected_class(choices) if default is None and not example else None
    sample = sample or str((variable.get("example") or {}).get("value") or "")
    wired = _backing_value(name, default, backing_kinds, variable.get("feeds"), sample)
    if _STDOUT_SWITCH.match(name) and default in (None, "", False, "0", "false", "False"):
        why = "logs go to stdout in a container, whose root is read-only"
        return Entry(name, "1", f"{why} ({where})")
    if selected is not None:
        why = f"the config class for a local run, among {', '.join(choices)}"
        return Entry(name, selected, f"{why} ({where})", required)
    if wired is not None:
        return Entry(name, wired[0], f"{wired[1]} ({where})", required)
    if secret_key(name):
        # Django refuses an empty SECRET_KEY, Flask's sessions need one: a local run gets one.
        signs = str(variable.get("feeds") or "").rsplit(".", 1)[-1] == "SECRET_KEY"
        return _secret(name, default, required or (signs and default is None), where)
    if isinstance(default, str):
        return Entry(name, default, f"the code's default ({where})")
    if (required or choices) and default is None and example.get("value"):
        why = f"the repo's sample for development, {example.get('source')}"
        return Entry(name, str(example["value"]), f"{why} ({where})", required)
    if required and str(variable.get("feeds") or "").endswith("ALLOWED_HOSTS"):
        # Django answers 400 to a host it does not allow; "*" needs no separator.
        why = "Django's ALLOWED_HOSTS: any host, for a local run"
        return Entry(name, "*", f"{why} ({where})", required)
    if default is not None:  # os.environ.get("DEBUG", False): the string "False" differs
        return Entry(name, None, f"the code's default is {default!r} ({where})")
    if required:
        among = f" to one of {', '.join(choices)}" if choices else ""
        why = f"required, no default ({where}): set it{among}"
        return Entry(name, PLACEHOLDER.format(name=name), why, True, unset=True)
    return Entry(name, None, f"optional, no default ({where})")


def _secret(name: str, default: Any, required: bool, where: str) -> Entry:
    """A secret gets a local-only value when the code needs one, never one that looks real."""
    if required:
        value = f"local-only-{name.lower().replace('_', '-')}"
        return Entry(name, value, f"a secret: a local-only value ({where})", True)
    if default is not None:
        return Entry(name, None, f"a secret: the code's default applies ({where})")
    return Entry(name, None, f"a secret, optional ({where})")
