"""Read-only access to the legacy repo: one walk, cached file text and Python syntax trees.

Readers never open files themselves, so that skipping vendored trees, size limits, decoding
and safety (no symlink out of the repo, no device or FIFO: see safe_files) are decided once,
and a bad file turns into a warning naming it instead of a crash or a leak.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from kubestep.inventory import safe_files
from kubestep.inventory.model import Inventory, ReadWarning

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
MAX_FILE_BYTES = safe_files.MAX_FILE_BYTES


class SourceTree:
    """The files of one repo, by POSIX path relative to its root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        # Files kubestep will not read, with why: reported once, as warnings naming them.
        self.refused: dict[str, str] = {}
        self.files = sorted(self._walk())
        self._text: dict[str, str | None] = {}
        self._python: dict[str, ast.Module | SyntaxError] = {}

    def _walk(self) -> Iterable[str]:
        for rel, refusal in safe_files.walk(self.root, _skipped_dir):
            if refusal:
                self.refused[rel] = refusal
            else:
                yield rel

    def warnings(self) -> list[ReadWarning]:
        """One warning per file left unread (a link out, a device, too big, binary)."""
        return [ReadWarning(at(rel, 1), reason) for rel, reason in sorted(self.refused.items())]

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
        """The file's text, or None when it is missing, unsafe, too big, unreadable or binary
        (recorded in `refused`, so the reason becomes a warning)."""
        if rel not in self._text:
            self._text[rel] = self._read(rel)
        return self._text[rel]

    def _read(self, rel: str) -> str | None:
        if rel in self.refused:
            return None
        try:
            data = safe_files.read_bytes(self.root, rel, MAX_FILE_BYTES)
        except safe_files.RefusedFile as refused:
            self.refused[rel] = refused.reason
            return None
        except FileNotFoundError:
            return None
        except OSError as error:
            self.refused[rel] = f"cannot be read: {error.strerror or error}"
            return None
        if b"\0" in data[:4096]:
            self.refused[rel] = "binary: not read"
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
                continue  # the reason is in self.refused, reported once by collect()
            try:
                found.merge(parse(rel, text))
            except Exception as error:  # a reader bug must not cost the other files
                found.warn(f"{rel}:1", f"could not be read: {type(error).__name__}: {error}")
        return found


def _skipped_dir(path: Path) -> bool:
    return path.name in SKIPPED_DIRS or (path / "pyvenv.cfg").exists()


def at(rel: str, line: int) -> str:
    """The `path:line` every fact carries."""
    return f"{rel}:{line}"


def line_of(text: str, needle: str, start: int = 1) -> int:
    """The 1-based line where needle first occurs at or after line start (start when absent)."""
    for number, line in enumerate(text.splitlines()[start - 1 :], start):
        if needle in line:
            return number
    return start
