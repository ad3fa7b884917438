"""Chef recipes: resources, node attributes, heredocs, and a resource without `end`."""

from pathlib import Path

from kubestep.inventory import collect

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def _chef(items: list) -> list:  # type: ignore[type-arg]
    return [item for item in items if item.manager == "chef"]


def test_recipe_resources_with_node_attributes() -> None:
    inventory = collect(FIXTURES / "ops")
    assert [p.name for p in _chef(inventory.system_packages)] == [
        "python3",
        "libmysqlclient21",
        "memcached",
    ]
    (user,) = _chef(inventory.users)
    assert (user.name, user.uid, user.shell) == ("billing", 991, "/bin/false")
    config, logs = _chef(inventory.managed_files)
    assert (config.path, config.owner, config.mode) == (
        "/etc/billing/billing.ini",
        "billing",
        "0640",
    )
    assert config.template_file == "chef/templates/default/billing.ini.erb"
    assert logs.kind == "directory"  # nested in an if
    (service,) = _chef(inventory.services)
    assert service.ensure == "enable, start"
    (job,) = _chef(inventory.cron_jobs)
    assert (job.name, job.schedule) == ("billing-invoices", "30 2 * * *")
    (setup,) = _chef(inventory.setup_commands)
    assert setup.command == "/opt/billing/venv/bin/python -m billing.migrate"


def test_resource_without_end_is_a_warning() -> None:
    inventory = collect(FIXTURES / "broken")
    assert any(
        w.source == "chef/recipes/default.rb:1" and "end" in w.message for w in inventory.warnings
    )
