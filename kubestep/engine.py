"""The Docker engine as kubestep needs it: reachable, with the local images built."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kubestep.errors import DockerUnavailable
from kubestep.paths import LOCAL_BASE_IMAGE, SCRIPTS

HOW_TO_GET_ONE = (
    "no Docker engine answers `docker info`; start one with `sudo .venv/bin/inv engine` "
    "(Debian's docker.io and Compose v2) or Docker's own install guide"
)
# Set to 1 (or pass `inv demo --no-engine`) and kubestep never installs or starts an engine.
NO_ENGINE_VARIABLE = "KUBESTEP_NO_ENGINE"
OS_RELEASE = Path("/etc/os-release")
DEBIAN_FAMILY = {"debian", "ubuntu"}


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


def engine_opted_out() -> bool:
    """True when the user asked, through the environment, that no engine be installed."""
    return os.environ.get(NO_ENGINE_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def debian_family(os_release: Path = OS_RELEASE) -> bool:
    """True on Debian, Ubuntu and their derivatives: the start script uses their apt."""
    try:
        text = os_release.read_text()
    except OSError:
        return False
    names: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in {"ID", "ID_LIKE"}:
            names.update(value.strip().strip("\"'").split())
    return bool(names & DEBIAN_FAMILY)


def _passwordless_sudo() -> bool:
    if shutil.which("sudo") is None:
        return False
    probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False, timeout=30)
    return probe.returncode == 0


def as_root() -> list[str] | None:
    """The prefix that runs a command as root: [] as root, sudo -n with passwordless sudo."""
    if os.geteuid() == 0:
        return []
    if _passwordless_sudo():
        return ["sudo", "-n"]
    return None


def engine_start_command() -> list[str]:
    """The command that installs and starts an engine here, what `inv engine` runs.

    Raises DockerUnavailable, saying why, where kubestep cannot: not Debian or Ubuntu,
    neither root nor passwordless sudo, or DOCKER_HOST naming an engine elsewhere.
    """
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        reason = f"DOCKER_HOST={host} is not a local socket"
    elif not debian_family():
        reason = "it installs one only on Debian or Ubuntu"
    elif (prefix := as_root()) is None:
        reason = "that needs root or passwordless sudo"
    else:
        return [*prefix, *_start_script_env(host), "bash", script("start-docker-engine.sh")]
    raise DockerUnavailable(f"{HOW_TO_GET_ONE} (kubestep did not start one itself: {reason})")


def base_image_build(tag: str = LOCAL_BASE_IMAGE) -> list[str]:
    """The base image's build as a command list, through sudo where that is how to be root.

    debootstrap runs only as root; the script skips it when the image or its cache exists.
    """
    prefix = as_root() or []
    if prefix and (host := os.environ.get("DOCKER_HOST")):
        prefix = [*prefix, "env", f"DOCKER_HOST={host}"]
    return [*prefix, "bash", script("build-base-image.sh"), tag]


def _start_script_env(host: str) -> list[str]:
    # Explicit, because sudo resets the environment: this venv's pip fetches Compose v2.
    variables = [f"KUBESTEP_PYTHON={sys.executable}"]
    if host:
        variables.append(f"DOCKER_HOST={host}")
    return ["env", *variables]
