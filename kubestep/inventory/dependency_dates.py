"""When the dependency files were last changed, from the repo's own git history.

A requirement left open (`pydantic`, `flask>=1.0`) was written against the releases of its day;
today's may have broken it since (pydantic 2 under tortoise-orm 0.20). The date of the newest
commit that touched a file the dependencies were read from, kubestep's own step commits left
out, is the fact the image's pip resolves against (kubestep/decide.py `resolve_before`). No
git history, or a dependency file changed since its last commit, means no date: the files are
today's.
"""

from __future__ import annotations

from kubestep.inventory.model import Fact, Inventory
from kubestep.inventory.tree import SourceTree
from kubestep.repo import COMMIT_PREFIX, git_facts

# Project files that name dependencies beside the requirements files the dependencies came from.
_PROJECT_FILES = (
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
)


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    files = dependency_files(tree, found)
    if not files:
        return result
    changed = git_facts(tree.root, "status", "--porcelain", "--", *files)
    if changed is None or changed.strip():
        return result
    date = git_facts(
        tree.root,
        "log",
        "-1",
        "--invert-grep",
        f"--grep=^{COMMIT_PREFIX}",
        "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
        "--format=%cd",
        "--",
        *files,
    )
    if date and date.strip():
        result.dependencies_date = Fact(value=date.strip(), source=f"git log: {', '.join(files)}")
    return result


def dependency_files(tree: SourceTree, found: Inventory) -> list[str]:
    """The files the runtime dependencies were read from, and the project files beside them."""
    files = {d.source.rsplit(":", 1)[0] for d in found.dependencies if d.scope == "runtime"}
    files.update(name for name in _PROJECT_FILES if tree.text(name) is not None)
    return sorted(file for file in files if file and tree.text(file) is not None)
