"""The demo: what README's first command runs on a fresh machine."""

import os
import shutil
import time
import urllib.request
from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from kubestep.engine import HOW_TO_GET_ONE, base_image_command, engine_answers
from kubestep.errors import KubestepError
from kubestep.generate import new_service
from kubestep.paths import LOCAL_BASE_IMAGE, REPO
from kubestep.tasks.errors import one_line_errors


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


@task(
    help={
        "dest": "where to generate the demo service (default: demo/my-service)",
        "base_image": f"the image to build on (default: {LOCAL_BASE_IMAGE}, built locally)",
        "ca_bundle": "a CA bundle pip must trust during builds (default: the host's pip's)",
        "port": "the port published on 127.0.0.1 (default 8000)",
    }
)
@one_line_errors
def demo(
    c: Context,
    dest: str = "demo/my-service",
    base_image: str = LOCAL_BASE_IMAGE,
    ca_bundle: str = "",
    port: int = 8000,
) -> None:
    """Generate a new service, run it with docker compose and show its health."""
    target = Path(dest) if Path(dest).is_absolute() else REPO / dest
    if target.exists():
        c.run(f"make -C {target} stop_local", echo=True, warn=True, hide="out")
        shutil.rmtree(target)
    new_service(target, {"service_name": target.name, "port": 8000})
    print(f"generated {target}")
    if not engine_answers():
        print(f"{HOW_TO_GET_ONE}; then run `inv demo` again to start it")
        return
    if base_image == LOCAL_BASE_IMAGE:
        c.run(base_image_command(base_image), echo=True)
    bundle = ca_bundle or default_ca_bundle()
    c.run(
        f"make -C {target} run_local BASE_IMAGE={base_image} CA_BUNDLE={bundle} LOCAL_PORT={port}",
        echo=True,
    )
    status, body = wait_for_http(f"http://127.0.0.1:{port}/health")
    if status != 200:
        raise KubestepError(f"the demo service did not answer /health: {status} {body}")
    print(f"GET http://127.0.0.1:{port}/health -> {status} {body}")
    print(f"stop it with: make -C {target} stop_local")


demo_tasks = Collection("demo", demo)
