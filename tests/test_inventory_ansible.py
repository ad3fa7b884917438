"""Ansible playbooks and roles: tasks as facts, variables, unit templates, scope, bad YAML."""

from pathlib import Path

import yaml

from kubestep.inventory import collect
from kubestep.inventory.ansible_vars import Resolver, Unresolved, parse_kv

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"
ROLE = "roles/tasks_api"


def test_role_tasks_become_facts_with_variables_resolved() -> None:
    inventory = collect(FIXTURES / "ansible-roles")
    assert inventory.service is not None and inventory.service.name == "tasks-api"
    assert [p.name for p in inventory.system_packages] == ["libpq5", "python3-venv", "git"]
    assert {p.manager for p in inventory.system_packages} == {"ansible"}
    (user,) = inventory.users
    assert (user.name, user.uid, user.home) == ("tasks", 2100, "/srv/tasks")  # group_vars/all
    config = next(f for f in inventory.managed_files if f.path == "/etc/tasks/tasks.ini")
    assert (config.owner, config.mode, config.template_file) == (
        "tasks",
        "0640",
        f"{ROLE}/templates/tasks.ini.j2",
    )
    assert any(f.path == "/etc/logrotate.d/tasks" for f in inventory.managed_files)  # included
    (job,) = inventory.cron_jobs
    assert (job.schedule, job.user, job.command) == (
        "*/10 * * * *",
        "tasks",
        "/srv/tasks/venv/bin/python -m tasks_api.purge",
    )
    commands = {c.command: c for c in inventory.setup_commands}
    migrate = commands["/srv/tasks/venv/bin/python -m tasks_api.migrate"]
    assert (migrate.user, migrate.cwd, migrate.source) == (
        "tasks",
        "/srv/tasks",
        f"{ROLE}/tasks/main.yml:38",
    )
    assert (
        "git clone --branch v1.4 https://git.example.invalid/tasks-api.git /srv/tasks/src"
        in commands
    )
    assert "/srv/tasks/venv/bin/pip install -r /srv/tasks/src/requirements.txt" in commands
    pip = [d for d in inventory.dependencies if d.source.startswith(ROLE)]
    assert [(d.name, d.spec) for d in pip] == [("gunicorn", "gunicorn==23.0.0")]


def test_unit_template_gives_the_service_its_start_command() -> None:
    inventory = collect(FIXTURES / "ansible-roles")
    (service,) = inventory.services
    assert service.manager == "ansible"
    assert service.command == (
        "/srv/tasks/venv/bin/gunicorn -b 0.0.0.0:8010 -w 3 tasks_api.wsgi:application"
    )  # app_port from the role's invocation, workers from the play, venv from vars/
    assert (service.user, service.working_directory) == ("tasks", "/srv/tasks")
    assert service.source == f"{ROLE}/templates/tasks-api.service.j2:11"


def test_galaxy_roles_and_baselines_do_not_reach_the_facts() -> None:
    inventory = collect(FIXTURES / "ansible-roles")
    names = {p.name for p in inventory.system_packages} | {s.name for s in inventory.services}
    assert not names & {"nginx", "redis-server", "postgresql-15", "vim", "ntp"}
    assert [u.name for u in inventory.users] == ["tasks"]
    warnings = [w.message for w in inventory.warnings]
    vendored = next(m for m in warnings if "vendored code left out" in m)
    assert "role geerlingguy.nginx (listed in requirements.yml:3)" in vendored
    assert "role redis (listed in requirements.yml:5)" in vendored
    assert "role postgres (installed by ansible-galaxy" in vendored
    assert any("left out: role common" in m for m in warnings)


def test_unresolved_values_are_warnings_never_facts() -> None:
    inventory = collect(FIXTURES / "ansible-roles")
    data = inventory.to_dict()
    data.pop("warnings")
    data.pop("config")  # the INI reader sees the .j2 example as it is written
    assert "{{" not in yaml.safe_dump(data)
    messages = {w.source: w.message for w in inventory.warnings}
    assert "{{ ansible_hostname }}" in messages[f"{ROLE}/tasks/main.yml:43"]


def test_broken_yaml_is_a_warning_with_its_line() -> None:
    inventory = collect(FIXTURES / "ansible-roles")
    messages = {w.source: w.message for w in inventory.warnings}
    assert messages["broken-playbook.yml:5"].startswith("YAML: ")
    assert messages[f"{ROLE}/tasks/broken.yml:3"].startswith("YAML: ")
    assert not any("reader failed" in m for m in messages.values())


def test_short_and_dict_forms_loops_and_fqcn(tmp_path: Path) -> None:
    (tmp_path / "deploy.yml").write_text(
        "- hosts: web\n"
        "  become_user: shop\n"
        "  vars: {pkgs: [libpq5, libjpeg62], home: /opt/shop}\n"
        "  tasks:\n"
        "    - action: apt pkg={{ item }} state=present\n"
        "      with_items: '{{ pkgs }}'\n"
        "    - ansible.builtin.yum: {name: 'gcc,make'}\n"
        "    - apt: name=old state=absent\n"
        "    - block:\n"
        "        - shell: FOO=1 ./manage.py migrate chdir={{ home }}\n"
        "    - community.general.supervisorctl: name=shop state=started\n"
        "    - ansible.builtin.copy:\n"
        "        src: shop.service\n"
        "        dest: /etc/systemd/system/shop.service\n"
        "    - mount: path=/data\n"
        "    - apt: name=nginx\n"
        "    - service: name=nginx state=started\n"
    )
    (tmp_path / "shop.service").write_text(
        "[Service]\nUser=shop\nExecStart={{ home }}/bin/gunicorn shop.wsgi\n"
    )
    inventory = collect(tmp_path)
    ansible_packages = [p.name for p in inventory.system_packages if p.manager == "ansible"]
    assert ansible_packages == ["libpq5", "libjpeg62", "gcc", "make", "nginx"]
    (setup,) = inventory.setup_commands
    assert (setup.command, setup.cwd, setup.user) == (
        "FOO=1 ./manage.py migrate",
        "/opt/shop",
        "shop",
    )
    services = {s.name: s for s in inventory.services if s.manager == "ansible"}
    assert services["shop"].command == "/opt/shop/bin/gunicorn shop.wsgi"  # copied unit, rendered
    assert "nginx" not in services  # the daemon of a package it installs, not the service
    assert any("daemon of the package nginx" in w.message for w in inventory.warnings)
    assert any("module mount" in w.message for w in inventory.warnings)


def test_odd_shapes_are_warnings_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "site.yml").write_text(
        "- hosts: all\n"
        "  tasks: just text\n"
        "- hosts: web\n"
        "  roles: [{role: app, vars: 3}, 7, null]\n"
        "  tasks:\n"
        "    - plain string task\n"
        "    - {name: no module}\n"
        "    - apt: [a, b]\n"
        "    - user: {}\n"
        "    - cron: {job: '{{ nope }}'}\n"
        "    - loop: '{{ unknown_list }}'\n"
        "      apt: name={{ item }}\n"
        "    - include_tasks: missing.yml\n"
        "    - shell: {}\n"
        "    - template: {src: nope.j2, dest: /etc/x.service}\n"
    )
    tasks = tmp_path / "roles" / "app" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text("{not: a list}\n")
    (tmp_path / "roles" / "app" / "meta").mkdir()
    (tmp_path / "roles" / "app" / "meta" / "main.yml").write_text("galaxy_info: [1]\n")
    inventory = collect(tmp_path)
    assert not any("reader failed" in w.message for w in inventory.warnings)
    assert not any("could not be read" in w.message for w in inventory.warnings)
    assert any("{{ unknown_list }}" in w.message for w in inventory.warnings)
    assert inventory.users == [] and inventory.setup_commands == []  # no nameless facts


def test_resolver_keeps_what_it_cannot_know() -> None:
    resolver = Resolver({"a": "/srv", "b": "{{ a }}/app", "n": [1, 2]})
    assert resolver.value("{{ b }}/bin") == "/srv/app/bin"
    assert resolver.value("{{ n }}") == [1, 2]
    assert resolver.value("{{ missing | default('x') }}") == "x"
    for text in ("{{ ansible_facts.hostname }}", "{{ a | to_nice_json }}", "{{ b.c }}"):
        try:
            resolver.value(text)
        except Unresolved:
            continue
        raise AssertionError(f"{text} resolved")
    assert parse_kv("name={{ item }} dest='/a b' x") == (
        {"name": "{{ item }}", "dest": "/a b"},
        "x",
    )


def test_another_galaxy_author_is_vendored(tmp_path: Path) -> None:
    for role, author, tasks in (
        ("shop", "acme", "- service: name=shop state=started\n"),
        ("java", "someone", "- apt: name=openjdk-17-jre\n"),
        ("base", "your name", "- apt: name=vim\n"),
    ):
        (tmp_path / "roles" / role / "tasks").mkdir(parents=True)
        (tmp_path / "roles" / role / "tasks" / "main.yml").write_text(tasks)
        (tmp_path / "roles" / role / "meta").mkdir()
        (tmp_path / "roles" / role / "meta" / "main.yml").write_text(
            f"galaxy_info:\n  author: {author}\n"
        )
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    inventory = collect(tmp_path)
    assert [s.name for s in inventory.services] == ["shop"] and inventory.system_packages == []
    messages = [w.message for w in inventory.warnings]
    assert any("role java (its metadata names the author someone)" in m for m in messages)
    assert any("no sign that it deploys the service, left out: role base" in m for m in messages)


def test_a_repo_that_is_a_role_with_an_unreferenced_unit_template(tmp_path: Path) -> None:
    root = tmp_path / "ansible-role-feeds"
    (root / "tasks").mkdir(parents=True)
    (root / "tasks" / "main.yml").write_text("- apt: name=libxml2\n")
    (root / "defaults").mkdir()
    (root / "defaults" / "main.yml").write_text("feeds_home: /opt/feeds\n")
    (root / "templates").mkdir()
    (root / "templates" / "feeds-web.service.j2").write_text(
        "[Service]\nExecStart={{ feeds_home }}/bin/uwsgi --http :9000 --module feeds.wsgi\n"
    )
    inventory = collect(root)
    (service,) = inventory.services
    assert (service.name, service.manager) == ("feeds-web", "ansible")
    assert service.command == "/opt/feeds/bin/uwsgi --http :9000 --module feeds.wsgi"
    assert service.source == "templates/feeds-web.service.j2:2"
    assert [p.name for p in inventory.system_packages] == ["libxml2"]


def test_ini_inventory_vars_from_ansible_cfg_name_the_copied_unit(tmp_path: Path) -> None:
    (tmp_path / "ansible.cfg").write_text("[defaults]\ninventory = ./.hosts\n")
    (tmp_path / ".hosts").write_text(
        "[web]\n10.0.0.1\n\n[web:vars]\nremote_home=/home/deploy  # the deploy user\n"
        "app_name=greeter\n"
    )
    (tmp_path / "deploy.yml").write_text(
        "- hosts: web\n"
        "  tasks:\n"
        "    - copy: src=unit.service dest=/etc/systemd/system/{{ app_name }}.service\n"
        "    - systemd: name={{ app_name }}.service state=restarted\n"
    )
    (tmp_path / "unit.service").write_text(
        "[Service]\nWorkingDirectory={{ remote_home }}/{{ app_name }}\n"
        "ExecStart={{ remote_home }}/env/bin/gunicorn --bind 0.0.0.0:8000 wsgi:app\n"
    )
    inventory = collect(tmp_path)
    (service,) = [s for s in inventory.services if s.manager == "ansible"]
    assert (service.name, service.ensure) == ("greeter", "restarted")
    assert service.command == "/home/deploy/env/bin/gunicorn --bind 0.0.0.0:8000 wsgi:app"
    assert (service.working_directory, service.source) == ("/home/deploy/greeter", "unit.service:3")
