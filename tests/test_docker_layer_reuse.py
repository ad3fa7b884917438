"""Docker tier: a code-only release through `make docker_build` rebuilds only the code layer.

Every layer below the code must come back with the same digest when TAG, VERSION, REVISION
and BUILD_TIME change with the code: only then does a release push kilobytes, not the venv.
"""

import json
from pathlib import Path

import pytest

from tests.docker_helpers import docker
from tests.render import generate, make

pytestmark = pytest.mark.docker

IMAGE = "kubestep-test/layer-reuse"


def build(project: Path, release: str, base_image: str, ca_bundle: str | None) -> dict:
    """`make docker_build` as release `release`; the image's layers, labels and environment."""
    result = make(
        project,
        "docker_build",
        IMAGE=IMAGE,
        TAG=release,
        VERSION=f"1.0.{release}",
        REVISION=f"{release}abc",
        BUILD_TIME=f"2026-11-2{release}T00:00:00Z",
        BASE_IMAGE=base_image,
        CA_BUNDLE=ca_bundle or "",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(docker("image", "inspect", "--format", "{{json .}}", f"{IMAGE}:{release}"))


@pytest.fixture(scope="module")
def releases(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, ca_bundle: str | None
) -> tuple[dict, dict]:
    project = generate(tmp_path_factory.mktemp("layers") / "layer-reuse", image=IMAGE)
    try:
        first = build(project, "1", base_image, ca_bundle)
        # A code-only change, lint- and format-clean: the test stage (step 5) checks both.
        (project / "app" / "release_note.py").write_text('"""A code-only change."""\n')
        second = build(project, "2", base_image, ca_bundle)
        yield first, second
    finally:
        docker("rmi", f"{IMAGE}:1", f"{IMAGE}:2", check=False)


def test_every_layer_up_to_the_code_is_reused(releases: tuple[dict, dict]) -> None:
    first, second = (image["RootFS"]["Layers"] for image in releases)
    assert len(first) == len(second)
    assert first[:-1] == second[:-1]
    assert first[-1] != second[-1]  # the code layer, and only it


def test_only_the_metadata_carries_the_release(releases: tuple[dict, dict]) -> None:
    for release, image in zip("12", releases, strict=True):
        labels, env = image["Config"]["Labels"], image["Config"]["Env"]
        assert labels["org.opencontainers.image.version"] == f"1.0.{release}"
        assert labels["org.opencontainers.image.revision"] == f"{release}abc"
        assert labels["org.opencontainers.image.created"] == f"2026-11-2{release}T00:00:00Z"
        assert f"SERVICE_VERSION=1.0.{release}" in env
        assert f"GIT_REVISION={release}abc" in env
        assert f"BUILD_TIME=2026-11-2{release}T00:00:00Z" in env


def test_the_venv_has_no_packaging_tools(releases: tuple[dict, dict]) -> None:
    found = docker(
        "run",
        "--rm",
        "--entrypoint",
        "python",
        releases[1]["Id"],
        "-c",
        "import importlib.util as u; print([m for m in ('pip', 'setuptools', 'wheel')"
        " if u.find_spec(m)], u.find_spec('gunicorn').origin)",
    )
    assert found.startswith("[] /opt/venv/"), found
