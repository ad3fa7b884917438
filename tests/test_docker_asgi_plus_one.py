"""Docker tier: a FastAPI app that finds Redis through REDIS_URL, migrated to step 3 and then
+1, is served by gunicorn with uvicorn's worker behind kubestep_runtime: its route answers,
/ready checks the Redis that REDIS_URL names, /metrics counts the route, `make verify` passes."""

import json
import sys
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
FIXTURE = Path(__file__).parent / "fixtures" / "inventory" / "fastapi-redis"


@pytest.fixture(scope="module")
def service_images(base_image: str) -> dict[str, str]:
    return built_local_images(base_image, "redis")


def route_count(metrics: str, route: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("http_requests_total{") and f'route="{route}"' in line
    )


def test_fastapi_under_the_asgi_worker_is_ready_on_the_redis_of_its_url(
    tmp_path: Path,
    base_image: str,
    service_images: dict[str, str],
    ca_bundle: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = legacy_copy(tmp_path / "counter", FIXTURE)
    migrate(repo, "3", out=lambda line: None)
    migrate(repo, "+1", out=lambda line: None)
    assert (
        'worker_class = "uvicorn_worker.UvicornWorker"'
        in (repo / "kubestep_gunicorn.py").read_text()
    )
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "asgi-plus-one", **service_images)
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert http_get(f"http://127.0.0.1:{port}/visits/ada") == (200, '{"ada":1}')
        assert http_get(f"http://127.0.0.1:{port}/visits/ada") == (200, '{"ada":2}')
        status, body = http_get(f"http://127.0.0.1:{port}/ready")
        assert status == 200, body
        assert json.loads(body)["checks"] == {"redis": "ok"}
        status, metrics = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert route_count(metrics, "/visits/{name}") == 2
        logs = compose_logs(repo)
        assert "Using worker: uvicorn_worker.UvicornWorker" in logs
        assert "readiness check redis: redis:6379 (from REDIS_URL)" in logs
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("counter") == {}
    verified = make(
        repo,
        "verify",
        KUBESTEP_VERIFY=f"{sys.executable} -m kubestep.verify",
        **{**variables, "LOCAL_PORT": str(free_port())},
    )
    report = verified.stdout + verified.stderr
    assert verified.returncode == 0, report[-6000:]
    lines = verified.stdout.splitlines()
    assert not [line for line in lines if line.startswith(("FAIL", "skip"))], verified.stdout
    assert "/ready 200 with redis ok" in verified.stdout
    assert any(line.startswith("verify passed: ") for line in lines), verified.stdout
    assert compose_leftovers("counter-verify") == {}
