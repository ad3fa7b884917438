"""kubestep: move a legacy service to Docker and Kubernetes one reviewable step at a time."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kubestep")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
