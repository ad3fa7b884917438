"""Backing services derived from libraries, packages, checks and INI sections."""

from pathlib import Path

from kubestep.inventory import collect

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
        "package rabbitmq-server",
        "check rabbitmq port",
        "[rabbitmq] url",
    ]
    assert services["mysql"].source == "requirements.txt:1"


def test_generic_section_takes_the_kind_of_the_installed_client() -> None:
    inventory = collect(FIXTURES / "django_app")
    (postgres,) = inventory.backing_services
    assert postgres.kind == "postgres" and postgres.evidence[0].source == "requirements.txt:2"
