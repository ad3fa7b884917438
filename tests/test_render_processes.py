"""Step 3 of repos with workers and release commands: compose.yaml, make release, README."""

import subprocess
from pathlib import Path

import pytest
import yaml

from kubestep.kube.model import load_documents
from kubestep.kube.validate import validate_target
from kubestep.migrate import migrate
from tests.legacy_repo import GIT_IDENTITY, legacy_copy
from tests.render import VENV_BIN, make

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def compose_of(repo: Path) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return yaml.safe_load((repo / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_a_django_procfile_gets_a_worker_and_a_release_the_web_waits_for(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "notes-site", FIXTURES / "django-celery")
    printed: list[str] = []
    migrate(repo, "3", out=printed.append)
    assert "  process worker (worker, Procfile:3): celery -A proj worker --loglevel=info" in printed
    assert (
        "  release one-off (Procfile:1), `make release`: python manage.py migrate --noinput"
    ) in printed
    services = compose_of(repo)["services"]
    assert set(services) == {"app", "worker", "release", "postgres", "redis"}
    app, worker, release = services["app"], services["worker"], services["release"]
    assert worker["image"] == release["image"] == app["image"]
    assert "build" not in worker and "build" not in release  # built once, by app
    assert worker["command"] == ["celery", "-A", "proj", "worker", "--loglevel=info"]
    assert release["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert release["restart"] == "no"
    for service in (worker, release):
        assert service["init"] is True and service["read_only"] is True
        assert service["env_file"] == ["config/local.env"] and "ports" not in service
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for service in (app, worker):
        assert service["depends_on"]["release"] == {"condition": "service_completed_successfully"}
    assert "release" not in release["depends_on"]
    readme = (repo / "README.rst").read_text()
    assert "* ``worker`` (worker, from Procfile:3): ``celery -A proj worker --loglevel=info``" in (
        readme
    )
    assert "``make release`` runs" in readme
    dry = make(repo, "-n", "release")
    assert dry.returncode == 0, dry.stderr
    assert "compose build app" in dry.stdout and "compose run --rm release" in dry.stdout
    assert "release" in make(repo, "help").stdout


def test_a_web_line_that_migrates_first_is_split_and_dollars_reach_the_container(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Procfile").write_text(
        "web: flask db upgrade; gunicorn -b 0.0.0.0:$PORT blog:app\n"
        "worker: rq worker --url $REDIS_URL mail\n"
    )
    (source / "requirements.txt").write_text("flask==3.0.3\ngunicorn==23.0.0\nrq==1.16.2\n")
    (source / "blog.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    repo = legacy_copy(tmp_path / "blog", source)
    migrate(repo, "3", out=lambda line: None)
    dockerfile = (repo / "Dockerfile").read_text()
    assert 'CMD ["/bin/sh", "-c", "exec gunicorn -b 0.0.0.0:$PORT blog:app"]' in dockerfile
    assert (
        "# Changed for the container: flask db upgrade moved from the web command to the "
        "release one-off (`make release`)" in dockerfile
    )
    services = compose_of(repo)["services"]
    assert services["release"]["command"] == ["flask", "db", "upgrade"]
    # compose would fill $REDIS_URL from the host's environment: $$ leaves it to the shell.
    text = (repo / "compose.yaml").read_text()
    assert 'command: ["/bin/sh", "-c", "exec rq worker --url $$REDIS_URL mail"]' in text


def test_a_repo_with_only_a_web_process_gets_no_extra_services(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "tracker", FIXTURES / "two-servers")
    migrate(repo, "3", out=lambda line: None, sets=["start_command=gunicorn admin.wsgi:app"])
    services = compose_of(repo)["services"]
    assert "release" not in services and "release" not in services["app"].get("depends_on", {})
    assert "release:" not in (repo / "make" / "compose.mk").read_text()


def test_step_4_runs_the_release_as_an_init_container_of_the_same_image(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "notes-site", FIXTURES / "django-celery")
    migrate(repo, "4", out=lambda line: None)
    assert all(findings == [] for findings in validate_target(repo).values())
    made = make(repo, "kube_create_config", "ENV=staging", "TAG=1.0.0")
    assert made.returncode == 0, made.stderr
    documents = load_documents((repo / "build" / "kube" / "staging.yaml").read_text(), "staging")
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (release,) = pod["initContainers"]
    (app,) = pod["containers"]
    assert release["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert release["image"] == app["image"] and app["image"].endswith(":1.0.0")
    assert release["envFrom"] == app["envFrom"]
    assert release["securityContext"] == app["securityContext"]
