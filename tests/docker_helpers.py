"""Helpers of the Docker tier: free ports, HTTP on 127.0.0.1, what compose left behind."""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Re-exported: the tests and the benches take it from here.
from kubestep.catalog import CATALOG
from kubestep.paths import SCRIPTS
from kubestep.verify.web import free_port as free_port


def terminate(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, as an orchestrator stops a server; SIGKILL if it has not exited in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def http_get(url: str, timeout: float = 3.0) -> tuple[int, str]:
    """Status and body of GET url; HTTP errors are answers too, not exceptions."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for_status(url: str, status: int = 200, timeout: float = 60.0) -> float:
    """Seconds until GET url answered status; AssertionError when it never did."""
    start = time.monotonic()
    last: object = None
    while time.monotonic() - start < timeout:
        try:
            answer = http_get(url)
            if answer[0] == status:
                return time.monotonic() - start
            last = answer
        except OSError as error:
            last = error
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered {status} in {timeout} s; last: {last!r}")


def docker(*arguments: str, check: bool = True) -> str:
    """Run a docker command and return its stripped stdout."""
    result = subprocess.run(["docker", *arguments], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def compose_leftovers(project: str) -> dict[str, str]:
    """Containers, networks and volumes compose project still has; empty when clean."""
    label = f"label=com.docker.compose.project={project}"
    found = {
        "containers": docker("ps", "-a", "--filter", label, "--format", "{{.Names}}"),
        "networks": docker("network", "ls", "--filter", label, "--format", "{{.Name}}"),
        "volumes": docker("volume", "ls", "--filter", label, "--format", "{{.Name}}"),
    }
    return {kind: names for kind, names in found.items() if names}


@dataclass(frozen=True)
class RunningService:
    """A container started from an image, answering on 127.0.0.1."""

    name: str
    url: str
    ready_after: float  # seconds from `docker run` to the ready path answering 200


@contextmanager
def running_service(
    image: str, name_prefix: str, environment: str = "ENVIRONMENT=test", timeout: float = 60.0
) -> Iterator[RunningService]:
    """Run image with port 8000 published on 127.0.0.1 until /ready is 200; remove it after."""
    port = free_port()
    name = f"{name_prefix}-{port}"
    started = time.monotonic()
    docker(
        "run",
        "--detach",
        "--name",
        name,
        "--publish",
        f"127.0.0.1:{port}:8000",
        "--env",
        environment,
        image,
    )
    try:
        wait_for_status(f"http://127.0.0.1:{port}/ready", timeout=timeout)
        yield RunningService(name, f"http://127.0.0.1:{port}", time.monotonic() - started)
    finally:
        docker("rm", "--force", name, check=False)


def built_local_images(base_image: str, *kinds: str) -> dict[str, str]:
    """Build the local images of these backing services (cached when present): each image
    variable with its local image, as `make run_local` takes them."""
    subprocess.run(
        ["bash", str(SCRIPTS / "build-local-images.sh"), *kinds],
        env={**os.environ, "BASE_IMAGE": base_image},
        check=True,
        capture_output=True,
    )
    return {CATALOG[kind].image_variable: CATALOG[kind].local_image for kind in kinds}


def local_run_variables(
    base_image: str, ca_bundle: str | None, port: int, tag: str, **images: str
) -> dict[str, str]:
    """The make variables of a `make run_local` on this machine: local images, the host's CA."""
    return {
        "BASE_IMAGE": base_image,
        "CA_BUNDLE": ca_bundle or "",
        "LOCAL_PORT": str(port),
        "TAG": tag,
        **images,
    }


def compose_container(project: str, service: str = "app") -> str:
    """The id of the running container of a compose project's service."""
    return docker(
        "ps",
        "-q",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--filter",
        f"label=com.docker.compose.service={service}",
    )


def compose_logs(repo: Path, service: str = "app") -> str:
    """What a compose service of repo logged so far."""
    return subprocess.run(
        ["docker", "compose", "logs", "--no-color", service],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
