"""Nothing a user cannot act on is printed: no copier ref warning, no legacy-builder banner."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubestep.generate import new_service
from kubestep.paths import REPO, SCRIPTS
from tests.legacy_repo import GIT_IDENTITY, legacy_copy

INV = Path(sys.executable).parent / "inv"
COPIER_NOISE = ("No git tags found", "using HEAD as ref", "Dirty template", "Warning")
BUILDER_BANNER = "DEPRECATED: The legacy builder is deprecated"


def test_inv_migrate_prints_no_copier_or_builder_noise(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "legacy-app")
    result = subprocess.run(
        [str(INV), "migrate", "--step", "+1", "--target", str(repo)],
        cwd=REPO,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert "step +1 done" in result.stdout
    for noise in (*COPIER_NOISE, BUILDER_BANNER):
        assert noise not in result.stdout, noise


def test_rendering_a_new_service_prints_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    new_service(tmp_path / "orders", {"service_name": "orders"})
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


FAKE_DOCKER = f"""#!/bin/sh
# A docker client whose classic builder prints its banner, then fails or succeeds.
case "$1 $2" in
    "image inspect") [ "$3" = kubestep-local/python:3.11-bookworm ]; exit $? ;;
esac
if [ "$1" = build ]; then
    printf '%s\\n' '{BUILDER_BANNER} and will be removed in a future release.' \\
        '            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0' \\
        '            environment-variable.' '' >&2
    echo "Step 1/2 : FROM base"
    echo "build error for $*" >&2
    exit "${{FAKE_BUILD_STATUS:-0}}"
fi
"""


@pytest.mark.parametrize("status", [0, 7])
def test_local_images_build_without_the_builder_banner(tmp_path: Path, status: int) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "docker").write_text(FAKE_DOCKER)
    (fake_bin / "docker").chmod(0o755)
    result = subprocess.run(
        ["bash", str(SCRIPTS / "build-local-images.sh"), "redis"],
        env={
            **os.environ,
            "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_BUILD_STATUS": str(status),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == status, result.stderr
    assert BUILDER_BANNER not in result.stdout + result.stderr
    assert "environment-variable." not in result.stderr
    assert "Step 1/2 : FROM base" in result.stdout
    assert "build error for build --force-rm" in result.stderr
