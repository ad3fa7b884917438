"""System packages that Python dependencies need to build or run, from a known mapping.

A dependency without a wheel for the image's Python is compiled in the build stage: it needs
a compiler and headers there, and its shared libraries in the final image. Pins older than a
project's first Python 3.11 wheel are the usual case in legacy repos (psycopg2 2.8, lxml 4.6).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

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
    "asyncpg": NativeNeeds((), (), (0, 27, 0)),
    "uvloop": NativeNeeds((), (), (0, 17, 0)),
    "httptools": NativeNeeds((), (), (0, 5, 0)),
    "multidict": NativeNeeds((), (), (6, 0, 3)),
    "yarl": NativeNeeds((), (), (1, 8, 2)),
    "frozenlist": NativeNeeds((), (), (1, 3, 3)),
    "aiohttp": NativeNeeds((), (), (3, 8, 3)),
    "regex": NativeNeeds((), (), (2022, 9, 13)),
    "simplejson": NativeNeeds((), (), (3, 17, 6)),
    "zope-interface": NativeNeeds((), (), (5, 5, 0)),
    "pycryptodome": NativeNeeds((), (), (3, 15, 0)),
    "bcrypt": NativeNeeds(("libffi-dev",), (), (3, 2, 0)),
    "pynacl": NativeNeeds(("libffi-dev",), (), (1, 4, 0)),
    "mysql-python": NativeNeeds(("default-libmysqlclient-dev",), ("libmariadb3",), None),
}

# Pins that no system package makes build or run on Python 3.11: their code predates it.
# name -> (the first version that builds, why)
INCOMPATIBLE: dict[str, tuple[tuple[int, ...] | None, str]] = {
    "psycopg2": ((2, 9), "its C code uses Python internals removed in 3.10"),
    "psycopg2-binary": ((2, 9), "its C code uses Python internals removed in 3.10"),
    "wsgiref": (None, "a Python 2 backport of the standard library: Python 3 has it built in"),
    "distribute": (None, "a Python 2 era fork of setuptools"),
    "mysql-python": (None, "Python 2 only: mysqlclient is its Python 3 successor"),
    "gunicorn": ((20,), "before 20 it calls inspect.getargspec, gone since Python 3.11"),
    "sqlalchemy": ((1, 2, 13), "before 1.2.13 it uses collections.MutableMapping, gone in 3.10"),
    "cffi": ((1, 15, 1), "before 1.15.1 its C code predates Python 3.11"),
    "falcon": ((2, 0), "before 2.0 it uses collections.MutableMapping, gone in 3.10"),
    "lxml": ((4, 9, 1), "before 4.9.1 its C code includes longintrepr.h, gone in 3.11"),
    "jinja2": ((2, 11), "before 2.11 it imports UserDict or ABCs from collections, gone in 3.10"),
    "werkzeug": ((0, 15), "before 0.15 it imports ABCs from collections, gone in 3.10"),
    "httptools": ((0, 5), "before 0.5 its C code includes longintrepr.h, gone in 3.11"),
    "uvloop": ((0, 17), "before 0.17 its Cython-made C code includes longintrepr.h, gone in 3.11"),
    # Measured: aiohttp 2.0.5 built, then its helpers.py failed to parse (`asyncio.async`).
    "aiohttp": (
        (3, 8, 3),
        "before 3.8.3 it has no Python 3.11 wheel, and 2.x does not even parse since 3.7"
        " (asyncio.async)",
    ),
    # Measured: Twisted 20.3.0's sdist fails on src/twisted/test/raiser.c; 21.2.0 is py3-none-any.
    "twisted": (
        (21, 2),
        "before 21.2 it has no pure-Python wheel and its C code includes longintrepr.h,"
        " gone in 3.11",
    ),
    # Measured: raising httptools alone left `uvicorn==0.11.8` and `httptools>=0.5` in conflict.
    "uvicorn": (
        (0, 12),
        "before 0.12 it requires httptools 0.1, whose C code cannot build on 3.11",
    ),
    "flask": ((0, 10), "before 0.10 it is Python 2 only: its setup.py does not run on Python 3"),
    "pytz": ((2018, 4), "before 2018.4 it imports Mapping from collections, gone in 3.10"),
    "django": ((2, 1), "before 2.1 it imports Iterator and Mapping from collections, gone in 3.10"),
    "markupsafe": (
        (1, 1),
        "before 1.0 it imports Mapping from collections, gone in 3.10, and 1.0's setup.py"
        " needs setuptools.Feature, gone since setuptools 46",
    ),
    "pyyaml": ((6, 0, 1), "before 6.0.1 it has no 3.11 wheel and its source no longer builds"),
    # Measured in the wheels: requests 2.18.4's sessions.py and urllib3 1.22's _collections.py
    # import Mapping from collections unguarded; requests 2.19 and urllib3 1.23 fall back to it.
    "requests": (
        (2, 19),
        "before 2.19 it imports Mapping from collections, gone in 3.10, and caps urllib3 below"
        " 1.23, which does too",
    ),
    "urllib3": ((1, 23), "before 1.23 it imports Mapping from collections, gone in 3.10"),
    # Measured in the wheels: graphene 2.1.8 imports them unguarded, 2.1.9 falls back to them.
    "graphene": (
        (2, 1, 9),
        "before 2.1.9 it imports Mapping and Iterable from collections, gone in 3.10",
    ),
}


Entry = TypeVar("Entry")


def _runtime_entries(
    dependencies: list[dict[str, Any]], table: dict[str, Entry]
) -> Iterator[tuple[dict[str, Any], Entry]]:
    """Each runtime dependency the table knows, with its entry."""
    for dependency in dependencies:
        entry = table.get(dependency.get("name", ""))
        if entry is not None and dependency.get("scope", "runtime") == "runtime":
            yield dependency, entry


def incompatible_pins(dependencies: list[dict[str, Any]]) -> list[str]:
    """Runtime dependencies pinned to a version that cannot build on Python 3.11, each with
    where it is and what would build."""
    found = []
    for dependency, (first, why) in _runtime_entries(dependencies, INCOMPATIBLE):
        pinned = pinned_version(dependency.get("spec", ""))
        if first is not None and (pinned is None or pinned >= first):
            continue
        wanted = f"raise it to >={'.'.join(map(str, first))}" if first else "remove it"
        found.append(f"{dependency.get('spec')} ({dependency.get('source')}): {why}; {wanted}")
    return found


def pinned_version(spec: str) -> tuple[int, ...] | None:
    return version_after(spec, "==|~=")  # ~=2.7.3 stays below 2.8


def version_after(spec: str, operators: str) -> tuple[int, ...] | None:
    """The version that follows the first of operators (a regex alternation) in spec."""
    match = re.search(rf"(?:{operators})\s*(\d+(?:\.\d+)*)", spec)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def _upper_bound(spec: str) -> tuple[int, ...] | None:
    match = re.search(r"<\s*(\d+(?:\.\d+)*)", spec)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def _has_wheel(
    dependency: dict[str, Any], pinned: tuple[int, ...] | None, first: tuple[int, ...]
) -> bool:
    """Whether pip can take a wheel: not pinned below the first one, and not `<` it either."""
    below = _upper_bound(dependency.get("spec", ""))
    if below is not None and below <= first:
        return False
    return pinned is None or pinned >= first


def build_packages(dependencies: list[dict[str, Any]]) -> dict[str, Any]:
    """{"build": [...], "runtime": [...], "why": [...]}: what the runtime deps need to build."""
    build: set[str] = set()
    runtime: set[str] = set()
    why: list[str] = []
    for dependency, needs in _runtime_entries(dependencies, NATIVE):
        pinned = pinned_version(dependency.get("spec", ""))
        if needs.first_wheel is not None and _has_wheel(dependency, pinned, needs.first_wheel):
            continue
        build.update(COMPILER + needs.build)
        runtime.update(needs.runtime)
        reason = (
            "no wheel for Python 3.11" if needs.first_wheel is None or pinned else "source only"
        )
        why.append(f"{dependency.get('spec')} ({dependency.get('source')}): {reason}")
    return {"build": sorted(build), "runtime": sorted(runtime), "why": why}
