"""A generated service's image: release rebuilds, bytes pushed, size against Draft, start time.

    .venv/bin/python bench/new_service_image.py [--warm-runs 3] [--start-runs 5]

Everything is measured in one run, on the local base image, for a service from the template:

* warm/cold: `make docker_build` after a code-only commit (git's new TAG and REVISION, a new
  BUILD_TIME) against `make docker_build DOCKER_BUILD_OPTIONS=--no-cache`; the same for a
  Draft-style Dockerfile (Azure/draft's Python one: requirements, pip install, COPY . .)
  built with plain `docker build` on the same base, as the anchor;
* the bytes a code-only release adds to a real registry (Debian's docker-registry on
  127.0.0.1), after a first push of the whole image;
* the service's layers (image minus base) against the Draft-style image's, which installs
  the same requirements.txt; its CA bundle layer (this machine's proxy) is not counted;
* `docker run` -> /ready answering 200, median over --start-runs.

Docker work happens under the shared lock (/tmp/kubestep-docker.lock, KUBESTEP_DOCKER_LOCK=),
taken for each phase separately so that other builds can run in between; do not run this
under `flock` yourself. Images it built are removed at the end.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker as docker_sdk

from bench.local_registry import LocalRegistry, local_registry
from kubestep.generate import new_service
from kubestep.paths import LOCAL_BASE_IMAGE
from tests.docker_helpers import docker, running_service

IMAGE = "kubestep-bench/new-service"
DRAFT_IMAGE = "kubestep-bench/draft-baseline"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
LOCK = Path(os.environ.get("KUBESTEP_DOCKER_LOCK", "/tmp/kubestep-docker.lock"))
# Azure/draft's Python Dockerfile, on the same base; only the CA bundle lines are added, so
# that pip trusts this machine's intercepting proxy (their layer is left out of its size).
DRAFT_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ENV PORT=8000
EXPOSE 8000
WORKDIR /usr/src/app
COPY .ca-bundle/ /tmp/ca-bundle/
COPY requirements.txt ./
RUN PIP_CERT=/tmp/ca-bundle/ca.crt pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["gunicorn", "--config", "gunicorn.conf.py", "app.wsgi:application"]
"""
BUILT_ID = re.compile(r"^ ---> ([0-9a-f]{12})$", re.MULTILINE)


@contextmanager
def docker_lock() -> Iterator[None]:
    """The machine's shared Docker lock, for one short phase."""
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Builds:
    """Runs and times builds, and remembers every image they made, to remove them after."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.images: set[str] = set()
        self.tags: set[str] = set()

    def make(self, *options: str) -> tuple[float, str]:
        """`make docker_build` with git's TAG and REVISION; seconds taken and the image."""
        tag = git(self.project, "describe", "--tags", "--always", "--dirty")
        seconds = self._run(
            [
                "make",
                "-C",
                str(self.project),
                "docker_build",
                f"IMAGE={IMAGE}",
                f"BASE_IMAGE={LOCAL_BASE_IMAGE}",
                f"CA_BUNDLE={CA_BUNDLE}",
                *options,
            ]
        )
        self.tags.add(f"{IMAGE}:{tag}")
        return seconds, f"{IMAGE}:{tag}"

    def draft(self, dockerfile: Path, tag: str, *options: str) -> float:
        """A plain `docker build` of the Draft-style Dockerfile; seconds taken."""
        self.tags.add(f"{DRAFT_IMAGE}:{tag}")
        command = ["docker", "build", "--force-rm", *options, "--file", str(dockerfile)]
        command += ["--build-arg", f"BASE_IMAGE={LOCAL_BASE_IMAGE}"]
        return self._run([*command, "--tag", f"{DRAFT_IMAGE}:{tag}", str(self.project)])

    def _run(self, command: list[str]) -> float:
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        self.images.update(BUILT_ID.findall(result.stdout))
        if result.returncode != 0:
            raise SystemExit(f"error: {' '.join(command[:4])} failed:\n{result.stderr[-2000:]}")
        return seconds

    def remove(self, existing: set[str]) -> None:
        docker("rmi", *sorted(self.tags), check=False)
        leftovers = sorted(self.images - existing)
        if leftovers:
            docker("rmi", *leftovers, check=False)


def git(project: Path, *arguments: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(project), *arguments], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def new_project(scratch: Path) -> Path:
    project = new_service(scratch / "bench-service", {"image": IMAGE})
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    commit(project, "The generated service")
    return project


def commit(project: Path, message: str) -> None:
    git(
        project,
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@kubestep.invalid",
        "commit",
        "--quiet",
        "--all",
        "--message",
        message,
    )


def code_only_change(project: Path, number: int) -> None:
    """A new module of the app, lint- and format-clean (`make ci`'s test stage checks both)."""
    note = project / "app" / "release_note.py"
    note.write_text(f'"""Release {number}: a code-only change."""\n')
    git(project, "add", str(note))
    commit(project, f"Release {number}")


def layer_bytes(image: str, skip: str | None = None) -> int:
    """Bytes of the image's own layers above the base (without those whose step has `skip`)."""
    client = docker_sdk.APIClient()
    base = {entry["Id"] for entry in client.history(LOCAL_BASE_IMAGE)}
    return sum(
        entry["Size"]
        for entry in client.history(image)
        if entry["Id"] not in base and not (skip and skip in entry["CreatedBy"])
    )


def push_bytes(registry: LocalRegistry, image: str, name: str) -> int:
    """Bytes the registry's storage grew by when `image` was pushed as `name`."""
    remote = f"{registry.host}/{name}"
    docker("tag", image, remote)
    try:
        before = registry.stored_bytes()
        docker("push", remote)
        return registry.stored_bytes() - before
    finally:
        docker("rmi", remote, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=3, help="code-only releases to build")
    parser.add_argument("--start-runs", type=int, default=5, help="docker run -> /ready runs")
    args = parser.parse_args()
    existing = set(docker("images", "--all", "--quiet").split())
    with tempfile.TemporaryDirectory() as scratch:
        project = new_project(Path(scratch))
        draft_file = Path(scratch) / "Dockerfile.draft"
        draft_file.write_text(DRAFT_DOCKERFILE)
        builds = Builds(project)
        try:
            run(args, project, draft_file, builds)
        finally:
            with docker_lock():
                builds.remove(existing)


def run(args: argparse.Namespace, project: Path, draft_file: Path, builds: Builds) -> None:
    with docker_lock():
        cold, first = builds.make("DOCKER_BUILD_OPTIONS=--no-cache")
        warm, releases = [], []
        for number in range(1, args.warm_runs + 1):
            code_only_change(project, number)
            seconds, image = builds.make()
            warm.append(seconds)
            releases.append(image)
    with docker_lock():
        draft_cold = builds.draft(draft_file, "cold", "--no-cache")
        code_only_change(project, args.warm_runs + 1)
        draft_warm = builds.draft(draft_file, "warm")
    warm_median = statistics.median(warm)
    print(
        f"make docker_build: cold {cold:.2f} s, warm after a code-only commit "
        f"{warm_median:.2f} s (median of {len(warm)}) -> warm/cold {warm_median / cold:.3f}"
    )
    print(
        f"Draft-style docker build: cold {draft_cold:.2f} s, warm {draft_warm:.2f} s "
        f"-> warm/cold {draft_warm / draft_cold:.3f}"
    )
    with local_registry() as registry, docker_lock():
        name = "kubestep-bench/new-service"
        whole = push_bytes(registry, first, f"{name}:first")
        code_only = push_bytes(registry, releases[0], f"{name}:next")
    print(
        f"registry on {registry.host}: first push {whole / 1e6:.1f} MB, "
        f"a code-only release {code_only / 1e3:.1f} KB"
    )
    ours = layer_bytes(releases[-1])
    baseline = layer_bytes(f"{DRAFT_IMAGE}:warm", skip=" in /tmp/ca-bundle/")
    print(
        f"service layers (image - base): {ours / 1e6:.2f} MB, Draft-style "
        f"{baseline / 1e6:.2f} MB (its CA bundle layer left out) -> {ours / baseline:.2f}"
    )
    timings = []
    with docker_lock():
        for _ in range(args.start_runs):
            with running_service(
                releases[-1], "kubestep-bench", "ENVIRONMENT=bench", timeout=30
            ) as up:
                timings.append(up.ready_after)
    print(
        f"docker run -> /ready 200: median {statistics.median(timings):.2f} s "
        f"(min {min(timings):.2f}, max {max(timings):.2f}, {len(timings)} runs)"
    )


if __name__ == "__main__":
    main()
