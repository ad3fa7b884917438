"""System packages that Python dependencies need to build or run, from a known mapping.

A dependency without a wheel for the image's Python is compiled in the build stage: it needs
a compiler and headers there, and its shared libraries in the final image. Pins older than a
project's first Python 3.11 wheel are the usual case in legacy repos (psycopg2 2.8, lxml 4.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

COMPILER = ("gcc", "python3-dev")


@dataclass(frozen=True)
class NativeNeeds:
    build: tuple[str, ...]
    runtime: tuple[str, ...]
    # Below this version there is no wheel for Python 3.11; None: never a Linux wheel.
    first_wheel: tuple[int, ...] | None


NATIVE: dict[str, NativeNeeds] = {
    "psycopg2": NativeNeeds(("libpq-dev",), ("libpq5",), None),
    "psycopg2-binary": NativeNeeds(("libpq-dev",), ("libpq5",), (2, 9, 5)),
    "mysqlclient": NativeNeeds(
        ("default-libmysqlclient-dev", "pkg-config"), ("libmariadb3",), None
    ),
    "uwsgi": NativeNeeds((), (), None),
    "python-ldap": NativeNeeds(("libldap2-dev", "libsasl2-dev"), ("libldap-2.5-0",), None),
    "pycurl": NativeNeeds(("libcurl4-openssl-dev", "libssl-dev"), ("libcurl4",), None),
    "lxml": NativeNeeds(("libxml2-dev", "libxslt1-dev"), ("libxml2", "libxslt1.1"), (4, 9, 2)),
    "pillow": NativeNeeds(("libjpeg-dev", "zlib1g-dev"), ("libjpeg62-turbo",), (9, 3)),
    "cryptography": NativeNeeds(("libffi-dev", "libssl-dev"), (), (3, 4)),
    "cffi": NativeNeeds(("libffi-dev",), (), (1, 15, 1)),
    "pyyaml": NativeNeeds(("libyaml-dev",), (), (6, 0)),
    "greenlet": NativeNeeds((), (), (2, 0)),
    "gevent": NativeNeeds((), (), (22, 10)),
    "markupsafe": NativeNeeds((), (), (2, 1, 2)),
    "numpy": NativeNeeds(("gfortran", "libopenblas-dev"), (), (1, 23, 2)),
    "psutil": NativeNeeds((), (), (5, 9, 0)),
    "ujson": NativeNeeds((), (), (5, 5)),
}


def _pinned_version(spec: str) -> tuple[int, ...] | None:
    match = re.search(r"==\s*(\d+(?:\.\d+)*)", spec)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def build_packages(dependencies: list[dict[str, Any]]) -> dict[str, Any]:
    """{"build": [...], "runtime": [...], "why": [...]}: what the runtime deps need to build."""
    build: set[str] = set()
    runtime: set[str] = set()
    why: list[str] = []
    for dependency in dependencies:
        if dependency.get("scope", "runtime") != "runtime":
            continue
        needs = NATIVE.get(dependency.get("name", ""))
        if needs is None:
            continue
        pinned = _pinned_version(dependency.get("spec", ""))
        if needs.first_wheel is not None and (pinned is None or pinned >= needs.first_wheel):
            continue
        build.update(COMPILER + needs.build)
        runtime.update(needs.runtime)
        reason = (
            "no wheel for Python 3.11" if needs.first_wheel is None or pinned else "source only"
        )
        why.append(f"{dependency.get('spec')} ({dependency.get('source')}): {reason}")
    return {"build": sorted(build), "runtime": sorted(runtime), "why": why}
