"""Validators keyed by kind, shared by copier questions and Python callers.

Each validator returns the value unchanged or raises InvalidValue with a message that quotes
the bad value and says what is allowed.
"""

import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from kubestep.errors import InvalidValue

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROBE_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
# A git branch name that CI conditions and YAML can quote without escaping.
_BRANCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
# Docker's reference grammar, simplified: [host[:port]/]path[:tag][@digest].
_IMAGE_REF = re.compile(
    # A first component is a registry host only with a dot, a port, or as localhost.
    r"^(?:(?P<host>(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)(?::[0-9]+)?"
    r"|[a-zA-Z0-9-]+:[0-9]+)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def k8s_name(value: str) -> str:
    """A DNS-1123 label: a Kubernetes object name, namespace part or service name."""
    if not isinstance(value, str) or len(value) > 63 or not _DNS_LABEL.match(value):
        raise InvalidValue(
            f"{value!r} is not a valid name: use 1-63 lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit (e.g. 'my-service')"
        )
    return value


def port(value: int | str) -> int:
    """A TCP port a service may listen on without privileges."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidValue(
            f"{value!r} is not a port: use a whole number from 1024 to 65535"
        ) from None
    if not 1024 <= number <= 65535:
        raise InvalidValue(
            f"{value!r} is not a usable port: use 1024 to 65535 "
            "(lower ports need root, which the container does not have)"
        )
    return number


def image_ref(value: str) -> str:
    """A container image reference such as 'registry.example.com/team/app:1.2'."""
    if not isinstance(value, str) or not _IMAGE_REF.match(value) or len(value) > 255:
        raise InvalidValue(
            f"{value!r} is not a valid image reference: use [registry/]name[:tag][@sha256:...] "
            "with a lowercase name (e.g. 'python:3.11-slim-bookworm')"
        )
    return value


def image_repository(value: str) -> str:
    """An image reference without tag or digest: the tag is chosen per build."""
    match = _IMAGE_REF.match(value) if isinstance(value, str) else None
    if match is None or match["tag"] or match["digest"]:
        raise InvalidValue(
            f"{value!r} is not an image repository: use [registry/]name without a tag "
            "(e.g. 'registry.example.com/team/my-service'); the tag is set per build"
        )
    return value


def env_name(value: str) -> str:
    """An environment variable name, as a shell and Kubernetes accept it."""
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise InvalidValue(
            f"{value!r} is not a valid environment variable name: use letters, digits and '_', "
            "not starting with a digit (e.g. 'DATABASE_URL')"
        )
    return value


def probe_path(value: str) -> str:
    """An HTTP path for a probe or endpoint: absolute, no query, no spaces."""
    if not isinstance(value, str) or not _PROBE_PATH.match(value):
        raise InvalidValue(
            f"{value!r} is not a valid HTTP path: start with '/' and use letters, digits "
            "and . _ ~ / - only (e.g. '/health')"
        )
    return value


def web_url(value: str) -> str:
    """An http(s) URL with a host, e.g. where the repository is browsed (alerts' runbooks)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise InvalidValue(
            f"{value!r} is not an http(s) URL with a host (e.g. "
            "'https://git.example.com/team/service/-/blob/main')"
        )
    return value.rstrip("/")


def branch_name(value: str) -> str:
    """A git branch CI deploys from: letters, digits and . _ / - only."""
    if (
        not isinstance(value, str)
        or not _BRANCH_NAME.match(value)
        or ".." in value
        or value.endswith((".", "/", ".lock"))
    ):
        raise InvalidValue(
            f"{value!r} is not a usable branch name: use letters, digits and . _ / -, "
            "starting with a letter or digit (e.g. 'main')"
        )
    return value


def resolve_date(value: str) -> str:
    """A day (2023-06-01) or a UTC time (2023-06-01T12:00:00Z) pip resolves against, or `today`."""
    text = value.strip() if isinstance(value, str) else ""
    if text == "today":
        return text
    try:
        datetime.fromisoformat(text.removesuffix("Z") if "T" in text else text)
    except ValueError:
        raise InvalidValue(
            f"{value!r} is not a date: use 2023-06-01, 2023-06-01T12:00:00Z or `today` "
            "(today's releases)"
        ) from None
    return text


VALIDATORS: dict[str, Callable[..., object]] = {
    "k8s_name": k8s_name,
    "port": port,
    "image_ref": image_ref,
    "image_repository": image_repository,
    "env_name": env_name,
    "probe_path": probe_path,
    "web_url": web_url,
    "branch_name": branch_name,
    "resolve_date": resolve_date,
}


def validate(kind: str, value: object) -> object:
    """Check value against the validator of kind; an unknown kind is a programming error."""
    try:
        validator = VALIDATORS[kind]
    except KeyError:
        raise ValueError(
            f"unknown validator kind {kind!r}; known: {', '.join(VALIDATORS)}"
        ) from None
    return validator(value)


def problem(kind: str, value: object) -> str:
    """The error message for value, or '' when it is valid (copier's validator contract)."""
    try:
        validate(kind, value)
    except InvalidValue as error:
        return str(error)
    return ""
