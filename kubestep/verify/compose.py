"""The compose CLI, run for the verify project only, with failures as one-line errors."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kubestep.errors import InvalidValue, KubestepError

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


class ComposeError(KubestepError):
    """A compose or docker command failed; the message ends with the command's own reason."""


@dataclass(frozen=True)
class Compose:
    """The compose CLI for one project: run in its directory, under the verify project name."""

    command: tuple[str, ...]
    project: str
    directory: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 120.0) -> str:
        return self._run([*self.command, "-p", self.project, *args], timeout)

    def docker(self, *args: str) -> str:
        docker = self.command[0] if Path(self.command[0]).name == "docker" else "docker"
        return self._run([docker, *args], 30.0)

    def _run(self, argv: list[str], timeout: float) -> str:
        shown = " ".join(argv)
        try:
            result = subprocess.run(
                argv,
                cwd=self.directory,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise ComposeError(
                f"{argv[0]!r} is not installed or not on PATH: verify runs the service with "
                "docker compose (--compose or $COMPOSE names another command)"
            ) from None
        except subprocess.TimeoutExpired:
            raise ComposeError(f"`{shown}` did not finish within {timeout:.0f} s") from None
        if result.returncode != 0:
            reason = _reason(result.stderr) or f"exit code {result.returncode}"
            raise ComposeError(f"`{shown}` failed: {reason}")
        return result.stdout


def _reason(stderr: str) -> str:
    """The last line that says what went wrong, not docker's usage or "See --help" hints."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    while len(lines) > 1 and lines[-1].startswith(("See '", "Run '", "Usage:")):
        lines.pop()
    return lines[-1] if lines else ""


def compose_project(name: str) -> str:
    """`<name>-verify`, as compose accepts it: lowercase letters, digits, '-' and '_'."""
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    if not cleaned:
        raise InvalidValue(f"--name {name!r} has no letter or digit to name a compose project")
    return f"{cleaned}-verify"
