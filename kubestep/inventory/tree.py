"""Read-only access to the legacy repo: one walk, cached file text and Python syntax trees.

Readers never open files themselves, so that skipping vendored trees, size limits and
decoding are decided once, and a bad file turns into a warning instead of a crash.
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from kubestep.inventory.model import Inventory

# Trees that hold tools or other people's code, not the service.
SKIPPED_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".kubestep",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    "build",
    "dist",
}
MAX_FILE_BYTES = 1_000_000


class SourceTree:
    """The files of one repo, by POSIX path relative to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = sorted(self._walk())
        self._text: dict[str, str | None] = {}
        self._python: dict[str, ast.Module | SyntaxError] = {}

    def _walk(self) -> Iterable[str]:
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = [
                name
                for name in dirs
                if name not in SKIPPED_DIRS and not Path(folder, name, "pyvenv.cfg").exists()
            ]
            base = Path(folder).relative_to(self.root)
            for name in names:
                yield (base / name).as_posix()

    def matching(self, *patterns: str, top_level: bool = False) -> list[str]:
        """Files whose name (or path, when the pattern has a '/') matches a glob pattern."""
        found = []
        for rel in self.files:
            if top_level and "/" in rel:
                continue
            name = PurePosixPath(rel).name
            if any(fnmatch.fnmatch(rel if "/" in p else name, p) for p in patterns):
                found.append(rel)
        return found

    def text(self, rel: str) -> str | None:
        """The file's text, or None when it is too big, unreadable or binary."""
        if rel not in self._text:
            self._text[rel] = self._read(rel)
        return self._text[rel]

    def _read(self, rel: str) -> str | None:
        path = self.root / rel
        try:
            if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        if b"\0" in data[:4096]:
            return None
        return data.decode("utf-8", errors="replace")

    def python(self, rel: str) -> ast.Module | SyntaxError:
        """The parsed module, or the SyntaxError that stopped it (reported by one reader only)."""
        if rel not in self._python:
            try:
                self._python[rel] = ast.parse(self.text(rel) or "", filename=rel)
            except SyntaxError as error:
                self._python[rel] = error
            except ValueError as error:  # null bytes and the like
                self._python[rel] = SyntaxError(str(error))
        return self._python[rel]

    def python_files(self) -> list[str]:
        return self.matching("*.py")

    def find_by_suffix(self, suffix: str) -> str | None:
        """The repo file whose path ends with suffix (a template reference, a script name)."""
        suffix = suffix.lstrip("./")
        for rel in self.files:
            if rel == suffix or rel.endswith("/" + suffix):
                return rel
        return None

    def per_file(self, paths: Iterable[str], parse: Callable[[str, str], Inventory]) -> Inventory:
        """Parse each file in isolation: one that crashes its parser becomes a warning."""
        found = Inventory()
        for rel in paths:
            text = self.text(rel)
            if text is None:
                found.warn(f"{rel}:1", "not read: binary, unreadable or larger than 1 MB")
                continue
            try:
                found.merge(parse(rel, text))
            except Exception as error:  # a reader bug must not cost the other files
                found.warn(f"{rel}:1", f"could not be read: {type(error).__name__}: {error}")
        return found


def at(rel: str, line: int) -> str:
    """The `path:line` every fact carries."""
    return f"{rel}:{line}"


def line_of(text: str, needle: str, start: int = 1) -> int:
    """The 1-based line where needle first occurs at or after line start (start when absent)."""
    for number, line in enumerate(text.splitlines()[start - 1 :], start):
        if needle in line:
            return number
    return start
