"""Puppet manifests: resources, variables, templates, and broken manifests."""

from pathlib import Path

from kubestep.inventory import collect, puppet_parser

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def _puppet(items: list) -> list:  # type: ignore[type-arg]
    return [item for item in items if item.manager == "puppet"]


def test_resources_with_class_parameters_resolved() -> None:
    inventory = collect(FIXTURES / "ops")
    assert inventory.service is not None and inventory.service.name == "billing"
    packages = [p.name for p in _puppet(inventory.system_packages)]
    assert packages == ["python3", "libmysqlclient21", "rabbitmq-server"]
    (user,) = _puppet(inventory.users)
    assert (user.name, user.uid, user.home, user.shell) == (
        "billing",
        991,
        "/opt/billing",
        "/usr/sbin/nologin",
    )
    config, logs, run = _puppet(inventory.managed_files)
    assert config.path == "/opt/billing/etc/billing.ini"  # "${home}/..." interpolated
    assert (config.owner, config.mode, config.template) == (
        "billing",
        "0640",
        "billing/billing.ini.erb",
    )
    assert config.template_file == "puppet/templates/billing.ini.erb"
    assert (logs.kind, run.path) == ("directory", "/var/run/billing")  # ';' bodies
    (service,) = _puppet(inventory.services)
    assert (service.name, service.ensure) == ("billing", "running")  # inside an if
    (job,) = _puppet(inventory.cron_jobs)
    assert (job.schedule, job.user) == ("30 2 * * *", "billing")
    (setup,) = _puppet(inventory.setup_commands)
    assert setup.cwd == "/opt/billing"
    assert any(
        "mount" in w.message and w.source == "puppet/manifests/init.pp:54"
        for w in inventory.warnings
    )


def test_broken_resource_is_skipped_and_the_rest_is_read() -> None:
    inventory = collect(FIXTURES / "broken")
    assert [p.name for p in inventory.system_packages] == ["curl", "wget"]
    messages = {w.source: w.message for w in inventory.warnings}
    assert "expected '=>'" in messages["puppet/bad.pp:5"]
    assert "unterminated string" in messages["puppet/unterminated.pp:2"]


def test_unbalanced_braces_are_reported() -> None:
    manifest = puppet_parser.parse("class x {\n  package { 'a': }\n")
    assert [error.line for error in manifest.errors] == [1]
    assert [r.title for r in manifest.resources] == ["a"]
