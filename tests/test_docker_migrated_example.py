"""Docker tier: examples/legacy-app, migrated, runs with `make run_local` after step 3 and
passes `make verify` after +1; `inv demo` (README's first command) works end to end."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from kubestep.paths import REPO
from tests.docker_helpers import built_local_images, compose_leftovers, free_port, http_get
from tests.legacy_repo import migrated_copy
from tests.render import make

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def service_images(base_image: str) -> dict[str, str]:
    """PostgreSQL and Redis built from Debian packages: nothing can be pulled."""
    return built_local_images(base_image, "postgres", "redis")


def test_migrated_example_runs_locally_and_answers_its_status_url(
    tmp_path: Path,
    base_image: str,
    service_images: dict[str, str],
    ca_bundle: str | None,
) -> None:
    repo = migrated_copy(tmp_path / "legacy-app", "3")
    port = free_port()
    variables = {
        "BASE_IMAGE": base_image,
        "CA_BUNDLE": ca_bundle or "",
        "LOCAL_PORT": str(port),
        "TAG": "docker-tier",
        **service_images,
    }
    try:
        started = make(repo, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-4000:] + started.stderr[-4000:]
        assert http_get(f"http://127.0.0.1:{port}/status") == (200, "OK")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/orders",
            method="POST",
            data=json.dumps({"customer": "ada", "item": "book", "quantity": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 201
        status, body = http_get(f"http://127.0.0.1:{port}/orders")
        assert status == 200 and "ada" in body
        check = subprocess.run(
            ["docker", "compose", "exec", "-T", "app", "checks/legacy-app-http-status"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.startswith("OK - ")
    finally:
        stopped = make(repo, "stop_local", **variables)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers("legacy-app") == {}


def test_the_example_after_plus_one_passes_make_verify(
    tmp_path: Path,
    base_image: str,
    service_images: dict[str, str],
    ca_bundle: str | None,
) -> None:
    repo = migrated_copy(tmp_path / "legacy-app", "+1")
    result = make(
        repo,
        "verify",
        BASE_IMAGE=base_image,
        CA_BUNDLE=ca_bundle or "",
        TAG="docker-tier",
        KUBESTEP_VERIFY=f"{sys.executable} -m kubestep.verify",
        **service_images,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    for expected in ("/ready", "/metrics", "JSON", "postgres", "redis", "SIGTERM"):
        assert expected in result.stdout, expected
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith(("FAIL", "skip"))], result.stdout
    assert any(line.startswith("verify passed: ") for line in lines), result.stdout
    assert compose_leftovers("legacy-app-verify") == {}


def test_inv_demo_migrates_runs_and_answers(
    tmp_path: Path, base_image: str, service_images: dict[str, str]
) -> None:
    """README's first command, on a free port and in a temporary directory."""
    port = free_port()
    target = tmp_path / "legacy-app"
    demo = subprocess.run(
        [
            str(Path(sys.executable).parent / "inv"),
            "demo",
            "--dest",
            str(target),
            "--port",
            str(port),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    try:
        assert demo.returncode == 0, (demo.stdout + demo.stderr)[-4000:]
        assert f"GET http://127.0.0.1:{port}/status -> 200 OK" in demo.stdout
        assert f"GET http://127.0.0.1:{port}/ready -> 200 " in demo.stdout
        assert (target / "build" / "kube" / "staging.yaml").is_file()
        # The builds are one timed line each; copier and the builders stay quiet.
        assert "\nthe service: make run_local ... " in demo.stdout
        for noise in ("No git tags found", "DEPRECATED", "Successfully built"):
            assert noise not in demo.stdout + demo.stderr, noise
    finally:
        make(target, "stop_local", **service_images)
    assert compose_leftovers("legacy-app") == {}
