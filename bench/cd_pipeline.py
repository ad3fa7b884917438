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
    subprocess.run(
        ["make", "-C", str(project), *arguments, f"CA_BUNDLE={CA_BUNDLE}"],
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, local_registry(Path(scratch)) as registry:
        project = new_service(
            Path(scratch) / "cd-service",
            {"image": f"{registry}/{NAME}", "base_image": LOCAL_BASE_IMAGE},
        )
        first = make(project, "ci", "TAG=one")
        make(project, "docker_push", "TAG=one")
        main_py = project / "app" / "main.py"
        main_py.write_text(main_py.read_text() + "\n# A code-only change.\n")
        changed = make(project, "ci", "TAG=two")
        make(project, "docker_push", "TAG=two")
        unchanged = make(project, "ci", "TAG=two")
        _, before = manifest(registry, NAME, "one")
        _, after = manifest(registry, NAME, "two")
    old, new = blobs(before), blobs(after)
    sent = {digest: size for digest, size in new.items() if digest not in old}
    total = sum(new.values())
    print(
        f"make ci, first build of this project (layer cache of earlier builds kept): {first:.1f} s"
    )
    print(f"make ci after a code-only change: {changed:.1f} s")
    print(f"make ci with nothing changed: {unchanged:.1f} s")
    print(
        f"docker_push after a code-only change: {sum(sent.values())} bytes in {len(sent)} blobs "
        f"(of {total} bytes in {len(new)} blobs: {sum(sent.values()) / total:.2%})"
    )


if __name__ == "__main__":
    main()
