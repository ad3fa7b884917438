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


def _everything(inventory: object) -> str:
    import yaml

    return yaml.safe_dump(inventory.to_dict())  # type: ignore[attr-defined]


def test_vendored_modules_and_baselines_are_left_out() -> None:
    inventory = collect(FIXTURES / "puppet-vendored")
    assert inventory.service is not None and inventory.service.name == "notes"
    assert [p.name for p in inventory.system_packages] == ["python3-venv", "libpq5"]
    assert [(u.name, u.uid, u.home) for u in inventory.users] == [("notes", 2001, "/srv/notes")]
    # not nginx, sudo, ntp, postgresql: theirs
    assert [s.name for s in inventory.services] == ["notes", "notes-worker"]
    paths = [f.path for f in inventory.managed_files]
    assert paths[:2] == ["/etc/notes/notes.ini", "/srv/notes/.secret"]
    (setup,) = inventory.setup_commands
    assert "pip install -r /srv/notes/requirements.txt" in setup.command
    assert inventory.cron_jobs == []  # its hour is a lookup(): no schedule is invented
    messages = {w.source: w.message for w in inventory.warnings}
    vendored = next(m for m in messages.values() if "vendored code left out" in m)
    for module in ("apt (Puppetfile:3)", "stdlib (Puppetfile:4)", "nginx (Puppetfile:5)"):
        assert module in vendored
    assert "sudo (.gitmodules modules/sudo)" in vendored
    baseline = next(m for m in messages.values() if "no sign that it deploys" in m)
    assert "class profile::base" in baseline and "node db1.example.invalid" in baseline
    assert "nginx module's" in messages["site/profile/manifests/notes.pp:57"]
    assert "lookup('notes::vacuum_hour')" in messages["site/profile/manifests/notes.pp:61"]


def test_unit_and_supervisor_templates_give_start_commands() -> None:
    inventory = collect(FIXTURES / "puppet-vendored")
    web, worker = inventory.services
    assert (web.manager, web.user, web.working_directory, web.ensure) == (
        "puppet",
        "notes",
        "/srv/notes",
        "running",
    )
    assert web.command == "/srv/notes/venv/bin/gunicorn -b 0.0.0.0:8020 notes.wsgi:application"
    assert web.source == "site/profile/templates/notes.service.erb:12"
    assert [(e.name, e.value) for e in inventory.environment] == [("NOTES_PORT", "8020")]
    assert (worker.user, worker.command) == ("notes", None)  # scope['...queue'] is unknown
    messages = {w.source: w.message for w in inventory.warnings}
    assert (
        "<%= scope['profile::notes::queue'] %>"
        in messages["site/profile/templates/notes-worker.conf.erb:2"]
    )


def test_no_parser_object_or_unresolved_value_reaches_the_inventory() -> None:
    text = _everything(collect(FIXTURES / "puppet-vendored"))
    for leak in ("Call(", "Unresolved(", "$facts", "${::", "$::", "${listen}", "lookup("):
        facts_part = text.split("warnings:")[0]
        assert leak not in facts_part, leak


def test_forge_checksums_and_another_author_mean_vendored(tmp_path: Path) -> None:
    own = tmp_path / "modules" / "shop" / "manifests"
    own.mkdir(parents=True)
    (own / "init.pp").write_text("class shop {\n  service { 'shop': ensure => running }\n}\n")
    (own.parent / "metadata.json").write_text('{"name": "acme-shop", "author": "acme"}')
    other = tmp_path / "modules" / "redis" / "manifests"
    other.mkdir(parents=True)
    (other / "init.pp").write_text("class redis {\n  package { 'redis-server': }\n}\n")
    (other.parent / "metadata.json").write_text('{"name": "someone-redis", "author": "someone"}')
    forge = tmp_path / "modules" / "ntp" / "manifests"
    forge.mkdir(parents=True)
    (forge / "init.pp").write_text("class ntp {\n  package { 'ntp': }\n}\n")
    (forge.parent / "checksums.json").write_text("{}")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    inventory = collect(tmp_path)
    assert [s.name for s in inventory.services] == ["shop"]
    assert inventory.system_packages == []
    (warning,) = [w for w in inventory.warnings if "vendored" in w.message]
    assert "module redis (its metadata names the author someone)" in warning.message
    assert "module ntp (installed from the Forge: modules/ntp/checksums.json)" in warning.message


def test_two_unrelated_classes_are_a_question_not_a_guess(tmp_path: Path) -> None:
    (tmp_path / "a.pp").write_text("class alpha {\n  package { 'a': }\n}\n")
    (tmp_path / "b.pp").write_text("class beta {\n  package { 'b': }\n}\n")
    inventory = collect(tmp_path)
    assert inventory.system_packages == []
    (warning,) = [w for w in inventory.warnings if "cannot tell" in w.message]
    assert "module alpha" in warning.message and "module beta" in warning.message


def test_facts_lookups_and_expressions_are_unresolved() -> None:
    manifest = puppet_parser.parse(
        "class x ($a = lookup('k'), $b = $facts['os']['family'] ? { default => 'y' }) {\n"
        "  $c = 'known'\n"
        '  file { "/etc/${c}": owner => "${::fqdn}", group => $b, mode => $a }\n'
        "}\n"
    )
    (resource,) = manifest.resources
    assert resource.title == "/etc/known"
    assert isinstance(resource.attributes["owner"], puppet_parser.Unresolved)
    assert isinstance(resource.attributes["group"], puppet_parser.Unresolved)
    assert isinstance(resource.attributes["mode"], puppet_parser.Call)
    assert resource.block is not None and resource.block.label == "class x"


def test_fixtures_yml_modules_are_vendored_and_known_titles_kept(tmp_path: Path) -> None:
    (tmp_path / ".fixtures.yml").write_text(
        "fixtures:\n  forge_modules:\n    stdlib: puppetlabs/stdlib\n"
        "  repositories:\n    firewall: https://git.example.invalid/firewall.git\n"
        "  symlinks:\n    shop: '#{source_dir}'\n"
    )
    for module, body in (
        ("shop", "package { ['libpq5', $facts['extra']]: }\n  service { 'shop': }"),
        ("stdlib", "package { 'ruby': }"),
        ("firewall", "package { 'iptables': }"),
    ):
        manifests = tmp_path / "modules" / module / "manifests"
        manifests.mkdir(parents=True)
        (manifests / "init.pp").write_text(f"class {module} {{\n  {body}\n}}\n")
    inventory = collect(tmp_path)
    assert [p.name for p in inventory.system_packages] == ["libpq5"]
    messages = [w.message for w in inventory.warnings]
    assert any("module firewall (.fixtures.yml repositories)" in m for m in messages)
    assert any("module stdlib (.fixtures.yml forge_modules)" in m for m in messages)
    assert any("$facts[extra] only known to Puppet" in m for m in messages)
