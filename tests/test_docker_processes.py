"""Docker tier: a Django app whose Procfile has a release (migrate), a web and a celery worker
runs all three from one image with `make run_local`: the migration has run before the web
answers, and the worker consumes a task the web enqueues on Redis."""

import subprocess
import time
from pathlib import Path

import pytest

from kubestep.migrate import migrate
from tests.docker_helpers import (
    built_local_images,
    compose_leftovers,
    free_port,
    http_get,
    local_run_variables,
    wait_for_status,
)
from tests.legacy_repo import GIT_IDENTITY, legacy_copy
from tests.render import make

pytestmark = pytest.mark.docker
FIXTURE = Path(__file__).parent / "fixtures" / "inventory" / "django-celery"
PROJECT = "notes-site"


def compose(repo: Path, *arguments: str) -> str:
    result = subprocess.run(
        ["docker", "compose", *arguments], cwd=repo, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_release_runs_before_the_web_and_the_worker_consumes_its_tasks(
    tmp_path: Path, base_image: str, ca_bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    images = built_local_images(base_image, "postgres", "redis")
    repo = legacy_copy(tmp_path / PROJECT, FIXTURE)
    migrate(repo, "3", out=lambda line: None)
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "processes", **images)
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        # The release one-off ran to completion; the table it creates is there.
        states = compose(repo, "ps", "--all", "--format", "{{.Service}} {{.State}} {{.ExitCode}}")
        assert "release exited 0" in states, states
        assert "worker running" in states, states
        assert http_get(f"http://127.0.0.1:{port}/") == (200, "0")
        assert http_get(f"http://127.0.0.1:{port}/enqueue")[0] == 202
        deadline = time.monotonic() + 30
        while http_get(f"http://127.0.0.1:{port}/")[1] != "1" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert http_get(f"http://127.0.0.1:{port}/") == (200, "1"), "the worker wrote no note"
        # `make release` runs the same one-off again: migrations are idempotent.
        again = make(repo, "release", **variables)
        assert again.returncode == 0, again.stderr[-3000:]
        assert "No migrations to apply" in again.stdout + again.stderr
        wait_for_status(f"http://127.0.0.1:{port}/")
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers(PROJECT) == {}
