"""Plan how a step's rendered files land in the user's tree, losing nothing of theirs.

Three versions of each file meet: `base` (kubestep's render before the step), `theirs`
(kubestep's render after it) and `ours` (what the user's tree has). Files kubestep rendered
before are merged three-way, as copier's update does; a user file kubestep has never written is
merged by a rule for its kind, or kept, with kubestep's version written beside it.
The user's tree is read and written only through safe_files: no link out, no device.
"""

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kubestep.errors import StepError
from kubestep.inventory import safe_files


@dataclass(frozen=True)
class File:
    """A file's text and whether it is executable."""

    text: str
    executable: bool = False


@dataclass(frozen=True)
class Change:
    """One file operation of a step: add, update or delete path."""

    path: str
    action: str
    file: File | None = None
    note: str = ""


Tree = dict[str, File]
# Line-list files where the union of both versions is right.
_UNION_FILES = {".gitignore", ".dockerignore"}
# Files only kubestep writes: its new version always wins.
_OWNED_FILES = {".copier-answers.yml"}
# The largest user file kubestep merges with its own version.
MAX_MERGED_BYTES = 10_000_000


def read_tree(root: Path) -> Tree:
    """Every file below root but .git, by relative path."""
    tree = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and ".git" not in relative.parts:
            tree[relative.as_posix()] = File(path.read_text(), os.access(path, os.X_OK))
    return tree


def read_file(root: Path, path: str) -> File | None:
    """The user's file at path, or None where there is none.

    A path kubestep will not read (a symlink out of the repo, a device, ...) is a RefusedFile
    naming it: the step stops before anything is written.
    """
    root = root.resolve()
    if not os.path.lexists(root / path):
        return None
    try:
        text = safe_files.read_text(root, path, MAX_MERGED_BYTES)
    except FileNotFoundError:
        return None
    except safe_files.RefusedFile:
        raise
    except OSError as error:  # unreadable (permissions): one line, not a traceback
        raise safe_files.RefusedFile(path, f"cannot be read: {error.strerror}") from None
    real = safe_files.resolve_inside(root, path)
    return File(text, os.access(real, os.X_OK))


def _union(ours: str, theirs: str) -> str:
    lines = ours.splitlines()
    added = [line for line in theirs.splitlines() if line not in lines]
    if not added:
        return ours
    return ours.rstrip("\n") + "\n\n# Added by kubestep\n" + "\n".join(added) + "\n"


def merge_three_way(path: str, ours: str, base: str, theirs: str) -> str:
    """git merge-file of the three versions; a conflict is a StepError naming the file."""
    with tempfile.TemporaryDirectory() as scratch:
        names = []
        for label, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            name = Path(scratch) / label
            name.write_text(text)
            names.append(str(name))
        result = subprocess.run(
            ["git", "merge-file", "-p", *names], capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        raise StepError(
            f"{path} changed both in your tree and in kubestep's new version and git cannot "
            "merge them: make your change elsewhere (e.g. local.mk) or undo it, then rerun"
        )
    return result.stdout


def _first_write(path: str, ours: File, theirs: File, user_root: Path) -> list[Change]:
    """kubestep writes path for the first time, but the user has a file there already."""
    name = Path(path).name
    if name in _UNION_FILES:
        return [
            Change(
                path,
                "update",
                File(_union(ours.text, theirs.text), ours.executable),
                "merged: your lines kept, kubestep's added",
            )
        ]
    if path == "Makefile" and not (user_root / "legacy.mk").exists():
        return [
            Change("legacy.mk", "add", ours, "your Makefile, unchanged; Makefile includes it"),
            Change(path, "update", theirs, "the single entry point; your targets still work"),
        ]
    aside = f"{path}.kubestep"
    return [Change(aside, "add", theirs, f"kubestep's version: yours at {path} is kept as is")]


def plan_changes(user_root: Path, base: Tree, theirs: Tree) -> list[Change]:
    """The changes that take the user's tree from kubestep's render `base` to `theirs`."""
    changes: list[Change] = []
    for path, new in theirs.items():
        ours, old = read_file(user_root, path), base.get(path)
        if ours is None:
            if old is None:
                changes.append(Change(path, "add", new))
            continue  # the user deleted a file kubestep wrote: respect that
        if ours == new:
            continue
        if path in _OWNED_FILES:
            changes.append(Change(path, "update", new))
        elif old is None:
            changes.extend(_first_write(path, ours, new, user_root))
        elif ours == old:
            changes.append(Change(path, "update", new))
        elif old != new:
            merged = merge_three_way(path, ours.text, old.text, new.text)
            if merged != ours.text:
                changes.append(
                    Change(path, "update", File(merged, new.executable), "merged with your changes")
                )
    for path, old in base.items():
        if path not in theirs and read_file(user_root, path) == old:
            changes.append(Change(path, "delete"))
    return changes


def apply_changes(root: Path, changes: list[Change]) -> None:
    """Write the changes into root; first check that none goes through a symlink."""
    root = root.resolve()
    destinations = [
        safe_files.writable(root, change.path, deleting=change.action == "delete")
        for change in changes
    ]
    for change, destination in zip(changes, destinations, strict=True):
        if change.action == "delete":
            destination.unlink()
            continue
        assert change.file is not None
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(change.file.text, encoding="utf-8", errors="surrogateescape")
        destination.chmod(0o755 if change.file.executable else 0o644)
