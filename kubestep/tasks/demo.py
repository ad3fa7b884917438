"""The demo, what README's first command runs: migrate examples/legacy-app and run it."""

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from kubestep.catalog import CATALOG
from kubestep.engine import (
    HOW_TO_GET_ONE,
    NO_ENGINE_VARIABLE,
    base_image_build,
    engine_answers,
    engine_opted_out,
    engine_start_command,
    script,
)
from kubestep.errors import DockerUnavailable, KubestepError
from kubestep.migrate import migrate
from kubestep.paths import EXAMPLE, LOCAL_BASE_IMAGE, LOCAL_SERVICE_IMAGES, REPO
from kubestep.phases import log_dir, run_phase
from kubestep.tasks.dev import venv_env
from kubestep.tasks.errors import one_line_errors

# Used only where git has no identity of its own (a fresh machine), for the demo's commits.
DEMO_IDENTITY = {"GIT_AUTHOR_NAME": "kubestep demo", "GIT_AUTHOR_EMAIL": "demo@kubestep.invalid"}


def default_ca_bundle() -> str:
    """The CA bundle the host's pip trusts (an intercepting proxy), so builds trust it too."""
    for variable in ("CA_BUNDLE", "PIP_CERT", "SSL_CERT_FILE"):
        path = os.environ.get(variable, "")
        if path and Path(path).is_file():
            return path
    return ""


def wait_for_http(url: str, timeout: float = 60.0) -> tuple[int, str]:
    """GET url until it answers 200 or timeout passes; the last status and body."""
    deadline = time.monotonic() + timeout
    status, body = 0, ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read().decode()
        except OSError as error:
            status, body = getattr(error, "code", 0), str(error)
        time.sleep(0.5)
    return status, body


def _git_config(repo: Path, key: str) -> str:
    probe = subprocess.run(
        ["git", "-C", str(repo), "config", key], capture_output=True, text=True, check=False
    )
    return probe.stdout.strip()


def _ensure_git_identity(repo: Path) -> None:
    # `git var GIT_AUTHOR_IDENT` makes one up (root@host.(none)) that `git commit` refuses.
    name = os.environ.get("GIT_AUTHOR_NAME") or _git_config(repo, "user.name")
    email = os.environ.get("GIT_AUTHOR_EMAIL") or os.environ.get("EMAIL")
    if not (name and (email or _git_config(repo, "user.email"))):
        for variable, value in DEMO_IDENTITY.items():
            os.environ[variable] = value
            os.environ[variable.replace("AUTHOR", "COMMITTER")] = value


def fresh_legacy_repo(c: Context, target: Path) -> None:
    """examples/legacy-app copied to target as a git repository, as a team would have it."""
    if target.exists():
        if (target / "compose.yaml").exists() and engine_answers():
            c.run(f"make -C {target} stop_local", echo=True, warn=True, hide=True)
        shutil.rmtree(target)
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    c.run(f"cd {target} && git init -q", echo=True)
    _ensure_git_identity(target)
    for command in ("git add -A", "git commit -q -m 'The legacy service'"):
        c.run(f"cd {target} && {command}", echo=True)


def start_engine() -> None:
    """Install and start a Docker engine, as `inv engine` does, where kubestep can.

    Raises DockerUnavailable, with the way to get one, where it cannot.
    """
    command = engine_start_command()
    print(
        "no Docker engine answers: kubestep installs and starts one (Debian's docker.io and "
        f"Compose v2; `inv demo --no-engine` or {NO_ENGINE_VARIABLE}=1 stops before this)"
    )
    log = log_dir() / "demo-engine.log"
    run_phase("docker engine and compose", command, log)
    if not engine_answers():
        raise DockerUnavailable(f"an engine started but `docker info` does not answer; see {log}")


def build_local_images(base_image: str) -> None:
    """The local base image and the backing services' images, each skipped when present."""
    logs = log_dir()
    base = base_image_build(base_image)
    run_phase(f"base image {base_image}", base, logs / "demo-base-image.log")
    services = ", ".join(LOCAL_SERVICE_IMAGES.values())
    # Only what the example needs: the other local images would make the demo slower.
    wanted = LOCAL_SERVICE_IMAGES.values()
    names = [s.local_image_name for s in CATALOG.values() if s.local_image in wanted]
    local = ["bash", script("build-local-images.sh"), *names]
    run_phase(f"local images {services}", local, logs / "demo-local-images.log")


@task(
    help={
        "dest": "where to put the migrated copy (default: demo/legacy-app)",
        "base_image": f"the image to build on (default: {LOCAL_BASE_IMAGE}, built locally)",
        "ca_bundle": "a CA bundle pip must trust during builds (default: the host pip's)",
        "port": "the port published on 127.0.0.1 (default 8080)",
        "no_engine": f"never install or start a Docker engine (also: {NO_ENGINE_VARIABLE}=1)",
    }
)
@one_line_errors
def demo(
    c: Context,
    dest: str = "demo/legacy-app",
    base_image: str = LOCAL_BASE_IMAGE,
    ca_bundle: str = "",
    port: int = 8080,
    no_engine: bool = False,
) -> None:
    """Migrate examples/legacy-app through steps 1-4 and +1, run it locally and show it.

    Without a Docker engine it installs and starts one where it can (root or passwordless
    sudo on Debian or Ubuntu), unless --no-engine or KUBESTEP_NO_ENGINE=1.
    """
    target = Path(dest) if Path(dest).is_absolute() else REPO / dest
    fresh_legacy_repo(c, target)
    migrate(target, "4")
    migrate(target, "+1")
    c.run(f"git -C {target} log --oneline", echo=True)
    # Offline: what `make kube_apply ENV=staging` would deploy.
    c.run(f"make -C {target} kube_create_config ENV=staging TAG=demo", echo=True, env=venv_env())
    if not engine_answers():
        if no_engine or engine_opted_out():
            print(f"{HOW_TO_GET_ONE}; then run `inv demo` again to start it")
            return
        start_engine()
    if base_image == LOCAL_BASE_IMAGE:
        build_local_images(base_image)
    images = [f"{name}={image}" for name, image in LOCAL_SERVICE_IMAGES.items()]
    bundle = ca_bundle or default_ca_bundle()
    run_local = ["make", "-C", str(target), "run_local", f"BASE_IMAGE={base_image}"]
    run_local += [f"CA_BUNDLE={bundle}", f"LOCAL_PORT={port}", *images]
    run_phase("the service: make run_local", run_local, log_dir() / "demo-run-local.log")
    for path in ("/status", "/ready"):
        status, body = wait_for_http(f"http://127.0.0.1:{port}{path}")
        if status != 200:
            raise KubestepError(f"the migrated service did not answer {path}: {status} {body}")
        print(f"GET http://127.0.0.1:{port}{path} -> {status} {body.strip()}")
    print(f"stop it with: make -C {target} stop_local {' '.join(images)}")


demonstration = Collection("demonstration", demo)
