"""The start, port and requirements decisions on fixtures of the shapes real repos have."""

from pathlib import Path

import pytest

from kubestep import decide
from kubestep.answers import answers_from_inventory
from kubestep.inventory import collect
from tests.legacy_repo import write_tree

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def legacy(name: str, user: dict[str, object] | None = None) -> dict:  # type: ignore[type-arg]
    answers = answers_from_inventory(collect(FIXTURES / name).to_dict(), 2, user)
    return {"port": answers["port"], **answers["legacy"]}


def test_an_existing_dockerfile_entrypoint_script_is_the_start_and_its_knowledge_is_read() -> None:
    found = legacy("container-app")
    assert found["start_argv"] == ["./boot.sh"]
    assert found["start"]["source"] == "boot.sh:7"
    assert "Dockerfile" in found["start"]["reason"]
    assert found["port"] == 5000  # boot.sh binds :5000, the Dockerfile EXPOSEs it
    assert found["system_packages"] == ["curl", "libpq5"]  # the final stage only
    inventory = collect(FIXTURES / "container-app")
    assert {(e.name, e.value) for e in inventory.environment} >= {("APP_MODE", "production")}
    (dockerfile,) = [f for f in inventory.container_files if f.kind == "dockerfile"]
    assert (dockerfile.base_image, dockerfile.exposes, dockerfile.user) == (
        "python:3.9-slim",
        [5000],
        "shop",
    )


def test_requirements_follow_a_single_include_and_old_pins_get_build_packages() -> None:
    found = legacy("container-app")
    assert found["requirements"] == "requirements/base.txt"
    assert found["requirements_files"] == ["requirements/base.txt"]
    assert found["build_packages"]["build"] == ["gcc", "libpq-dev", "python3-dev"]
    assert found["build_packages"]["runtime"] == ["libpq5"]


def test_a_procfile_shell_line_runs_under_sh_with_the_server_execd() -> None:
    found = legacy("procfile-shell")
    assert found["start_argv"] == [
        "/bin/sh",
        "-c",
        "cd src; exec waitress-serve --port=$PORT site.wsgi:application",
    ]  # collectstatic went to the image build (test_decide_processes)
    assert found["port"] == 8080  # waitress's default, set as $PORT in the image
    inventory = collect(FIXTURES / "procfile-shell")
    assert [(p.name, p.command) for p in inventory.processes] == [
        ("release", "cd src && python manage.py migrate --noinput"),
        ("worker", "celery -A site worker -l info"),
    ]


def test_an_upstart_job_with_a_gunicorn_config_bound_to_loopback() -> None:
    found = legacy("upstart-gunicorn")
    command = "gunicorn -c deploy/gunicorn_config.py ledger.web:app --bind 0.0.0.0:${PORT}"
    assert found["start_argv"] == ["/bin/sh", "-c", f"exec {command}"]
    assert found["port"] == 9000  # from the config's bind
    assert any("loopback" in change for change in found["start_changes"])
    assert found["requirements_kind"] == "packages"  # Poetry: an app, installed by name
    assert found["pip_specs"] == ["flask>=2.3,<3.0", "gunicorn>=21.2,<22.0"]


def test_supervisor_running_uwsgi_with_an_ini_that_speaks_only_the_uwsgi_protocol() -> None:
    found = legacy("supervisor-uwsgi")
    assert found["start_argv"] == [
        "/bin/sh",
        "-c",
        "exec uwsgi --ini deploy/uwsgi.ini --http-socket :${PORT}",
    ]
    assert found["app"] == "app.wsgi:application"
    assert (found["requirements_kind"], found["pip_specs"]) == (
        "pipfile",
        ["flask==2.3.3", "uwsgi", "rq==1.15.1"],
    )
    assert "gcc" in found["build_packages"]["build"]  # uwsgi has no wheel


def test_two_equally_sure_web_commands_ask_naming_both() -> None:
    found = legacy("two-servers")
    assert found["start_argv"] == []
    question = found["start"]["question"]
    assert "--set start_command=" in question
    assert "uvicorn api.main:app" in question and "gunicorn admin.wsgi:app" in question
    answered = legacy("two-servers", {"start_command": "gunicorn admin.wsgi:app -b :8002"})
    assert answered["start_argv"] == ["gunicorn", "admin.wsgi:app", "-b", ":8002"]
    assert answered["port"] == 8002


def test_a_repo_without_a_web_process_has_no_start() -> None:
    found = legacy("no-web")
    assert found["start_argv"] == [] and found["run_command"] == ""
    assert "no command in the repo starts a web server" in found["start"]["question"]


@pytest.mark.parametrize(
    ("command", "server", "expected"),
    [
        ("poetry run uvicorn app:app", "uvicorn", "uvicorn app:app --host 0.0.0.0"),
        ("gunicorn -b localhost:8000 app:app", "gunicorn", "gunicorn -b 0.0.0.0:8000 app:app"),
        (
            "gunicorn --bind unix:/run/a.sock a:app",
            "gunicorn",
            "gunicorn --bind 0.0.0.0:${PORT} a:app",
        ),
        (
            "python manage.py runserver",
            "django-runserver",
            "python manage.py runserver 0.0.0.0:${PORT}",
        ),
        ("flask run", "flask", "flask run --host 0.0.0.0"),
        ("uvicorn a:app --reload --host 0.0.0.0", "uvicorn", "uvicorn a:app --host 0.0.0.0"),
        (
            "gunicorn --access-logfile /var/log/g/access.log a:app",
            "gunicorn",
            "gunicorn --access-logfile - a:app",
        ),
        ("uwsgi --http :80 --logto /srv/a/log/u.log", "uwsgi", "uwsgi --http :80"),
        (
            "uwsgi --http :80 --home /srv/webapps/app/venv --wsgi-file wsgi.py",
            "uwsgi",
            "uwsgi --http :80 --home /opt/venv --wsgi-file wsgi.py",
        ),
        ("uwsgi --http :80 -H /opt/venv", "uwsgi", "uwsgi --http :80 -H /opt/venv"),
        ("daphne -b 0.0.0.0 -p 8000 a.asgi:app", "daphne", "daphne -b 0.0.0.0 -p 8000 a.asgi:app"),
    ],
)
def test_container_commands_bind_every_interface(command: str, server: str, expected: str) -> None:
    assert decide.container_command({"command": command, "server": server}) == expected


def test_a_script_that_only_works_on_the_old_box_runs_its_server_line() -> None:
    found = legacy("fastapi-app")  # start.sh: plain, container-safe
    assert found["start_argv"][-1].endswith("start.sh")
    example = answers_from_inventory(
        collect(Path(__file__).parents[1] / "examples" / "legacy-app").to_dict(), 2
    )["legacy"]
    assert example["start_argv"] == ["./run.sh"]  # its venv activation is guarded by a test


def test_a_reloading_server_yields_to_the_production_start_of_another_file(
    tmp_path: Path,
) -> None:
    # Measured shape: compose runs `uvicorn --reload` for development, Dockerfile.prod gunicorn.
    write_tree(
        tmp_path,
        {
            "project/requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.6\ngunicorn==23.0.0\n",
            "project/app/__init__.py": "",
            "project/app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            "project/Dockerfile.prod": "FROM python:3.12-slim\nWORKDIR /app\n"
            "CMD gunicorn --bind 0.0.0.0:$PORT app.main:app -k uvicorn.workers.UvicornWorker\n",
            "docker-compose.yml": "services:\n  web:\n    build: ./project\n"
            "    command: uvicorn app.main:app --reload --workers 1 --host 0.0.0.0 --port 8000\n",
        },
    )
    answers = answers_from_inventory(collect(tmp_path).to_dict(), 2, None)
    start = answers["legacy"]["start"]
    # It runs in project/, the folder Dockerfile.prod is built from (its code is there).
    assert answers["legacy"]["start_argv"][-1].startswith(
        "cd project && exec gunicorn --bind 0.0.0.0:$PORT"
    )
    assert "question" not in start or not start["question"]
    # Alone, the reloading server is still the start: the only web start the repo names.
    (tmp_path / "project" / "Dockerfile.prod").unlink()
    alone = answers_from_inventory(collect(tmp_path).to_dict(), 2, None)["legacy"]
    assert "uvicorn app.main:app" in alone["run_command"]
    assert "--reload" not in " ".join(alone["start_argv"])


def test_a_command_that_runs_the_serving_main_script_is_that_server_with_its_arguments(
    tmp_path: Path,
) -> None:
    # Measured shape: run.py's __main__ serves; the Dockerfile and a supervisor program run it
    # with --port, which a start of `python run.py` alone would drop.
    write_tree(
        tmp_path,
        {
            "requirements.txt": "tornado==6.4.1\n",
            "base/__init__.py": "def make_app(env):\n    raise NotImplementedError\n",
            "run.py": "import sys\nfrom base import make_app\n\napp = make_app('dev')\n\n"
            "if __name__ == '__main__':\n    app.run(int(sys.argv[1].split('=')[1]))\n",
            "Dockerfile": "FROM python:3.11\nWORKDIR /fund\nCOPY . .\nEXPOSE 80 8000\n"
            'CMD ["python", "./run.py", "--port=8000"]\n',
            "deploy/supervisor/api.ini": "[program:fund-8080]\n"
            "command=python3 run.py --port=8080\ndirectory=/srv/fund/\n",
        },
    )
    legacy = answers_from_inventory(collect(tmp_path).to_dict(), 2, None)["legacy"]
    assert legacy["start_argv"] == ["python", "./run.py", "--port=8000"]
    assert legacy["start"]["source"] == "Dockerfile:5"
    # The script's own --port names the port, although the Dockerfile exposes two.
    assert answers_from_inventory(collect(tmp_path).to_dict(), 2, None)["port"] == 8000


def test_a_dockerfile_beside_no_code_is_not_taken_for_its_build_context(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "requirements.txt": "gunicorn==23.0.0\nflask==3.1.0\n",
            "web.py": "from flask import Flask\n\napp = Flask(__name__)\n",
            "docker/Dockerfile": "FROM python:3.11\nCOPY . /app\nWORKDIR /app\n"
            'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "web:app"]\n',
        },
    )
    legacy = answers_from_inventory(collect(tmp_path).to_dict(), 2, None)["legacy"]
    assert legacy["start_argv"] == ["gunicorn", "--bind", "0.0.0.0:8000", "web:app"]
