"""Step 5's pipeline on a generated service, against a real registry on 127.0.0.1: the time of
`make ci` (cold for this project's code, then after a code-only change, then unchanged) and the
bytes `make docker_push` sends for a code-only change, next to the whole image's.

Bytes pushed are read from the registry: the compressed blobs (config and layers) of the new
manifest that the previous one did not have, which is what docker push uploads.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubestep.generate import new_service
from kubestep.paths import LOCAL_BASE_IMAGE
from tests.registry import blobs, local_registry, manifest

NAME = "kubestep-bench/cd-service"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def make(project: Path, *arguments: str) -> float:
    started = time.monotonic()
    result = subprocess.run(
        ["make", "-C", str(project), *arguments, f"CA_BUNDLE={CA_BUNDLE}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(
            f"error: make {' '.join(arguments)} failed:\n{result.stdout[-3000:]}{result.stderr}"
        )
    return time.monotonic() - started


def pushed(registry: str, before: str, after: str) -> str:
    """What pushing `after` sent, given that `before` was in the registry already."""
    old, new = blobs(manifest(registry, NAME, before)[1]), blobs(manifest(registry, NAME, after)[1])
    sent = {digest: size for digest, size in new.items() if digest not in old}
    total = sum(new.values())
    return (
        f"{sum(sent.values())} bytes in {len(sent)} blobs (of {total} bytes in {len(new)} "
        f"blobs: {sum(sent.values()) / total:.2%})"
    )


def change_code(project: Path, name: str) -> None:
    main_py = project / "app" / "main.py"
    main_py.write_text(main_py.read_text() + f'\n\ndef {name}() -> str:\n    return "{name}"\n')


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, local_registry(Path(scratch)) as registry:
        project = new_service(
            Path(scratch) / "cd-service",
            {"image": f"{registry}/{NAME}", "base_image": LOCAL_BASE_IMAGE},
        )
        no_cache = f"BUILD_ARGS=--no-cache --build-arg BASE_IMAGE={LOCAL_BASE_IMAGE}"
        cold = make(project, "ci", "TAG=cold", no_cache)
        first = make(project, "ci", "TAG=one")
        make(project, "docker_push", "TAG=one")
        change_code(project, "two")
        changed = make(project, "ci", "TAG=two")
        make(project, "docker_push", "TAG=two")
        unchanged = make(project, "ci", "TAG=two")
        # The same change with the version, revision and build time labels held fixed: what
        # the push would be with those labels after the code layers in the final stage.
        fixed = ("VERSION=1", "REVISION=1", "BUILD_TIME=1")
        make(project, "ci", "TAG=three", *fixed)
        make(project, "docker_push", "TAG=three", *fixed)
        change_code(project, "four")
        make(project, "ci", "TAG=four", *fixed)
        make(project, "docker_push", "TAG=four", *fixed)
        print(f"make ci without any layer cache (--no-cache, both builds): {cold:.1f} s")
        print(f"make ci, first build of this project (layer cache kept): {first:.1f} s")
        print(f"make ci after a code-only change: {changed:.1f} s")
        print(f"make ci with nothing changed: {unchanged:.1f} s")
        print(f"docker_push after a code-only change: {pushed(registry, 'one', 'two')}")
        print(f"  the same with fixed version labels: {pushed(registry, 'three', 'four')}")


if __name__ == "__main__":
    main()
