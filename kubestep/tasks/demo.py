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

from kubestep.engine import HOW_TO_GET_ONE, base_image_command, engine_answers, script
from kubestep.errors import KubestepError
from kubestep.migrate import migrate
from kubestep.paths import EXAMPLE, LOCAL_BASE_IMAGE, LOCAL_SERVICE_IMAGES, REPO
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


def _ensure_git_identity() -> None:
    probe = subprocess.run(["git", "var", "GIT_AUTHOR_IDENT"], capture_output=True, check=False)
    if probe.returncode != 0:
        for name, value in DEMO_IDENTITY.items():
            os.environ[name] = value
            os.environ[name.replace("AUTHOR", "COMMITTER")] = value


def fresh_legacy_repo(c: Context, target: Path) -> None:
    """examples/legacy-app copied to target as a git repository, as a team would have it."""
    if target.exists():
        if (target / "compose.yaml").exists():
            c.run(f"make -C {target} stop_local", echo=True, warn=True, hide="out")
        shutil.rmtree(target)
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    _ensure_git_identity()
    for command in ("git init -q", "git add -A", "git commit -q -m 'The legacy service'"):
        c.run(f"cd {target} && {command}", echo=True)


@task(
    help={
        "dest": "where to put the migrated copy (default: demo/legacy-app)",
        "base_image": f"the image to build on (default: {LOCAL_BASE_IMAGE}, built locally)",
        "ca_bundle": "a CA bundle pip must trust during builds (default: the host pip's)",
        "port": "the port published on 127.0.0.1 (default 8080)",
    }
)
@one_line_errors
def demo(
    c: Context,
    dest: str = "demo/legacy-app",
    base_image: str = LOCAL_BASE_IMAGE,
    ca_bundle: str = "",
    port: int = 8080,
) -> None:
    """Migrate examples/legacy-app through steps 1-4 and +1, run it locally and show it."""
    target = Path(dest) if Path(dest).is_absolute() else REPO / dest
    fresh_legacy_repo(c, target)
    migrate(target, "4")
    migrate(target, "+1")
    c.run(f"git -C {target} log --oneline", echo=True)
    # Offline: what `make kube_apply ENV=staging` would deploy.
    c.run(f"make -C {target} kube_create_config ENV=staging TAG=demo", echo=True, env=venv_env())
    if not engine_answers():
        print(f"{HOW_TO_GET_ONE}; then run `inv demo` again to start it")
        return
    images = " ".join(f"{name}={image}" for name, image in LOCAL_SERVICE_IMAGES.items())
    if base_image == LOCAL_BASE_IMAGE:
        c.run(base_image_command(base_image), echo=True)
        c.run(f"bash {script('build-local-images.sh')}", echo=True)
    bundle = ca_bundle or default_ca_bundle()
    c.run(
        f"make -C {target} run_local BASE_IMAGE={base_image} CA_BUNDLE={bundle} "
        f"LOCAL_PORT={port} {images}",
        echo=True,
    )
    for path in ("/status", "/ready"):
        status, body = wait_for_http(f"http://127.0.0.1:{port}{path}")
        if status != 200:
            raise KubestepError(f"the migrated service did not answer {path}: {status} {body}")
        print(f"GET http://127.0.0.1:{port}{path} -> {status} {body.strip()}")
    print(f"stop it with: make -C {target} stop_local {images}")


demonstration = Collection("demonstration", demo)
