"""Backing services (postgres, mysql, redis, memcached, rabbitmq, ...) from every other fact.

No single file says "this service needs Postgres"; a client library, a [database] section with
host and port, a libpq package and a check_pgsql each hint at it. Each service is listed once
with all its evidence, and linked to the INI section that configures it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kubestep.inventory.model import BackingService, ConfigKey, Evidence, Inventory
from kubestep.inventory.tree import SourceTree

LIBRARIES = {
    "postgres": {
        "psycopg2",
        "psycopg2-binary",
        "psycopg",
        "psycopg-binary",
        "asyncpg",
        "pg8000",
        "aiopg",
    },
    "mysql": {"mysqlclient", "pymysql", "mysql-connector-python", "aiomysql", "mysql-python"},
    "redis": {"redis", "hiredis", "aioredis", "redis-py-cluster", "django-redis"},
    "memcached": {"pymemcache", "python-memcached", "pylibmc", "python3-memcached"},
    "rabbitmq": {"pika", "aio-pika", "amqp", "librabbitmq", "kombu"},
    "mongodb": {"pymongo", "motor", "mongoengine"},
    "elasticsearch": {"elasticsearch", "elasticsearch-dsl"},
}
PACKAGES = {
    "postgres": re.compile(r"^(postgresql.*|libpq.*|pgbouncer)$"),
    "mysql": re.compile(r"^(mysql-.*|mariadb-.*|libmysqlclient.*|default-libmysqlclient.*)$"),
    "redis": re.compile(r"^redis(-server|-tools)?$"),
    "memcached": re.compile(r"^(memcached|libmemcached.*)$"),
    "rabbitmq": re.compile(r"^rabbitmq-server$"),
    "mongodb": re.compile(r"^mongodb.*$"),
}
PORTS = {
    5432: "postgres",
    3306: "mysql",
    6379: "redis",
    11211: "memcached",
    5672: "rabbitmq",
    27017: "mongodb",
    9200: "elasticsearch",
}
SCHEMES = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "redis": "redis",
    "rediss": "redis",
    "memcache": "memcached",
    "amqp": "rabbitmq",
    "amqps": "rabbitmq",
    "mongodb": "mongodb",
}
SECTION_WORDS = {
    "postgres": "postgres",
    "pg": "postgres",
    "psql": "postgres",
    "mysql": "mysql",
    "maria": "mysql",
    "redis": "redis",
    "memcache": "memcached",
    "rabbit": "rabbitmq",
    "amqp": "rabbitmq",
    "broker": "rabbitmq",
    "mongo": "mongodb",
    "elastic": "elasticsearch",
}
# Generic section names: the kind comes from whichever client library is installed.
GENERIC_SECTIONS = {
    "database": ("postgres", "mysql"),
    "db": ("postgres", "mysql"),
    "cache": ("redis", "memcached"),
    "queue": ("rabbitmq", "redis"),
}
CONNECTION_KEYS = {"host", "hostname", "port", "url", "uri", "dsn", "server", "servers"}


def read(tree: SourceTree, found: Inventory) -> Inventory:
    services: dict[str, BackingService] = {}

    def note(kind: str, value: str, source: str) -> None:
        service = services.setdefault(kind, BackingService(kind=kind, source=source))
        service.evidence.append(Evidence(value=value, source=source))

    for dependency in found.dependencies:
        for kind, names in LIBRARIES.items():
            if dependency.name in names and dependency.scope == "runtime":
                note(kind, dependency.spec, dependency.source)
    for package in found.system_packages:
        for kind, pattern in PACKAGES.items():
            if pattern.match(package.name):
                note(kind, f"package {package.name}", package.source)
    for check in found.checks:
        if check.port in PORTS and check.kind == "tcp":
            note(PORTS[check.port], f"check {check.name}", check.source)
        elif check.command and (plugin_kind := _kind_of_plugin(check.command)):
            note(plugin_kind, f"check {check.name}", check.source)
    _link_sections(found, services, note)
    result = Inventory()
    result.backing_services.extend(services.values())
    return result


def _kind_of_plugin(command: str) -> str | None:
    match = re.search(r"check_(pgsql|postgres|mysql|redis|memcached|rabbitmq)", command)
    if match is None:
        return None
    name = match.group(1)
    return {"pgsql": "postgres", "postgres": "postgres"}.get(name, name)


def _link_sections(
    found: Inventory, services: dict[str, BackingService], note: Callable[[str, str, str], None]
) -> None:
    """Attach each INI section that holds connection keys to the service it configures."""
    sections: dict[str, list[ConfigKey]] = {}
    for key in found.config.keys:
        sections.setdefault(key.section, []).append(key)
    for section, keys in sections.items():
        names = {key.key.lower() for key in keys}
        if not names & CONNECTION_KEYS:
            continue
        kind = _kind_of_section(section, keys, services)
        if kind is None:
            continue
        first = keys[0]
        note(kind, f"[{section}] {', '.join(sorted(names & CONNECTION_KEYS))}", first.source)
        if services[kind].config_section is None:
            services[kind].config_section = section


def _kind_of_section(
    section: str, keys: list[ConfigKey], services: dict[str, BackingService]
) -> str | None:
    lowered = section.lower()
    for word, kind in SECTION_WORDS.items():
        if word in lowered:
            return kind
    for key in keys:
        for value in (key.default, key.example_value):
            if key.key.lower() == "port" and str(value).isdigit() and int(value) in PORTS:
                return PORTS[int(value)]
            scheme = str(value).split("://", 1)[0].lower() if "://" in str(value) else None
            if scheme in SCHEMES:
                return SCHEMES[scheme]
    for kind in GENERIC_SECTIONS.get(lowered, ()):
        if kind in services:
            return kind
    return None
