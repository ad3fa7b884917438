"""The Docker engine as kubestep needs it: reachable, with the local images built."""

import shutil
import subprocess

from kubestep.errors import DockerUnavailable
from kubestep.paths import LOCAL_BASE_IMAGE, SCRIPTS

HOW_TO_GET_ONE = (
    "no Docker engine answers `docker info`; start one with `sudo .venv/bin/inv engine` "
    "(Debian's docker.io and Compose v2) or Docker's own install guide"
)


def engine_answers() -> bool:
    """True when a Docker engine answers; False without a client or an engine."""
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=60)
    return result.returncode == 0


def require_engine() -> None:
    """Raise DockerUnavailable, with the way to get an engine, when none answers."""
    if not engine_answers():
        raise DockerUnavailable(HOW_TO_GET_ONE)


def script(name: str) -> str:
    """The path of a shell script shipped with kubestep."""
    return str(SCRIPTS / name)


def base_image_command(tag: str = LOCAL_BASE_IMAGE) -> str:
    """The command that builds the local base image, or loads it from the cache."""
    return f"bash {script('build-base-image.sh')} {tag}"
