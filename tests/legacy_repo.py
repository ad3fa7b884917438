"""A throwaway git copy of examples/legacy-app, for the migration tiers."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubestep.migrate import migrate
from kubestep.paths import EXAMPLE

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@kubestep.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@kubestep.invalid",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A repo tree of its own for one shape: {relative path: text}."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def git(repo: Path, *arguments: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    return result.stdout.strip()


def run_inv(*arguments: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """kubestep's `inv` from this venv, as a user runs it, with the test git identity."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "inv"), *arguments],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_IDENTITY},
        timeout=timeout,
    )


def legacy_copy(destination: Path, source: Path = EXAMPLE, when: str = "") -> Path:
    """examples/legacy-app (or another legacy tree) as a fresh git repository with one commit,
    made now or, as history written that day, at when (an ISO 8601 time)."""
    shutil.copytree(
        source, destination, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".venv")
    )
    git(destination, "init", "--quiet")
    commit_all_at(destination, when, "The legacy service")
    return destination


def commit_all_at(repo: Path, when: str, message: str) -> None:
    """Commit everything, with both git dates set to when unless it is empty."""
    git(repo, "add", "--all")
    dates = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when} if when else {}
    subprocess.run(
        ["git", "-C", str(repo), "commit", "--quiet", "--message", message],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_IDENTITY, **dates},
    )


def tracked_files(repo: Path) -> dict[str, bytes]:
    """Every file git tracks in repo, with its content."""
    return {path: (repo / path).read_bytes() for path in git(repo, "ls-files").splitlines()}


def migrated_copy(destination: Path, *steps: str) -> Path:
    """examples/legacy-app copied to destination, then migrated step by step by a test user."""
    repo = legacy_copy(destination)
    with pytest.MonkeyPatch.context() as env:
        for name, value in GIT_IDENTITY.items():
            env.setenv(name, value)
        for step in steps:
            migrate(repo, step, out=lambda line: None)
    return repo
