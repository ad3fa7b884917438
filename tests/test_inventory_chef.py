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


def test_berksfile_cookbooks_are_vendored_and_node_values_never_facts(tmp_path: Path) -> None:
    (tmp_path / "Berksfile").write_text(
        "source 'https://supermarket.chef.io'\ncookbook 'nginx', '~> 12.0'\n"
        "cookbook 'shop', path: 'cookbooks/shop'\n"
    )
    nginx = tmp_path / "cookbooks" / "nginx" / "recipes"
    nginx.mkdir(parents=True)
    (nginx / "default.rb").write_text("package 'nginx'\nservice 'nginx' do\n  action :start\nend\n")
    shop = tmp_path / "cookbooks" / "shop" / "recipes"
    shop.mkdir(parents=True)
    (shop / "default.rb").write_text(
        "package 'libpq5'\n"
        "execute 'migrate' do\n"
        "  command \"#{node['shop']['venv']}/bin/python -m shop.migrate\"\nend\n"
        "user 'shop' do\n  home node['shop']['home']\n  uid 900\nend\n"
    )
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    inventory = collect(tmp_path)
    assert [p.name for p in inventory.system_packages] == ["libpq5"]
    assert inventory.services == [] and inventory.setup_commands == []
    (user,) = inventory.users
    assert (user.name, user.uid, user.home) == ("shop", 900, None)
    messages = [w.message for w in inventory.warnings]
    assert any("cookbook nginx (listed in Berksfile:2)" in m for m in messages)
    assert any("command" in m and "node['shop']['venv']" in m for m in messages)
