"""Docker tier: a repo started by a Procfile shell line builds with `make docker_build` and
serves through `make run_local`; the server, exec'd by the shell, stops on SIGTERM."""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kubestep.migrate import migrate
from tests.docker_helpers import (
    compose_container,
    compose_leftovers,
    docker,
    free_port,
    http_get,
    local_run_variables,
    wait_for_status,
)
from tests.legacy_repo import GIT_IDENTITY, legacy_copy
from tests.render import make

pytestmark = pytest.mark.docker
FIXTURE = Path(__file__).parent / "fixtures" / "inventory" / "flask-procfile"


def test_a_procfile_shell_line_builds_serves_and_stops_on_sigterm(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = legacy_copy(tmp_path / "greeter", FIXTURE)
    migrate(repo, "3", out=lambda line: None)
    dockerfile = (repo / "Dockerfile").read_text()
    assert '"/bin/sh", "-c", "python -c \\"import greeter\\" && exec gunicorn' in dockerfile
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "real-shapes")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert http_get(f"http://127.0.0.1:{port}/") == (200, "hello from greeter")
        container = compose_container("greeter")
        begun = time.monotonic()
        subprocess.run(
            ["docker", "stop", "--time", "20", container], check=True, capture_output=True
        )
        assert time.monotonic() - begun < 8, "gunicorn did not get SIGTERM through the shell"
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("greeter") == {}


def test_run_local_that_fails_says_why(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "source"
    shutil.copytree(FIXTURE, source)
    (source / "greeter" / "__init__.py").write_text(
        'raise RuntimeError("greeter cannot start: no GREETING_STYLE")\n'
    )
    repo = legacy_copy(tmp_path / "greeter", source)
    migrate(repo, "3", out=lambda line: None)
    variables = local_run_variables(base_image, ca_bundle, free_port(), "real-shapes-broken")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode != 0
        assert "did not come up healthy; what each container says:" in started.stderr
        assert "greeter cannot start: no GREETING_STYLE" in started.stderr  # its last lines
    finally:
        make(repo, "stop_local", **variables)
    assert compose_leftovers("greeter") == {}


def hits(port: int) -> int:
    status, body = http_get(f"http://127.0.0.1:{port}/")
    assert status == 200, body
    return int(json.loads(body)["hits"])


def test_an_app_that_writes_logs_and_sqlite_beside_its_code_runs_on_a_read_only_root(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = legacy_copy(tmp_path / "tally", FIXTURE.parent / "writes-files")
    migrate(repo, "3", out=lambda line: None)
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "real-shapes-writes")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        # Each GET (the healthcheck's too) adds a row to the SQLite file beside the code.
        first, second = hits(port), hits(port)
        assert second > first >= 1
        container = compose_container("tally")
        assert f"hit number {second}" in docker("exec", container, "cat", "/app/logs/tally.log")
        # The code stays read-only: only the paths the app writes are writable.
        refused = subprocess.run(
            ["docker", "exec", container, "touch", "/app/tally/new.py"], capture_output=True
        )
        assert refused.returncode != 0 and b"Read-only file system" in refused.stderr
        # The data is in the volume, so it outlives a restart of the container.
        docker("restart", container)
        wait_for_status(f"http://127.0.0.1:{port}/", 200, timeout=30)
        assert hits(port) > second
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("tally") == {}


def test_a_server_the_old_box_had_outside_the_app_is_installed_and_serves(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    fixture = Path(__file__).parent / "fixtures" / "inventory" / "no-requirements"
    repo = legacy_copy(tmp_path / "hello", fixture)
    migrate(repo, "3", out=lambda line: None)
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "system-server")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert http_get(f"http://127.0.0.1:{port}/") == (200, "hello\n")
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("hello") == {}


def test_a_server_compiled_against_a_library_of_the_old_box_finds_it_at_start(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old box had libxml2-dev; uwsgi, compiled in the build stage, links libxml2, which
    # no -dev package brings to the service stage: the image must carry the library itself.
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "source"
    source.mkdir()
    (source / "hello.py").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'hello\\n']\n"
    )
    (source / "deploy").mkdir()
    (source / "deploy" / "site.yml").write_text(
        "- hosts: web\n  tasks:\n    - apt: name=libxml2-dev state=present\n    - pip: name=uwsgi\n"
    )
    (source / "deploy" / "xmlhello.service").write_text(
        "[Service]\nExecStart=/usr/local/bin/uwsgi --http-socket :8081 --wsgi-file hello.py\n"
    )
    repo = legacy_copy(tmp_path / "xmlhello", source)
    migrate(repo, "3", out=lambda line: None)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "uwsgi==2.0.28" in dockerfile and "libxml2-dev" in dockerfile
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "shared-libraries")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert http_get(f"http://127.0.0.1:{port}/") == (200, "hello\n")
        container = compose_container("xmlhello")
        linked = docker("exec", container, "ldd", "/opt/venv/bin/uwsgi")
        assert "libxml2.so" in linked and "not found" not in linked
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("xmlhello") == {}


def test_an_old_release_the_resolver_picks_gets_its_companion_bounds_at_build(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Flask is unpinned, yet Flask-JWT-Extended 3 needs Flask below 2: pip picks Flask 1.1.4,
    # whose Jinja2 2 imports soft_unicode, gone in MarkupSafe 2.1, which pip installs too.
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "source"
    shutil.copytree(FIXTURE, source)
    (source / "requirements.txt").write_text(
        "flask\nflask-jwt-extended==3.25.1\ngunicorn==23.0.0\n"
    )
    repo = legacy_copy(tmp_path / "tokens", source)
    migrate(repo, "3", out=lambda line: None)
    assert "/tmp/companions.txt" in (repo / "Dockerfile").read_text()
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "picked-companions")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert http_get(f"http://127.0.0.1:{port}/") == (200, "hello from greeter")
        container = compose_container("tokens")
        versions = docker(
            "exec",
            container,
            "/opt/venv/bin/python",
            "-c",
            "import importlib.metadata as m; print(m.version('flask'), m.version('markupsafe'))",
        ).split()
        assert versions[0].startswith("1.") and versions[1].startswith("2.0"), versions
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("tokens") == {}


def test_open_requirements_resolve_to_the_releases_of_their_last_commit(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requirements.txt leaves Flask open and was last committed on 2023-06-01: pip installs
    # Flask 2.3.2 (2.3.3 came on 2023-08-21), while kubestep's own pins keep today's releases.
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "source"
    shutil.copytree(FIXTURE, source)
    (source / "requirements.txt").write_text("flask\ngunicorn==20.1.0\n")
    repo = legacy_copy(tmp_path / "dated", source, "2023-06-01T12:00:00Z")
    migrate(repo, "3", out=lambda line: None)
    assert "\nARG RESOLVE_BEFORE=2023-06-01T12:00:00Z\n" in (repo / "Dockerfile").read_text()
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "dated-releases")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert http_get(f"http://127.0.0.1:{port}/") == (200, "hello from greeter")
        versions = docker(
            "exec",
            compose_container("dated"),
            "/opt/venv/bin/python",
            "-c",
            "import importlib.metadata as m; print(m.version('flask'), m.version('gunicorn'))",
        ).split()
        assert versions == ["2.3.2", "20.1.0"], versions
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("dated") == {}
