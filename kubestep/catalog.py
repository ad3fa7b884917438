"""Backing services kubestep knows how to run next to an app: image, port, health, settings.

One entry per kind; compose files, local config and (later) Kubernetes bridges all read it,
so adding a kind here is all it takes. Each image can be overridden by its variable, because
air-gapped networks build or mirror their own.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BackingService:
    """How to run one kind of backing service locally."""

    kind: str
    image_variable: str
    default_image: str
    port: int
    healthcheck: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    data_path: str = ""
    # The INI keys an app uses for it, mapped to the value it has locally.
    local_settings: dict[str, str] = field(default_factory=dict)
    # How an app reaches it as one URL (DATABASE_URL=...), locally.
    local_url: str = ""


CATALOG: dict[str, BackingService] = {
    service.kind: service
    for service in (
        BackingService(
            kind="postgres",
            image_variable="POSTGRES_IMAGE",
            default_image="postgres:16",
            port=5432,
            healthcheck=["CMD-SHELL", 'pg_isready -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"'],
            environment={
                "POSTGRES_USER": "app",
                "POSTGRES_PASSWORD": "local-only-password",
                "POSTGRES_DB": "app",
            },
            data_path="/var/lib/postgresql/data",
            local_settings={
                "host": "postgres",
                "port": "5432",
                "user": "app",
                "password": "local-only-password",
                "name": "app",
                "dbname": "app",
                "database": "app",
            },
            local_url="postgresql://app:local-only-password@postgres:5432/app",
        ),
        BackingService(
            kind="mysql",
            image_variable="MYSQL_IMAGE",
            default_image="mysql:8.4",
            port=3306,
            healthcheck=["CMD-SHELL", "mysqladmin ping -h 127.0.0.1 --silent"],
            environment={
                "MYSQL_USER": "app",
                "MYSQL_PASSWORD": "local-only-password",
                "MYSQL_ROOT_PASSWORD": "local-only-root-password",
                "MYSQL_DATABASE": "app",
            },
            data_path="/var/lib/mysql",
            local_settings={
                "host": "mysql",
                "port": "3306",
                "user": "app",
                "password": "local-only-password",
                "name": "app",
                "database": "app",
            },
            local_url="mysql://app:local-only-password@mysql:3306/app",
        ),
        BackingService(
            kind="redis",
            image_variable="REDIS_IMAGE",
            default_image="redis:7",
            port=6379,
            healthcheck=["CMD", "redis-cli", "ping"],
            local_settings={"host": "redis", "port": "6379"},
            local_url="redis://redis:6379/0",
        ),
        BackingService(
            kind="memcached",
            image_variable="MEMCACHED_IMAGE",
            default_image="memcached:1.6",
            port=11211,
            healthcheck=[],
            local_settings={"host": "memcached", "port": "11211"},
            local_url="memcached://memcached:11211",
        ),
        BackingService(
            kind="rabbitmq",
            image_variable="RABBITMQ_IMAGE",
            default_image="rabbitmq:3.13",
            port=5672,
            healthcheck=["CMD", "rabbitmq-diagnostics", "-q", "ping"],
            local_settings={
                "host": "rabbitmq",
                "port": "5672",
                "user": "guest",
                "password": "guest",
            },
            local_url="amqp://guest:guest@rabbitmq:5672//",
        ),
    )
}


def backing_service(kind: str) -> BackingService:
    """The catalogue entry for kind; unknown kinds are a programming error upstream."""
    return CATALOG[kind]
