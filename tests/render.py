"""Rendering helpers shared by the render, Docker and migration tiers."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from kubestep.generate import new_service

VENV_BIN = Path(sys.executable).parent
# Jinja left in a rendered file means a template bug (a CI file's ${{ expressions }} are not).
UNRENDERED = re.compile(r"{{|{%|%}|}}")
CI_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def generate(destination: Path, **answers: Any) -> Path:
    """A new service rendered from this checkout's template."""
    return new_service(destination, answers)


def make(project: Path, *targets: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run the generated project's own make targets with this venv's tools."""
    arguments = [f"{key}={value}" for key, value in variables.items()]
    return subprocess.run(
        ["make", "-C", str(project), *targets, *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )


def unrendered_files(project: Path) -> list[str]:
    """Files of project that still contain Jinja syntax."""
    found = []
    for path in project.rglob("*"):
        if (
            path.is_file()
            and ".git" not in path.parts
            and UNRENDERED.search(CI_EXPRESSION.sub("", path.read_text()))
        ):
            found.append(str(path.relative_to(project)))
    return found
