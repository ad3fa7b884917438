"""Shared fixtures: the repo's paths and a real Docker engine for the `docker` tier."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "kubestep" / "scripts"
BASE_IMAGE = os.environ.get("KUBESTEP_BASE_IMAGE", "kubestep-local/python:3.11-bookworm")
# The host's CA bundle, so that pip inside builds trusts an intercepting proxy.
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    return result.returncode == 0


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip without a Docker engine, or fail when KUBESTEP_REQUIRE_DOCKER=1 (CI)."""
    if _engine_answers():
        return
    message = "no Docker engine answers `docker info` (start one: sudo inv engine)"
    if os.environ.get("KUBESTEP_REQUIRE_DOCKER") == "1":
        pytest.fail(f"KUBESTEP_REQUIRE_DOCKER=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def base_image(docker_engine: None) -> str:
    """The local Debian Python base image, built without a registry when missing."""
    subprocess.run(["bash", str(SCRIPTS / "build-base-image.sh"), BASE_IMAGE], check=True)
    return BASE_IMAGE


@pytest.fixture(scope="session")
def ca_bundle() -> str | None:
    """The CA bundle builds must trust, or None where the host has none."""
    return HOST_CA_BUNDLE if Path(HOST_CA_BUNDLE).is_file() else None
