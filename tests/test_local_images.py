"""The local PostgreSQL and Redis images: built without a registry, used like the official ones."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "kubestep" / "scripts"
BUILD_SCRIPT = SCRIPTS / "build-local-images.sh"
POSTGRES_IMAGE = "kubestep-local/postgres:15"
REDIS_IMAGE = "kubestep-local/redis:7"
HEALTHY_WITHIN_S = 60
STOP_WITHIN_S = 5


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=120, check=check
    )


def build(base_image: str, *names: str) -> str:
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), *names],
        env={**os.environ, "BASE_IMAGE": base_image},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Sandbox:
    """A user-defined network and the containers started on it, all removed at the end."""

    def __init__(self) -> None:
        self.prefix = f"kubestep-test-{uuid.uuid4().hex[:8]}"
        self.network = self.prefix
        docker("network", "create", self.network)
        self.containers: list[str] = []

    def run(self, name: str, image: str, *args: str, health_cmd: str) -> str:
        container = f"{self.prefix}-{name}"
        self.containers.append(container)
        docker(
            "run", "-d", "--name", container, "--network", self.network,
            "--health-cmd", health_cmd, "--health-interval", "1s", "--health-retries", "60",
            *args, image,
        )  # fmt: skip
        return container

    def run_once(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A throwaway container on the same network: `docker run` options, image, command."""
        return docker("run", "--rm", "--network", self.network, *args, check=False)

    def remove(self) -> None:
        for container in self.containers:
            # -v: the postgres image declares a VOLUME, which would outlive the container.
            docker("rm", "-f", "-v", container, check=False)
        docker("network", "rm", self.network, check=False)


def wait_healthy(container: str) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    status = ""
    while time.monotonic() < deadline:
        inspect = docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container)
        status = inspect.stdout.strip()
        if status == "running healthy":
            return
        if not status.startswith("running"):
            break
        time.sleep(0.5)
    logs = docker("logs", container, check=False)
    pytest.fail(f"{container} is not healthy ({status}):\n{logs.stdout}{logs.stderr}")


def stop_seconds(container: str) -> float:
    started = time.monotonic()
    docker("stop", container)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def local_images(base_image: str) -> str:
    build(base_image)
    return base_image


@pytest.fixture
def sandbox(local_images: str) -> Iterator[Sandbox]:
    box = Sandbox()
    try:
        yield box
    finally:
        box.remove()


def test_build_script_rejects_an_unknown_image() -> None:
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "mysql"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "unknown image 'mysql' (valid: postgres, redis)" in result.stderr


@pytest.mark.docker
def test_build_script_skips_present_images(local_images: str) -> None:
    output = build(local_images, "postgres", "redis")
    assert "+ docker build" not in output
    assert f"image {POSTGRES_IMAGE} is present" in output
    assert f"image {REDIS_IMAGE} is present" in output


@pytest.mark.docker
def test_postgres_takes_password_logins_over_tcp(sandbox: Sandbox) -> None:
    db = sandbox.run(
        "postgres", POSTGRES_IMAGE,
        "-e", "POSTGRES_USER=orders", "-e", "POSTGRES_PASSWORD=s3cret", "-e", "POSTGRES_DB=shop",
        health_cmd='pg_isready -U "$POSTGRES_USER"',
    )  # fmt: skip
    wait_healthy(db)

    def login(password: str) -> subprocess.CompletedProcess[str]:
        return sandbox.run_once(
            "-e", f"PGPASSWORD={password}", POSTGRES_IMAGE,
            "psql", "-h", db, "-U", "orders", "-d", "shop", "-tAc", "select 1",
        )  # fmt: skip

    good = login("s3cret")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "1"
    bad = login("wrong")
    assert bad.returncode != 0
    assert 'password authentication failed for user "orders"' in bad.stderr

    assert stop_seconds(db) < STOP_WITHIN_S


@pytest.mark.docker
def test_postgres_refuses_to_start_without_a_password(sandbox: Sandbox) -> None:
    result = sandbox.run_once(POSTGRES_IMAGE)
    assert result.returncode == 1
    assert "POSTGRES_PASSWORD is not set" in result.stderr


@pytest.mark.docker
def test_redis_answers_ping_from_another_container(sandbox: Sandbox) -> None:
    cache = sandbox.run("redis", REDIS_IMAGE, health_cmd="redis-cli ping | grep -q PONG")
    wait_healthy(cache)

    ping = sandbox.run_once(REDIS_IMAGE, "redis-cli", "-h", cache, "ping")
    assert ping.returncode == 0, ping.stderr
    assert ping.stdout.strip() == "PONG"
    save = docker("exec", cache, "redis-cli", "config", "get", "save").stdout.split("\n")
    assert save[1] == "", "persistence should be off by default"

    assert stop_seconds(cache) < STOP_WITHIN_S
