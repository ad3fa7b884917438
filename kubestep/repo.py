"""The target repository, through git: checks before a step, one commit after, undo on failure."""

import os
import subprocess
from pathlib import Path

from kubestep.errors import TargetError

# kubestep's own scratch space in the target; `inv inventory` may have written it.
KUBESTEP_DIR = ".kubestep"
# The target's hooks and file-system monitor are programs a repository can name: kubestep's
# git commands run neither (see "Security" in docs/migration.rst).
_NO_REPO_PROGRAMS = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
# The first words of every commit kubestep makes: `kubestep step 3: run locally ...`.
COMMIT_PREFIX = "kubestep step "


def git(target: Path, *arguments: str) -> str:
    """Run git in target and return its stdout; a failure becomes a one-line TargetError."""
    result = subprocess.run(
        ["git", *_NO_REPO_PROGRAMS, "-C", str(target), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise TargetError(f"git {arguments[0]} failed in {target}: {detail[-1] if detail else '?'}")
    return result.stdout


def git_facts(target: Path, *arguments: str) -> str | None:
    """git's stdout in target, or None where target is no git work tree or git fails: for
    readers, to whom a repo without history is a repo without that fact."""
    try:
        result = subprocess.run(
            ["git", *_NO_REPO_PROGRAMS, "-C", str(target), *arguments],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
            env={**os.environ, "TZ": "UTC", "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def require_clean_repository(target: Path) -> None:
    """Refuse a target that is missing, not the top of a git repository, or has changes."""
    if not target.is_dir():
        raise TargetError(f"{str(target)!r} is not a directory")
    try:
        top = git(target, "rev-parse", "--show-toplevel").strip()
    except TargetError:
        raise TargetError(
            f"{str(target)!r} is not a git repository: kubestep commits each step, "
            "run `git init && git add -A && git commit -m 'Before kubestep'` there first"
        ) from None
    if Path(top).resolve() != target.resolve():
        raise TargetError(f"{str(target)!r} is inside the git repository {top!r}: use its top")
    git(target, "rev-parse", "--verify", "HEAD")
    changes = [line[3:] for line in git(target, "status", "--porcelain").splitlines()]
    changes = [path for path in changes if not path.startswith(f"{KUBESTEP_DIR}/")]
    if changes:
        listed = ", ".join(changes[:5]) + (", ..." if len(changes) > 5 else "")
        raise TargetError(
            f"{str(target)!r} has uncommitted changes ({listed}): commit or stash them first"
        )
    try:
        git(target, "var", "GIT_AUTHOR_IDENT")
    except TargetError:
        raise TargetError(
            "git has no author identity to commit the step with: "
            "set it with `git config --global user.name ...` and `... user.email ...`"
        ) from None


def commit_all(target: Path, message: str) -> str:
    """Stage everything and commit it as one step; the new commit's id."""
    git(target, "add", "--all")
    git(target, "commit", "--quiet", "--no-verify", "--message", message)
    return git(target, "rev-parse", "--short", "HEAD").strip()


def restore(target: Path) -> None:
    """Put the target back exactly as HEAD has it (it was clean before the step started)."""
    git(target, "reset", "--quiet", "--hard", "HEAD")
    git(target, "clean", "--quiet", "--force", "-d", "--exclude", KUBESTEP_DIR)
