"""The system packages the old boxes or the repo's own Dockerfile installed, for Debian bookworm.

Some names are gone from bookworm (`netcat` is virtual, `libssl1.1` replaced), some only build
things (`gcc`, `*-dev`) and belong in the build stage, and Alpine's `apk` names are not
Debian's at all: each is renamed, moved or left out, and said so, never installed blindly.
"""

from __future__ import annotations

import re
from typing import Any

# Old or virtual names -> the bookworm package that provides them ("" : not needed).
RENAMED = {
    "netcat": "netcat-openbsd",
    "libmysqlclient-dev": "default-libmysqlclient-dev",
    "mysql-client": "default-mysql-client",
    "libssl1.0-dev": "libssl-dev",
    "libssl1.1": "libssl3",
    "libffi6": "libffi8",
    "libffi7": "libffi8",
    "libjpeg62-dev": "libjpeg62-turbo-dev",
    "libjpeg62": "libjpeg62-turbo",
    "libjpeg8-dev": "libjpeg-dev",
    "libpng12-dev": "libpng-dev",
    "libpng12-0": "libpng16-16",
    "libtiff4-dev": "libtiff-dev",
    "python-dev": "",
    "python-pip": "",
    "python-setuptools": "",
    "python-virtualenv": "",
    "python3-setuptools": "",
    "python3-wheel": "",
}
# What a box needs around an app, and a container does not: its platform does that job.
INFRASTRUCTURE = {
    "nginx",
    "apache2",
    "supervisor",
    "openssh-server",
    "ufw",
    "fail2ban",
    "ntp",
    "chrony",
    "cron",
    "logrotate",
    "rsyslog",
    "sudo",
    "unattended-upgrades",
    "software-properties-common",
    "python-software-properties",
    "uwsgi-plugin-python",
    "uwsgi-plugin-python3",
}
_BUILD_ONLY = re.compile(
    r"^(gcc|g\+\+|cpp|make|cmake|build-essential|pkg-config|autoconf|automake|libtool|"
    r"cargo|rustc|musl-dev|.*-dev)$"
)


# Debian's Python 2 modules (python-mysqldb, python-imaging): bookworm has none of them.
_PYTHON2_PACKAGE = re.compile(r"^python-(?!is-python3$|dev-is-python3$)[a-z0-9][a-z0-9.+-]*$")


def split_packages(packages: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """(runtime packages, build-stage packages, notes) for bookworm."""
    runtime: set[str] = set()
    build: set[str] = set()
    notes: list[str] = []
    alpine = sorted({p["name"] for p in packages if p.get("manager") == "apk"})
    if alpine:
        notes.append(
            f"left out Alpine packages of the repo's Dockerfile ({', '.join(alpine)}): "
            "the image is Debian; add the Debian ones it needs by hand"
        )
    infrastructure = sorted({p["name"] for p in packages if p["name"] in INFRASTRUCTURE})
    if infrastructure:
        notes.append(
            f"left out what the old boxes ran around the app ({', '.join(infrastructure)}): "
            "the platform does that job for a container"
        )
    for package in packages:
        if package.get("manager") == "apk" or package["name"] in INFRASTRUCTURE:
            continue
        name = RENAMED.get(package["name"], package["name"])
        if _PYTHON2_PACKAGE.match(name) and name not in RENAMED:
            notes.append(
                f"left out {name} ({package.get('source')}): a Python 2 package, gone from "
                "bookworm; the image installs the app's Python dependencies with pip"
            )
            continue
        if not name:
            continue
        if name != package["name"]:
            notes.append(f"{package['name']} ({package.get('source')}) is {name} on bookworm")
        (build if _BUILD_ONLY.match(name) else runtime).add(name)
    return sorted(runtime), sorted(build), notes
