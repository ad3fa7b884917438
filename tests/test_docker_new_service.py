"""Docker tier: the generated image of a new service, built and run with a real engine."""

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra
from prometheus_client.parser import text_string_to_metric_families

from tests.docker_helpers import (
    RunningService,
    compose_leftovers,
    docker,
    free_port,
    http_get,
    running_service,
)
from tests.render import generate, make

pytestmark = pytest.mark.docker

IMAGE = "kubestep-test/new-service"
TAG = "docker-tier"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("docker") / "new-service", image=IMAGE)


@pytest.fixture(scope="module")
def image(project: Path, base_image: str, ca_bundle: str | None) -> str:
    result = make(
        project,
        "docker_build",
        IMAGE=IMAGE,
        TAG=TAG,
        BASE_IMAGE=base_image,
        CA_BUNDLE=ca_bundle or "",
        VERSION="1.2.3",
        REVISION="0123abcd",
        BUILD_TIME="2026-11-22T00:00:00Z",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return f"{IMAGE}:{TAG}"


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[RunningService]:
    with running_service(image, "kubestep-test-new-service") as service:
        yield service


def test_image_carries_the_build_labels(image: str) -> None:
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", image))
    assert labels["org.opencontainers.image.version"] == "1.2.3"
    assert labels["org.opencontainers.image.revision"] == "0123abcd"
    assert labels["org.opencontainers.image.created"] == "2026-11-22T00:00:00Z"


def test_container_runs_as_the_non_root_user_without_build_tools(
    container: RunningService,
) -> None:
    host = testinfra.get_host(f"docker://{container.name}")
    assert host.check_output("id -u") == "10001"
    servers = [p for p in host.process.filter() if "gunicorn" in p.args]
    assert len(servers) >= 3  # the master and two workers
    assert {p.user for p in servers} == {"app"}
    assert host.socket("tcp://0.0.0.0:8000").is_listening
    for tool in ("gcc", "cc", "make"):
        assert not host.exists(tool), tool
    assert not host.file("/root/.cache/pip").exists


def test_endpoints_answer_over_http(container: RunningService) -> None:
    url = container.url
    assert http_get(f"{url}/health")[0] == 200
    assert http_get(f"{url}/ready")[0] == 200
    status, body = http_get(f"{url}/")
    assert status == 200 and "message" in json.loads(body)
    info = json.loads(http_get(f"{url}/info")[1])
    assert info["version"] == "1.2.3"
    assert info["git_revision"] == "0123abcd"
    assert info["build_time"] == "2026-11-22T00:00:00Z"
    assert "ENVIRONMENT" not in json.dumps(info)


def test_metrics_parse_and_count_the_requests_just_made(container: RunningService) -> None:
    url = container.url
    for _ in range(5):
        assert http_get(f"{url}/")[0] == 200
    families = list(text_string_to_metric_families(http_get(f"{url}/metrics")[1]))
    root_requests = sum(
        sample.value
        for family in families
        if family.type == "counter"
        for sample in family.samples
        if sample.name.endswith("_total")
        and sample.labels.get("status") == "200"
        and sample.labels.get("route") == "/"
    )
    assert root_requests >= 5


def test_docker_stop_is_well_under_the_kill_timeout(image: str) -> None:
    with running_service(image, "kubestep-test-stop") as service:
        started = time.monotonic()
        docker("stop", service.name)
        stopped_after = time.monotonic() - started
        exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", service.name)
    assert stopped_after < 5, stopped_after
    assert exit_code == "0"


def test_missing_required_config_exits_with_one_clear_line(image: str) -> None:
    name = "kubestep-test-no-config"
    docker("run", "--name", name, image, check=False)
    try:
        exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", name)
        logs = subprocess.run(
            ["docker", "logs", name], capture_output=True, text=True, check=False
        ).stderr
    finally:
        docker("rm", "--force", name, check=False)
    assert exit_code != "0"
    assert logs.strip() == "error: missing required environment variable ENVIRONMENT"


def test_run_local_then_stop_local_leaves_nothing_behind(
    project: Path, base_image: str, ca_bundle: str | None
) -> None:
    port = free_port()
    variables = {
        "IMAGE": IMAGE,
        "TAG": TAG,
        "BASE_IMAGE": base_image,
        "CA_BUNDLE": ca_bundle or "",
        "LOCAL_PORT": str(port),
    }
    try:
        started = make(project, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert http_get(f"http://127.0.0.1:{port}/ready")[0] == 200
    finally:
        stopped = make(project, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("new-service") == {}
