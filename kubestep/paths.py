"""Where kubestep's own files are: the template root, shipped scripts and image recipes."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
SCRIPTS = PACKAGE / "scripts"
IMAGES = PACKAGE / "images"
EXAMPLE = REPO / "examples" / "legacy-app"

# The local base image tag: built from Debian packages, never pulled.
LOCAL_BASE_IMAGE = "kubestep-local/python:3.11-bookworm"
LOCAL_SERVICE_IMAGES = {
    "POSTGRES_IMAGE": "kubestep-local/postgres:15",
    "REDIS_IMAGE": "kubestep-local/redis:7",
}
