"""Image size of a generated service and its time from `docker run` to /ready answering 200."""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubestep.generate import new_service
from kubestep.paths import LOCAL_BASE_IMAGE
from tests.docker_helpers import docker, running_service

IMAGE = "kubestep-bench/new-service:bench"
RUNS = 5


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = new_service(Path(scratch) / "bench-service", {})
        started = time.monotonic()
        subprocess.run(
            [
                "make",
                "-C",
                str(project),
                "docker_build",
                "IMAGE=kubestep-bench/new-service",
                "TAG=bench",
                f"BASE_IMAGE={LOCAL_BASE_IMAGE}",
                "CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt",
            ],
            check=True,
            capture_output=True,
        )
        print(f"build (warm cache possible): {time.monotonic() - started:.1f} s")
    size = int(docker("image", "inspect", "--format", "{{.Size}}", IMAGE))
    base = int(docker("image", "inspect", "--format", "{{.Size}}", LOCAL_BASE_IMAGE))
    print(
        f"image size: {size / 1e6:.0f} MB (base {base / 1e6:.0f} MB, service layers "
        f"{(size - base) / 1e6:.0f} MB)"
    )
    timings = []
    for _ in range(RUNS):
        with running_service(IMAGE, "kubestep-bench", "ENVIRONMENT=bench", timeout=30) as service:
            timings.append(service.ready_after)
    print(
        f"docker run -> /ready 200: median {statistics.median(timings):.2f} s, "
        f"min {min(timings):.2f} s, max {max(timings):.2f} s over {RUNS} runs"
    )


if __name__ == "__main__":
    main()
