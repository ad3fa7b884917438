"""Backing services (postgres, mysql, redis, memcached, rabbitmq, ...) from every other fact.

No single file says "this service needs Postgres"; a client library, a [database] section with
host and port, a libpq package and a check_pgsql each hint at it. Each service is listed once
with all its evidence, and linked to the INI section that configures it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

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
    "mariadb": "mysql",
    "memcached": "memcached",
    "pymemcache": "memcached",
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

    runtime = {d.name: d for d in found.dependencies if d.scope == "runtime"}
    imported = {item.value for item in found.imports}
    for dependency in runtime.values():
        for kind, names in LIBRARIES.items():
            if dependency.name in names and not _only_carried(dependency.name, runtime, imported):
                note(kind, dependency.spec, dependency.source)
    for url, source in _service_urls(found):
        note(SCHEMES[url_scheme(url)], f"URL {_without_password(url)}", source)
    for record in found.container_files:
        for image in record.images:
            if image_kind := _kind_of_image(image.value):
                note(image_kind, f"compose image {image.value}", image.source)
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
    celery = runtime.get("celery")
    if celery is not None and re.search(r"\[[^]]*\bredis\b", celery.spec):
        note("redis", celery.spec, celery.source)
    elif celery is not None and not {"rabbitmq", "redis"} & set(services):
        # No broker URL anywhere: Celery's own default broker, amqp://guest@localhost//.
        note("rabbitmq", f"{celery.spec}: Celery's default broker", celery.source)
    result = Inventory()
    result.backing_services.extend(services.values())
    return result


# Packages that others bring along: in a frozen requirements file they say nothing of what the
# app uses (kombu and amqp come with Celery whatever its broker is).
CARRIED_BY = {
    "kombu": {"celery"},
    "amqp": {"celery", "kombu"},
    "librabbitmq": {"celery"},
}
_IMAGES = {
    "postgres": "postgres",
    "postgis": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "redis": "redis",
    "memcached": "memcached",
    "rabbitmq": "rabbitmq",
    "mongo": "mongodb",
    "elasticsearch": "elasticsearch",
}


def _only_carried(name: str, runtime: Mapping[str, object], imported: set[str]) -> bool:
    """Whether a dependency is only there because another one brings it (and the code never
    imports it itself)."""
    carriers = CARRIED_BY.get(name, set())
    return bool(carriers & set(runtime)) and name.replace("-", "_") not in imported


def url_scheme(value: object) -> str:
    """The scheme of a URL without its driver (`postgresql+psycopg://` -> postgresql), or ''."""
    text = str(value or "")
    return text.split("://", 1)[0].split("+", 1)[0].lower() if "://" in text else ""


def _service_urls(found: Inventory) -> list[tuple[str, str]]:
    """Backing-service URLs the app is configured with: its code's defaults and literals, and
    the values its own container files and deployments set."""
    urls = [(str(v.default), v.source) for v in found.config.env_vars if v.default]
    urls += [(str(v.value), v.source) for v in found.environment if v.value]
    urls += [(item.value, item.source) for item in found.service_urls]
    return [(url, source) for url, source in urls if "://" in url and url_scheme(url) in SCHEMES]


def _without_password(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def _kind_of_image(image: str) -> str | None:
    """The backing service a compose image runs (`postgres:13-alpine`, `bitnami/redis`)."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0].lower()
    return _IMAGES.get(name) or _IMAGES.get(name.split("-", 1)[0])


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
