"""Docker tasks: an engine on a bare machine, and images built without any registry."""

import sys

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from kubestep.engine import base_image_command, require_engine, script
from kubestep.paths import LOCAL_BASE_IMAGE
from kubestep.tasks.errors import one_line_errors


@task
@one_line_errors
def engine(c: Context) -> None:
    """Install and start a Docker engine and Compose v2 (Debian, as root, no systemd needed)."""
    # This venv's pip fetches Compose v2: it is the one that trusts the host's proxy, if any.
    c.run(
        f"bash {script('start-docker-engine.sh')}",
        echo=True,
        env={"KUBESTEP_PYTHON": sys.executable},
    )


@task(help={"tag": f"the image tag (default {LOCAL_BASE_IMAGE})"})
@one_line_errors
def base_image(c: Context, tag: str = LOCAL_BASE_IMAGE) -> None:
    """Build a Python 3.11 base image from Debian packages alone (air-gapped networks).

    :param tag: the image tag to build
    """
    require_engine()
    c.run(base_image_command(tag), echo=True)


@task(help={"names": "comma-separated: postgres,redis (default: all)"})
@one_line_errors
def local_images(c: Context, names: str = "") -> None:
    """Build the backing-service images (PostgreSQL, Redis) from Debian packages.

    :param names: which images to build, comma-separated; all when empty
    """
    require_engine()
    c.run(f"bash {script('build-local-images.sh')} {names.replace(',', ' ')}".rstrip(), echo=True)


docker = Collection("docker", engine, base_image, local_images)
