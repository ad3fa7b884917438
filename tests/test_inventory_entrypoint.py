"""Start commands: Procfile, scripts, systemd units, and the server command-line parser."""

from pathlib import Path

import pytest

from kubestep.inventory import collect, commandline

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def test_procfile_web_process_and_port_from_env() -> None:
    inventory = collect(FIXTURES / "procfile-app")
    entry = inventory.entrypoint
    assert entry.app is not None and entry.app.value == "shop.wsgi:app"
    assert entry.server is not None and entry.server.value == "gunicorn"
    assert entry.port is not None and entry.port.env_var == "PORT"
    assert entry.workers is not None and entry.workers.value == 3
    assert [(p.name, p.command) for p in inventory.processes] == [
        ("worker", "python -m shop.worker")
    ]
    assert any(w.source == "Procfile:3" for w in inventory.warnings)


def test_uvicorn_script_with_variables_and_continuations() -> None:
    inventory = collect(FIXTURES / "fastapi-app")
    entry = inventory.entrypoint
    assert entry.app is not None and (entry.app.value, entry.app.kind) == ("api.main:app", "asgi")
    assert entry.port is not None and entry.port.value == 9000
    assert entry.workers is not None and entry.workers.value == 4
    assert entry.command is not None and entry.command.source == "start.sh:4"
    roles = {script.path: script.role for script in inventory.scripts}
    assert roles == {"start.sh": "start", "run_tests.sh": "test"}


def test_uwsgi_in_a_systemd_unit() -> None:
    inventory = collect(FIXTURES / "wsgi-app")
    entry = inventory.entrypoint
    assert entry.app is not None and entry.app.value == "hello:application"
    assert entry.port is not None and entry.port.value == 9090
    assert entry.workers is not None and entry.workers.value == 4
    (unit,) = inventory.services
    assert (unit.name, unit.user, unit.working_directory) == ("hello", "www-data", "/srv/hello")
    assert {e.name: e.value for e in inventory.environment} == {
        "HELLO_GREETING": "hi there",
        "HELLO_DEBUG": "0",
    }
    assert any(w.source == "deploy/hello.service:11" for w in inventory.warnings)


@pytest.mark.parametrize(
    ("line", "server", "app", "port", "workers"),
    [
        (
            'exec gunicorn -w "${WORKERS:-2}" -b 0.0.0.0:8080 a.web:application',
            "gunicorn",
            "a.web:application",
            8080,
            2,
        ),
        (
            "gunicorn -k uvicorn.workers.UvicornWorker -w4 -b :7000 api:app",
            "gunicorn",
            "api:app",
            7000,
            4,
        ),
        (
            "cd /srv && python3 -m gunicorn --bind=unix:/run/app.sock app:app",
            "gunicorn",
            "app:app",
            8000,
            None,
        ),
        ("python manage.py runserver 0.0.0.0:8001", "django-runserver", None, 8001, None),
        (
            "uwsgi --http :9090 --module shop.wsgi --processes 3 --master",
            "uwsgi",
            "shop.wsgi:application",
            9090,
            3,
        ),
        ("FLASK_APP=x flask run --port 5001", "flask", None, 5001, None),
        ("hypercorn -b 0.0.0.0:8443 -w 2 svc:app", "hypercorn", "svc:app", 8443, 2),
        ("waitress-serve --port=8081 svc:app", "waitress-serve", "svc:app", 8081, None),
    ],
)
def test_server_command_lines(
    line: str, server: str, app: str | None, port: int, workers: int | None
) -> None:
    command = commandline.parse(line)
    assert command is not None
    assert (command.server, command.app) == (server, app)
    assert command.port is not None and command.port.value == port
    assert (command.workers.value if command.workers else None) == workers


def test_not_a_server_and_broken_quotes() -> None:
    assert commandline.parse("python -m billing.server") is None
    with pytest.raises(ValueError, match="unbalanced quotes"):
        commandline.parse('gunicorn "app:app')
