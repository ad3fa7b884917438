"""A real registry on 127.0.0.1 for benchmarks: Debian's `docker-registry` with its own config.

What a push costs is measured where it lands: the bytes the registry's storage grows by.
Docker allows plain HTTP to a registry on 127.0.0.1 without `insecure-registries`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.docker_helpers import free_port, terminate

REGISTRY = "docker-registry"  # Debian's package of distribution's registry 2.x
CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
http:
  addr: 127.0.0.1:{port}
"""


@dataclass(frozen=True)
class LocalRegistry:
    host: str  # 127.0.0.1:PORT, the prefix of image names pushed to it
    storage: Path

    def stored_bytes(self) -> int:
        """Everything the registry keeps: blobs, manifests and their links."""
        return sum(path.stat().st_size for path in self.storage.rglob("*") if path.is_file())


@contextmanager
def local_registry() -> Iterator[LocalRegistry]:
    """Run the registry on a free port with empty storage; stop it and delete it after."""
    if shutil.which(REGISTRY) is None:
        raise SystemExit(f"error: {REGISTRY} is missing (apt-get install docker-registry)")
    with tempfile.TemporaryDirectory(prefix="kubestep-registry-") as scratch:
        storage, port = Path(scratch) / "storage", free_port()
        config = Path(scratch) / "config.yml"
        config.write_text(CONFIG.format(root=storage, port=port))
        process = subprocess.Popen(
            [REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            _wait_until_serving(port, process)
            yield LocalRegistry(f"127.0.0.1:{port}", storage)
        finally:
            terminate(process)


def _wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"error: {REGISTRY} exited with {process.returncode}: {error}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"error: {REGISTRY} did not answer on 127.0.0.1:{port} within 20 s")
