"""The +1 step's decisions: WSGI or ASGI, which app object, which worker and packages, and the
variables each backing service's readiness check reads its address from."""

import os
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from kubestep.errors import StepError
from kubestep.inventory import collect
from kubestep.local_env import backing_variables, local_env
from kubestep.migrate import migrate
from kubestep.plus_one import (
    UVICORN,
    UVICORN_WORKER,
    UVICORN_WORKER_BEFORE_0_36,
    WEBSOCKETS,
    app_object,
    backing_addresses,
    interface,
    runtime_answers,
    server_requirements,
)
from tests.legacy_repo import GIT_IDENTITY, legacy_copy, write_tree

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def inventory_with(*dependencies: str, framework: str = "") -> dict[str, Any]:
    specs = [{"name": re.split(r"[\[=<>~!]", spec)[0], "spec": spec} for spec in dependencies]
    return {"dependencies": specs, "framework": {"value": framework} if framework else None}


@pytest.mark.parametrize(
    ("candidate", "framework", "app_kind", "expected"),
    [
        ({"server": "uvicorn", "kind": "asgi"}, "fastapi", None, "asgi"),
        ({"server": "daphne", "kind": "asgi"}, "django", None, "asgi"),
        ({"server": "gunicorn", "kind": "asgi"}, "fastapi", None, "asgi"),  # -k uvicorn...
        ({"server": "uvicorn.run"}, "fastapi", None, "asgi"),  # python main.py
        ({"server": "gunicorn", "kind": "wsgi"}, "django", None, "wsgi"),
        ({"server": "django-runserver", "kind": "wsgi"}, "django", None, "wsgi"),
        ({}, "flask", "wsgi", "wsgi"),
        ({}, "starlette", None, "asgi"),
    ],
)
def test_the_interface_is_what_the_repo_serves(
    candidate: dict[str, Any], framework: str, app_kind: str | None, expected: str
) -> None:
    kind, why = interface(candidate, inventory_with(framework=framework), app_kind)
    assert kind == expected and why


def test_runserver_with_channels_is_asgi() -> None:
    found = inventory_with("channels==3.0.4", framework="django")
    assert interface({"server": "django-runserver", "kind": "wsgi"}, found, None)[0] == "asgi"


def test_an_unknown_interface_stops_with_the_answer() -> None:
    with pytest.raises(StepError, match=r"--set start_command='uvicorn MODULE:APP'"):
        interface({}, inventory_with(), None)


def django_repo(tmp_path: Path, *modules: str) -> Path:
    (tmp_path / "site").mkdir()
    for module in modules:
        (tmp_path / "site" / f"{module}.py").write_text("application = None\n")
    return tmp_path


def test_django_runs_its_wsgi_or_asgi_module_as_its_server_does(tmp_path: Path) -> None:
    repo = django_repo(tmp_path, "wsgi", "asgi")
    # The code reader came across asgi.py first; gunicorn or runserver runs wsgi.py.
    assert app_object("site.asgi:application", False, "wsgi", repo, "")[0] == (
        "site.wsgi:application"
    )
    assert app_object("site.wsgi:application", False, "asgi", repo, "")[0] == (
        "site.asgi:application"
    )
    # A module the start command names is never swapped.
    assert app_object("site.asgi:application", True, "asgi", repo, "")[0] == (
        "site.asgi:application"
    )


def test_django_without_the_module_its_server_needs_stops(tmp_path: Path) -> None:
    repo = django_repo(tmp_path, "asgi")
    with pytest.raises(StepError, match=r"as WSGI, but only site\.asgi:application was found"):
        app_object("site.asgi:application", False, "wsgi", repo, "")
    with pytest.raises(StepError, match="cannot tell which app object"):
        app_object("", False, "wsgi", repo, "")


@pytest.mark.parametrize(
    ("dependencies", "expected"),
    [
        ((), [UVICORN_WORKER, UVICORN]),
        (("uvicorn[standard]==0.30.0",), [UVICORN_WORKER_BEFORE_0_36]),
        (("uvicorn==0.38.0",), [UVICORN_WORKER]),
        (("uvicorn>=0.20",), [UVICORN_WORKER]),  # pip resolves it to one the worker takes
        (("uvicorn>=0.18.2,<0.19.0",), [UVICORN_WORKER_BEFORE_0_36]),  # Poetry's ^0.18.2
        (("uvicorn~=0.29.0",), [UVICORN_WORKER_BEFORE_0_36]),
        (("uvicorn<0.36",), [UVICORN_WORKER_BEFORE_0_36]),
        (("uvicorn>=0.30,!=0.31.0",), [UVICORN_WORKER]),
        (("channels==3.0.4", "uvicorn==0.38.0"), [UVICORN_WORKER, WEBSOCKETS]),
    ],
)
def test_the_asgi_worker_fits_the_uvicorn_the_app_pins(
    dependencies: tuple[str, ...], expected: list[str]
) -> None:
    assert server_requirements("asgi", inventory_with(*dependencies)) == expected
    assert server_requirements("wsgi", inventory_with(*dependencies)) == []


ENV_VARS = [
    {"name": "DATABASE_URL", "default": "postgresql://app:pw@localhost:5432/app"},
    {"name": "DB_HOST", "default": "localhost"},
    {"name": "DB_PORT", "default": "5432"},
    {"name": "DB_PASSWORD"},
    {"name": "CELERY_BROKER_URL", "default": None},
    {"name": "REDIS_URL", "default": "redis://localhost:6379/0"},
    {"name": "SECRET_KEY"},
]


def test_each_service_reads_the_variables_local_env_wires_to_it() -> None:
    kinds = ["postgres", "redis"]
    variables = backing_variables(ENV_VARS, kinds)
    assert {kind: [(v["name"], v["part"]) for v in found] for kind, found in variables.items()} == {
        "postgres": [("DATABASE_URL", "url"), ("DB_HOST", "host"), ("DB_PORT", "port")],
        "redis": [("CELERY_BROKER_URL", "url"), ("REDIS_URL", "url")],
    }
    # The same decision as local.env's: every variable named here points at that service.
    wired = {entry.name: entry.value for entry in local_env(ENV_VARS, kinds)}
    assert wired["DATABASE_URL"] and "@postgres:5432/" in wired["DATABASE_URL"]
    assert (wired["DB_HOST"], wired["CELERY_BROKER_URL"]) == ("postgres", "redis://redis:6379/0")


def test_the_rendered_defaults_carry_no_credentials() -> None:
    found = {"config": {"env_vars": ENV_VARS}}
    services = [{"kind": "postgres", "section": ""}, {"kind": "redis", "section": ""}]
    postgres, redis = backing_addresses(found, services)
    assert (postgres["kind"], postgres["port"], redis["port"]) == ("postgres", 5432, 6379)
    assert postgres["variables"][0] == {
        "name": "DATABASE_URL",
        "part": "url",
        "default": "postgresql://localhost:5432/app",
    }


def test_the_fastapi_fixture_is_served_as_asgi_with_the_worker_its_uvicorn_takes() -> None:
    found = collect(FIXTURES / "fastapi-app").to_dict()
    runtime = runtime_answers(
        found, [{"kind": "redis", "section": ""}], {}, FIXTURES / "fastapi-app"
    )
    assert runtime["interface"] == "asgi"
    assert runtime["app"] == "api.main:app"
    assert runtime["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert runtime["requirements"] == [UVICORN_WORKER_BEFORE_0_36]  # it pins uvicorn 0.30
    assert runtime["backing"][0]["variables"] == [
        {"name": "REDIS_URL", "part": "url", "default": "redis://localhost:6379/0"}
    ]


def test_a_uvicorn_older_than_any_worker_stops_with_one_line() -> None:
    with pytest.raises(
        StepError, match=r"pins uvicorn==0\.13\.4 \(.*\): gunicorn's uvicorn worker"
    ):
        server_requirements("asgi", inventory_with("uvicorn==0.13.4"))


def test_a_websockets_older_than_the_workers_uvicorn_imports_stops_naming_the_pin() -> None:
    # Measured: websockets==8.1 beside a raised uvicorn, and no worker ever booted.
    found = inventory_with("channels==2.4.0", "uvicorn>=0.12", "websockets==8.1")
    found["dependencies"][2]["source"] = "requirements.txt:62"
    with pytest.raises(StepError) as stopped:
        server_requirements("asgi", found)
    assert str(stopped.value) == (
        "step +1: the app pins websockets==8.1 (requirements.txt:62): the uvicorn the worker "
        "needs imports websockets.datastructures and asks for 10.4; raise it to >=10.4, commit, "
        "and run the step again"
    )
    assert server_requirements("wsgi", found) == []


def test_a_gunicorn_older_than_the_runtime_reads_stops_with_one_line_naming_the_pin() -> None:
    # Measured: the image's gunicorn>=20.1 and the repo's gunicorn==20.0.4 did not resolve.
    found = inventory_with("gunicorn==20.0.4", "django==3.2.25")
    found["dependencies"][0]["source"] = "requirements.txt:24"
    for kind in ("wsgi", "asgi"):
        with pytest.raises(StepError) as stopped:
            server_requirements(kind, found)
        assert str(stopped.value).startswith(
            "step +1: the app pins gunicorn==20.0.4 (requirements.txt:24): the runtime starts"
        )
        assert str(stopped.value).endswith("raise it to >=20.1, commit, and run the step again")
    assert server_requirements("wsgi", inventory_with("gunicorn==20.1.0")) == []
    assert server_requirements("wsgi", inventory_with("gunicorn")) == []


def django_project(root: Path, web: str) -> Path:
    """A Django project with both entry modules, started by the Procfile line web."""
    (root / "mysite").mkdir(parents=True)
    (root / "mysite" / "__init__.py").write_text("")
    (root / "mysite" / "settings.py").write_text('SECRET_KEY = "x"\nROOT_URLCONF = "mysite.urls"\n')
    (root / "mysite" / "urls.py").write_text("urlpatterns = []\n")
    for kind in ("asgi", "wsgi"):
        (root / "mysite" / f"{kind}.py").write_text(
            "import os\n\n"
            f"from django.core.{kind} import get_{kind}_application\n\n"
            'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n'
            f"application = get_{kind}_application()\n"
        )
    (root / "manage.py").write_text(
        "import os\nimport sys\n\n"
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n'
        "from django.core.management import execute_from_command_line\n\n"
        "execute_from_command_line(sys.argv)\n"
    )
    (root / "requirements.txt").write_text("django==5.2.19\ngunicorn==23.0.0\nuvicorn==0.38.0\n")
    (root / "Procfile").write_text(f"web: {web}\n")
    return legacy_copy(root.with_name("repo"), root)


@pytest.mark.parametrize(
    ("web", "module", "worker"),
    [
        ("python manage.py runserver 0.0.0.0:$PORT", "mysite.wsgi", '"gthread"'),
        ("uvicorn mysite.asgi:application --host 0.0.0.0", "mysite.asgi", '"uvicorn_worker'),
    ],
)
def test_django_plus_one_wraps_the_entry_its_server_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, web: str, module: str, worker: str
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = django_project(tmp_path / "mysite-repo", web)
    migrate(repo, "+1", out=lambda line: None)
    assert (
        f"from {module} import application as legacy_application"
        in (repo / "kubestep_app.py").read_text()
    )
    assert f"worker_class = {worker}" in (repo / "kubestep_gunicorn.py").read_text()


def test_a_module_without_a_callable_is_the_servers_default_application(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "requirements.txt": "Django==4.2.3\ngunicorn==21.2.0\n",
            "Procfile": "web: gunicorn shop.wsgi --log-file -\n",
            "shop/__init__.py": "",
            "shop/wsgi.py": "from django.core.wsgi import get_wsgi_application\n"
            "application = get_wsgi_application()\n",
        },
    )
    runtime = runtime_answers(collect(root).to_dict(), [], {}, root)
    assert runtime["app"] == "shop.wsgi:application"
    assert runtime["interface"] == "wsgi"


def test_an_app_factory_the_procfile_quotes_is_called(tmp_path: Path) -> None:
    source = write_tree(
        tmp_path / "source",
        {
            "requirements.txt": "flask==3.1.3\ngunicorn==23.0.0\n",
            "Procfile": "web: gunicorn rank.app:create_app\\(\\) -b 0.0.0.0:$PORT -w 3\n",
            "rank/__init__.py": "",
            "rank/app.py": "from flask import Flask\n\n\ndef create_app():\n"
            "    return Flask(__name__)\n",
        },
    )
    for name, value in GIT_IDENTITY.items():
        os.environ.setdefault(name, value)
    repo = legacy_copy(tmp_path / "rank", source)
    migrate(repo, "3", out=lambda line: None)
    migrate(repo, "+1", out=lambda line: None)
    text = (repo / "kubestep_app.py").read_text()
    assert "from rank.app import create_app as legacy_application" in text
    assert "legacy_application = legacy_application()" in text
    # The quoted command lands in kubestep_gunicorn.py's docstring as text, not as escapes.
    settings = (repo / "kubestep_gunicorn.py").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module = compile(settings, "kubestep_gunicorn.py", "exec")
    docstring = module.co_consts[0]
    assert r"gunicorn rank.app:create_app\(\) -b 0.0.0.0:$PORT -w 3" in docstring


def test_an_aiohttp_or_tornado_app_stops_plus_one_naming_its_own_server() -> None:
    # Measured: gunicorn --worker-class aiohttp.worker.GunicornWebWorker was wrapped as WSGI.
    aiohttp = {
        "command": "gunicorn wsgi:app --bind 0.0.0.0:8080 "
        "--worker-class aiohttp.worker.GunicornWebWorker",
        "server": "gunicorn",
        "kind": "wsgi",
        "source": "README.md:12",
    }
    with pytest.raises(StepError) as stopped:
        interface(aiohttp, inventory_with("aiohttp==3.9.5"), None)
    assert str(stopped.value).startswith(
        "step +1: the app runs under gunicorn's worker class aiohttp.worker.GunicornWebWorker "
        "(README.md:12), an aiohttp app, neither WSGI nor ASGI"
    )
    tornado = {"command": "python ./run.py --port=8000", "server": "app.run", "source": "x:1"}
    found = {**inventory_with("tornado==6.4.1"), "imports": [{"value": "tornado"}]}
    with pytest.raises(StepError, match=r"runs under tornado's own server \(x:1\)"):
        interface(tornado, found, None)
    # A Flask app that happens to import tornado is still Flask's.
    flask = {**found, "framework": {"value": "flask"}}
    assert interface(tornado, flask, None)[0] == "wsgi"
