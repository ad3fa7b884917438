"""Backing services kubestep knows how to run next to an app: image, port, health, settings.

One entry per kind; compose files, local config and (later) Kubernetes bridges all read it,
so adding a kind here is all it takes. Each image can be overridden by its variable, because
air-gapped networks build or mirror their own; where Debian packages the server, `inv
local-images` builds one (kubestep/images/NAME) that takes the official image's variables.
Each healthcheck works with the official image and with the local one.
"""

from dataclasses import dataclass, field

LOCAL_IMAGE_PREFIX = "kubestep-local/"


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
    # The image `inv local-images` builds from Debian packages; "" where Debian has none.
    local_image: str = ""

    @property
    def local_image_name(self) -> str:
        """The local image's name for build-local-images.sh and kubestep/images/ ('' if none)."""
        return self.local_image.removeprefix(LOCAL_IMAGE_PREFIX).split(":")[0]


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
            local_image="kubestep-local/postgres:15",
        ),
        BackingService(
            kind="mysql",
            image_variable="MYSQL_IMAGE",
            default_image="mysql:8.4",
            port=3306,
            # Over TCP: both images' set-up servers listen on a socket only. As the app's user:
            # MariaDB logs every "Access denied" of an anonymous ping.
            healthcheck=[
                "CMD-SHELL",
                'mysqladmin ping -h 127.0.0.1 -u "$$MYSQL_USER" --password="$$MYSQL_PASSWORD"'
                " --silent",
            ],
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
            local_image="kubestep-local/mariadb:10.11",
        ),
        BackingService(
            kind="redis",
            image_variable="REDIS_IMAGE",
            default_image="redis:7",
            port=6379,
            healthcheck=["CMD", "redis-cli", "ping"],
            local_settings={"host": "redis", "port": "6379"},
            local_url="redis://redis:6379/0",
            local_image="kubestep-local/redis:7",
        ),
        BackingService(
            kind="memcached",
            image_variable="MEMCACHED_IMAGE",
            default_image="memcached:1.6",
            port=11211,
            # The memcached protocol's own `version`; both images have bash, neither a client.
            healthcheck=[
                "CMD",
                "bash",
                "-c",
                r'exec 3<>/dev/tcp/127.0.0.1/11211 && printf "version\r\n" >&3'
                r" && read -r -t 2 reply <&3 && [[ $$reply == VERSION* ]]",
            ],
            local_settings={"host": "memcached", "port": "11211"},
            local_url="memcached://memcached:11211",
            local_image="kubestep-local/memcached:1.6",
        ),
        BackingService(
            kind="rabbitmq",
            image_variable="RABBITMQ_IMAGE",
            default_image="rabbitmq:3.13",
            port=5672,
            # The AMQP listener opens once users and vhosts exist. A connect and close is not
            # logged (an AMQP header without a handshake is, three lines a check), and costs
            # nothing, where `rabbitmq-diagnostics ping` starts an Erlang VM every time.
            healthcheck=["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5672"],
            local_settings={
                "host": "rabbitmq",
                "port": "5672",
                "user": "guest",
                "password": "guest",
            },
            local_url="amqp://guest:guest@rabbitmq:5672//",
            local_image="kubestep-local/rabbitmq:3.10",
        ),
        # Neither Elasticsearch nor MongoDB is packaged by Debian: no local image.
        BackingService(
            kind="elasticsearch",
            image_variable="ELASTICSEARCH_IMAGE",
            default_image="docker.elastic.co/elasticsearch/elasticsearch:8.13.4",
            port=9200,
            healthcheck=[
                "CMD-SHELL",
                "curl -fsS 'http://127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=2s'"
                " >/dev/null",
            ],
            # One node, plain HTTP, no password, a heap for a laptop (the default is half the RAM).
            environment={
                "discovery.type": "single-node",
                "xpack.security.enabled": "false",
                "ES_JAVA_OPTS": "-Xms512m -Xmx512m",
            },
            local_settings={"host": "elasticsearch", "port": "9200"},
            local_url="http://elasticsearch:9200",
        ),
        BackingService(
            kind="mongodb",
            image_variable="MONGODB_IMAGE",
            default_image="mongo:7",
            port=27017,
            # mongod listens once it takes clients; without MONGO_INITDB_* or init scripts, the
            # image starts no set-up server on that port. mongosh would start Node.js each time.
            healthcheck=["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/27017"],
            local_settings={
                "host": "mongodb",
                "port": "27017",
                "name": "app",
                "database": "app",
                "dbname": "app",
            },
            local_url="mongodb://mongodb:27017/app",
        ),
    )
}


def backing_service(kind: str) -> BackingService:
    """The catalogue entry for kind; unknown kinds are a programming error upstream."""
    return CATALOG[kind]


def local_images() -> dict[str, str]:
    """Image variable -> the image `inv local-images` builds for it, for every kind it can."""
    return {s.image_variable: s.local_image for s in CATALOG.values() if s.local_image}
