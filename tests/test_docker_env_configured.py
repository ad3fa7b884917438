"""Docker tier: a Flask app that only knows DATABASE_URL runs against the compose PostgreSQL
that config/local.env points it at, and after +1 its /ready checks the host of that URL."""

import json
from pathlib import Path

import pytest

from kubestep.migrate import migrate
from tests.docker_helpers import (
    built_local_images,
    compose_leftovers,
    compose_logs,
    free_port,
    http_get,
    local_run_variables,
)
from tests.legacy_repo import GIT_IDENTITY, legacy_copy
from tests.render import make

pytestmark = pytest.mark.docker
FIXTURE = Path(__file__).parent / "fixtures" / "inventory" / "flask-postgres-url"


@pytest.fixture(scope="module")
def service_images(base_image: str) -> dict[str, str]:
    return built_local_images(base_image, "postgres")


def test_an_env_configured_flask_app_reaches_postgres_by_url_and_is_ready_on_it(
    tmp_path: Path,
    base_image: str,
    service_images: dict[str, str],
    ca_bundle: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = legacy_copy(tmp_path / "ledger", FIXTURE)
    migrate(repo, "3", out=lambda line: None)
    local_env = (repo / "config" / "local.env").read_text().splitlines()
    assert "DATABASE_URL=postgresql://app:local-only-password@postgres:5432/app" in local_env
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "env-configured", **service_images)
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        status, body = http_get(f"http://127.0.0.1:{port}/entries")
        assert status == 200, body
        assert json.loads(body) == {"entries": 1, "database": "app", "user": "app"}
    finally:
        make(repo, "stop_local", **variables)
    migrate(repo, "+1", out=lambda line: None)
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        status, body = http_get(f"http://127.0.0.1:{port}/ready")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"postgres": "ok"}
        assert json.loads(http_get(f"http://127.0.0.1:{port}/entries")[1])["entries"] == 1
        logs = compose_logs(repo)
        assert "readiness check postgres: postgres:5432 (from DATABASE_URL)" in logs
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("ledger") == {}
