"""Backing services derived from libraries, packages, checks and INI sections."""

from pathlib import Path

from kubestep.inventory import collect
from tests.legacy_repo import write_tree

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def test_services_with_evidence_and_config_section() -> None:
    inventory = collect(FIXTURES / "ops")
    services = {s.kind: s for s in inventory.backing_services}
    assert list(services) == ["mysql", "rabbitmq", "memcached"]  # dev-only psycopg2 ignored
    assert services["mysql"].config_section == "mysql"
    assert services["rabbitmq"].config_section == "rabbitmq"
    evidence = [e.value for e in services["rabbitmq"].evidence]
    assert evidence == [
        "pika==1.3.2",
        "URL amqp://localhost/",
        "package rabbitmq-server",
        "check rabbitmq port",
        "[rabbitmq] url",
    ]
    assert services["mysql"].source == "requirements.txt:1"


def test_generic_section_takes_the_kind_of_the_installed_client() -> None:
    inventory = collect(FIXTURES / "django_app")
    (postgres,) = inventory.backing_services
    assert postgres.kind == "postgres" and postgres.evidence[0].source == "requirements.txt:2"


# A frozen requirements file: celery drags kombu and amqp along whatever its broker is.
FROZEN_CELERY = "amqp==5.2.0\ncelery==5.3.6\nflask==3.0.3\nkombu==5.3.4\nredis==5.0.1\n"


def kinds(root: Path) -> dict[str, list[str]]:
    return {s.kind: [e.value for e in s.evidence] for s in collect(root).backing_services}


def test_a_broker_url_on_redis_means_no_rabbitmq(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "requirements.txt": FROZEN_CELERY,
            "shop/__init__.py": "",
            "shop/celery.py": "from celery import Celery\n",
            "shop/config.py": (
                "import os\n"
                "BROKER = os.environ.get('CELERY_BROKER_URL', 'redis://localhost:6379/0')\n"
            ),
        },
    )
    found = kinds(root)
    assert list(found) == ["redis"]
    assert "URL redis://localhost:6379/0" in found["redis"]
    assert {e.value for e in collect(root).imports} == {"celery"}  # shop/celery.py is celery's


def test_celery_without_a_broker_url_uses_its_default_broker(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"requirements.txt": "celery==5.3.6\nkombu==5.3.4\n"})
    assert kinds(root) == {"rabbitmq": ["celery==5.3.6: Celery's default broker"]}


def test_kombu_imported_by_the_code_is_the_apps_own_choice(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {"requirements.txt": FROZEN_CELERY, "jobs.py": "import kombu\nimport redis\n"},
    )
    assert list(kinds(root)) == ["rabbitmq", "redis"]


def test_celery_redis_extra_and_compose_images_name_the_service(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "requirements.txt": "celery[redis]==5.3.6\nasyncpg==0.29.0\n",
            "docker-compose.yml": (
                "services:\n  web:\n    build: .\n  db:\n    image: postgres:13-alpine\n"
                "  search:\n    image: docker.elastic.co/elasticsearch/elasticsearch:8.13.0\n"
            ),
        },
    )
    found = kinds(root)
    assert found["postgres"] == ["asyncpg==0.29.0", "compose image postgres:13-alpine"]
    assert found["elasticsearch"] == [
        "compose image docker.elastic.co/elasticsearch/elasticsearch:8.13.0"
    ]
    assert found["redis"] == ["celery[redis]==5.3.6"]
    assert "rabbitmq" not in found


def test_urls_from_the_apps_own_container_env_and_literals(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "requirements.txt": "flask==3.0.3\n",
            "app.py": "CACHE = 'memcached://cache:11211'\n",
            "docker-compose.yml": (
                "services:\n  web:\n    build: .\n    environment:\n"
                "      - DATABASE_URL=postgresql://db:5432/hello\n"
            ),
        },
    )
    found = kinds(root)
    assert found["postgres"] == ["URL postgresql://db:5432/hello"]
    assert found["memcached"] == ["URL memcached://cache:11211"]
