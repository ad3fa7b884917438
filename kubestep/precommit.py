"""Checks of what a step wrote, before it is committed: nothing broken is committed as success.

Python compiles, YAML and JSON parse, the Dockerfile passes hadolint, and every file the
Dockerfile COPYs from the build context exists. A wrong decision then fails in the step, with
the file and the reason, not later in a build.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from kubestep.errors import StepError
from kubestep.inventory.container_files import instructions
from kubestep.merge import Change


def check_changes(target: Path, changes: list[Change]) -> None:
    """Raise StepError naming the first written file that is broken."""
    for change in changes:
        if change.action == "delete" or change.file is None:
            continue
        problem = _problem(change.path, change.file.text)
        if problem:
            raise StepError(f"kubestep wrote a broken {change.path}: {problem}")
    if any(c.path == "Dockerfile" and c.action != "delete" for c in changes):
        dockerfile = (target / "Dockerfile").read_text()
        for problem in (_hadolint(target / "Dockerfile"), _missing_copy_source(target, dockerfile)):
            if problem:
                raise StepError(f"kubestep wrote a broken Dockerfile: {problem}")


def _problem(path: str, text: str) -> str:
    name = path.rsplit("/", 1)[-1]
    try:
        if name.endswith(".py"):
            compile(text, path, "exec")
        elif name.endswith((".yml", ".yaml")):
            list(yaml.safe_load_all(text))
        elif name.endswith(".json"):
            json.loads(text)
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    except yaml.YAMLError as error:
        return str(error).splitlines()[0]
    except ValueError as error:
        return str(error)
    return ""


def _hadolint(dockerfile: Path) -> str:
    program = shutil.which(
        "hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if program is None:
        return ""
    result = subprocess.run(
        [program, "--no-color", "--failure-threshold", "error", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return ""
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return f"hadolint: {lines[0] if lines else result.stderr.strip()}"


def _missing_copy_source(target: Path, dockerfile: str) -> str:
    """A COPY/ADD source from the build context that does not exist."""
    files = [
        (Path(folder) / name).relative_to(target).as_posix()
        for folder, dirs, names in os.walk(target)  # links are not followed
        if ".git" not in Path(folder).relative_to(target).parts
        for name in [*names, *dirs]
    ]
    for number, name, arguments in instructions(dockerfile):
        if name not in ("COPY", "ADD") or "--from=" in arguments:
            continue
        words = [w for w in arguments.split() if not w.startswith("--")]
        if arguments.startswith("["):
            try:
                words = json.loads(arguments)
            except ValueError:
                continue
        for source in words[:-1]:
            source = source.removeprefix("./").rstrip("/") or "."
            if source == "." or "://" in source:
                continue
            if not any(
                f == source or f.startswith(source + "/") or fnmatch.fnmatch(f, source)
                for f in files
            ):
                return f"line {number}: COPY {source}: no such file in the repository"
    return ""
