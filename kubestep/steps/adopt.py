"""The user's own Dockerfile and compose file: kept word for word, moved aside, never shadowing.

Policy: exactly one Dockerfile (`Dockerfile`) and one compose file (`compose.yaml`) are what
`make docker_build`, `make run_local` and the Kubernetes image use: kubestep's, built from the
inventory, which read the user's files first (base image, packages, ENV, EXPOSE, USER, CMD). A
user file at a path Docker or compose would pick up instead (`Dockerfile`, `dockerfile`,
`docker-compose.yml`, `compose.yml`, ...) moves to a `.legacy` name in the same commit, so
nothing builds or runs the wrong one; other variants (`Dockerfile.prod`, `docker/Dockerfile`)
stay where they are. Later steps merge kubestep's files three-way as usual.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from kubestep.errors import StepError
from kubestep.merge import Change, File, read_file
from kubestep.steps import Answers

# Names the Docker CLI and compose pick up by default, per kubestep file, and where they go.
DOCKERFILE_NAMES = ("Dockerfile", "dockerfile")
COMPOSE_NAMES = (
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
)


def _legacy_name(path: str) -> str:
    if path.lower() == "dockerfile":
        return "Dockerfile.legacy"
    stem, _, suffix = path.rpartition(".")
    return f"{stem}.legacy.{suffix}"


def move_aside(
    changes: list[Change], target: Path, ours: str, names: tuple[str, ...]
) -> list[Change]:
    """Put kubestep's `ours` in place and move each user file Docker would pick up aside."""
    aside = f"{ours}.kubestep"
    kubestep_version = next((c for c in changes if c.path == aside and c.action == "add"), None)
    adjusted = [c for c in changes if c is not kubestep_version]
    for name in names:
        user = read_file(target, name)
        if user is None or (name == ours and kubestep_version is None):
            continue
        legacy = _legacy_name(name)
        if read_file(target, legacy) is not None:
            raise StepError(f"both {name} and {legacy} exist: kubestep needs {legacy} for {name}")
        adjusted.append(
            Change(legacy, "add", user, f"your {name}, word for word; kubestep's {ours} is used")
        )
        if name != ours:
            adjusted.append(Change(name, "delete", note=f"moved to {legacy}"))
    if kubestep_version is not None and kubestep_version.file is not None:
        adjusted.append(
            Change(ours, "update", File(kubestep_version.file.text), "from the inventory")
        )
    return adjusted


def adopt_dockerfile(changes: list[Change], target: Path, answers: Answers) -> list[Change]:
    return move_aside(changes, target, "Dockerfile", DOCKERFILE_NAMES)


def adopt_compose(changes: list[Change], target: Path, answers: Answers) -> list[Change]:
    return move_aside(changes, target, "compose.yaml", COMPOSE_NAMES)


# Dependencies that load a dotenv file at run time, and the file each reads by default.
_DOTENV_READERS = {"python-dotenv": ".env", "django-environ": ".env", "flask": ".flaskenv"}


def note_ignored_runtime_files(
    changes: list[Change], target: Path, answers: Answers
) -> list[Change]:
    """Say so when .dockerignore keeps out a file the app reads at run time (a dotenv file)."""
    legacy = answers.get("legacy", {})
    runtime = {
        path
        for name, path in _DOTENV_READERS.items()
        if name in legacy.get("dependency_names", []) and (target / path).is_file()
    }
    config = legacy.get("config_file", {}).get("example") or ""
    if config and not config.startswith("/"):
        runtime.add(config)
    adjusted = []
    for change in changes:
        if change.path == ".dockerignore" and change.file is not None and runtime:
            patterns = [
                line.strip()
                for line in change.file.text.splitlines()
                if line.strip() and not line.startswith(("#", "!"))
            ]
            ignored = sorted(
                path
                for path in runtime
                if any(fnmatch.fnmatch(path, p.removeprefix("**/")) for p in patterns)
            )
            if ignored:
                note = (
                    f"keeps {', '.join(ignored)} out of the image though the app reads it at "
                    "run time: its values come from the environment (config/*.env)"
                )
                change = Change(change.path, change.action, change.file, note)
        adjusted.append(change)
    return adjusted
