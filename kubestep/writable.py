"""Where a migrated app may write under a read-only root filesystem, and how it gets there.

The inventory lists the paths the code writes (kubestep/inventory/writable_paths.py). Each
becomes, in the container (the code lives in /app):

- `tmpfs`: a directory that holds none of the repo's files (`logs/`): a tmpfs locally, an
  emptyDir on Kubernetes, owned by the service's user;
- `volume`: the directory of a SQLite database that holds none of the repo's files: a named
  volume locally, so the data outlives a restart;
- `link`: a SQLite database next to the code: the file is a link into /var/lib/SERVICE, where
  the volume is, so the code stays read-only and SQLite writes its journal beside the data;
- `xdg`: the platform directories (platformdirs, appdirs: `/usr/local/share/APP`): the XDG
  variables point them into /var/lib/SERVICE/xdg, in the same volume;
- `note`: a directory that holds the code itself (a log file in /app): kubestep cannot make
  it writable without making the code writable, so the README says what to change.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Any

APP_DIR = "/app"


def data_dir(service_name: str) -> str:
    return f"/var/lib/{service_name}"


def working_directory(argv: list[str]) -> str:
    """The process's working directory in the container: /app, or where `cd X &&` goes."""
    script = argv[-1] if len(argv) >= 3 and argv[:2] == ["/bin/sh", "-c"] else ""
    match = re.match(r"^\s*cd\s+(\S+)\s*(&&|;)", script)
    if not match:
        return APP_DIR
    folder = shlex.split(match.group(1))[0]
    return posixpath.normpath(posixpath.join(APP_DIR, folder))


def _container_path(path: str, cwd: str) -> str:
    if path.startswith("/"):
        return posixpath.normpath(path)
    if path.startswith("./") or path == ".":
        return posixpath.normpath(posixpath.join(cwd, path))
    return posixpath.normpath(posixpath.join(APP_DIR, path))


def _holds_repo_files(container_dir: str, occupied: list[str], cwd: str) -> bool:
    """Whether the image has files of the repo under container_dir (the code, say)."""
    if container_dir in (cwd, APP_DIR):
        return True
    if not container_dir.startswith(APP_DIR + "/"):
        return False
    rel = container_dir.removeprefix(APP_DIR + "/")
    return rel in occupied


def mounts(
    writable: list[dict[str, Any]], argv: list[str], service_name: str
) -> list[dict[str, str]]:
    """One entry per path the app writes: {path, mount, target, why, source}."""
    cwd = working_directory(argv)
    result: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for item in writable:
        path = _container_path(str(item.get("path", "")), cwd)
        kind = str(item.get("kind", "dir"))
        if (path, kind) in seen:
            continue
        seen.add((path, kind))
        entry = {"path": path, "why": str(item.get("why", "")), "source": item.get("source", "")}
        if kind == "xdg":
            target = posixpath.join(data_dir(service_name), "xdg")
            result.append({**entry, "path": target, "mount": "xdg", "target": target, "folder": ""})
            continue
        if kind == "sqlite":
            folder = posixpath.dirname(path)
            if _holds_repo_files(folder, item.get("occupied") or [], cwd):
                target = posixpath.join(data_dir(service_name), posixpath.basename(path))
                result.append({**entry, "mount": "link", "target": target, "folder": folder})
            else:
                result.append(
                    {**entry, "path": folder, "mount": "volume", "target": "", "folder": folder}
                )
        elif path.startswith(("/tmp/", "/dev/")) or path == "/tmp":
            continue
        elif _holds_repo_files(path, item.get("occupied") or [], cwd):
            result.append({**entry, "mount": "note", "target": "", "folder": path})
        else:
            result.append({**entry, "mount": "tmpfs", "target": "", "folder": path})
    return result
