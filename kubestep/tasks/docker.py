"""Docker tasks: an engine on a bare machine, and images built without any registry."""

import sys

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from kubestep.catalog import CATALOG
from kubestep.engine import base_image_command, require_engine, script
from kubestep.errors import InvalidValue
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


# The names build-local-images.sh takes, one per catalog kind that Debian packages.
LOCAL_IMAGE_NAMES = [s.local_image_name for s in CATALOG.values() if s.local_image]


@task(help={"names": f"comma-separated: {','.join(LOCAL_IMAGE_NAMES)} (default: all)"})
@one_line_errors
def local_images(c: Context, names: str = "") -> None:
    """Build the backing-service images (PostgreSQL, MariaDB, Redis, memcached, RabbitMQ) from
    Debian packages; each takes the official image's environment variables.

    :param names: which images to build, comma-separated; all when empty
    """
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in LOCAL_IMAGE_NAMES]
    if unknown:
        valid = ", ".join(LOCAL_IMAGE_NAMES)
        raise InvalidValue(f"names: no local image {unknown[0]!r} (valid: {valid})")
    require_engine()
    c.run(" ".join(["bash", script("build-local-images.sh"), *wanted]), echo=True)


docker = Collection("docker", engine, base_image, local_images)
