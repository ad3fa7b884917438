"""An app that serves /health itself keeps it: +1 puts its liveness probe on /healthz, and the
image, compose, Kubernetes and `make verify` all use that path (its /ready stays)."""

import json
from pathlib import Path

import pytest
import yaml

from kubestep.migrate import migrate
from tests.docker_helpers import compose_leftovers, free_port, http_get, local_run_variables
from tests.legacy_repo import GIT_IDENTITY, legacy_copy
from tests.render import make

FIXTURE = Path(__file__).parent / "fixtures" / "inventory" / "flask-own-health"


@pytest.fixture(autouse=True)
def identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def test_plus_one_moves_liveness_off_the_apps_own_health_route(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "counter", FIXTURE)
    lines: list[str] = []
    migrate(repo, "4", out=lambda line: None)
    migrate(repo, "+1", out=lines.append)
    assert any("serves its health probe on /healthz (HEALTH_PATH)" in line for line in lines)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "ENV HEALTH_PATH=/healthz\n" in dockerfile
    assert "READY_PATH" not in dockerfile
    deployment = yaml.safe_load((repo / "kube" / "base" / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    compose = (repo / "compose.yaml").read_text()
    assert 'urlopen("http://127.0.0.1:8000/ready", timeout=2)' in compose
    verify = next(
        line
        for line in (repo / "make" / "compose.mk").read_text().splitlines()
        if "VERIFY)" in line
    )
    assert "--route / " in verify and "--health-path /healthz" in verify
    assert "--ready-path" not in verify
    readme = (repo / "README.rst").read_text()
    assert "``GET /healthz`` liveness" in readme and "``HEALTH_PATH=/healthz``" in readme
    inventory = yaml.safe_load((repo / ".kubestep" / "inventory.yml").read_text())
    assert [(r["path"], r["source"]) for r in inventory["routes"]] == [
        ("/", "app.py:8"),
        ("/health", "app.py:13"),
    ]


@pytest.mark.docker
def test_the_app_keeps_its_health_route_and_the_runtime_answers_beside_it(
    tmp_path: Path, base_image: str, ca_bundle: str | None
) -> None:
    repo = legacy_copy(tmp_path / "counter", FIXTURE)
    migrate(repo, "+1", out=lambda line: None)
    port = free_port()
    variables = local_run_variables(base_image, ca_bundle, port, "own-health")
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        status, body = http_get(f"http://127.0.0.1:{port}/health")
        assert (status, json.loads(body)) == (200, {"own": "health", "checks": ["disk"]})
        status, body = http_get(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, body = http_get(f"http://127.0.0.1:{port}/ready")
        assert status == 200, body
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("counter") == {}
