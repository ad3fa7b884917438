"""A real image registry for the tests: Debian's docker-registry (the distribution registry),
on 127.0.0.1 with a config file of our own, and the few API calls the tests read it with."""

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from kubestep.verify.web import free_port
from tests.ci_tools import require_tool

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


@contextmanager
def local_registry(root: Path) -> Iterator[str]:
    """Start the registry, storing under root; yields its host:port."""
    binary = shutil.which("docker-registry")
    require_tool(binary is not None, "docker-registry (Debian)")
    assert binary is not None
    port = free_port()
    config = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "data")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    (root / "config.yml").write_text(yaml.safe_dump(config))
    with (root / "registry.log").open("w") as log:
        process = subprocess.Popen(
            [binary, "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT
        )
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://{host}/v2/", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"docker-registry did not start: {(root / 'registry.log').read_text()}"
                    ) from None
                time.sleep(0.1)
        yield host
    finally:
        process.terminate()
        process.wait(timeout=10)


def manifest(host: str, name: str, reference: str) -> tuple[str, dict[str, Any]]:
    """The registry's digest of name:reference and its manifest."""
    request = urllib.request.Request(
        f"http://{host}/v2/{name}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.headers["Docker-Content-Digest"], json.loads(answer.read())


def blobs(document: dict[str, Any]) -> dict[str, int]:
    """The config and layer blobs of a manifest, digest -> compressed size."""
    items = [document["config"], *document["layers"]]
    return {item["digest"]: int(item["size"]) for item in items}
