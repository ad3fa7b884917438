"""`inv migrate`: move a legacy service one or more steps on, one git commit per step.

inventory -> answers -> render (before and after the step) -> plan -> apply -> commit.
A step that fails puts the target back exactly as it was.
"""

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubestep import inventory as inventory_reader
from kubestep.answers import answers_from_inventory
from kubestep.errors import KubestepError, StepError
from kubestep.generate import render
from kubestep.merge import Change, File, Tree, apply_changes, plan_changes, read_file, read_tree
from kubestep.repo import KUBESTEP_DIR, commit_all, git, require_clean_repository, restore
from kubestep.steps import STEPS, Answers, Step, answers_after, is_done, parse_step, steps_to

ANSWERS_FILE = ".copier-answers.yml"
Output = Callable[[str], None]


@dataclass(frozen=True)
class StepResult:
    """What one step did: its commit and its changes."""

    step: Step
    commit: str
    changes: list[Change]


def recorded_answers(target: Path) -> Answers:
    """The answers of the last step, from the target's answers file; {} before step 1."""
    path = target / ANSWERS_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {key: value for key, value in data.items() if not key.startswith("_")}


def rendered_tree(answers: Answers | None) -> Tree:
    """kubestep's files for these answers (nothing for None), with the steps' extra files."""
    if answers is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="kubestep-render-") as scratch:
        tree = read_tree(render(Path(scratch) / "render", answers))
    for step in STEPS.values():
        if is_done(step, answers):
            tree.update(
                {path: File(text, True) for path, text in step.extra_files(answers).items()}
            )
    return tree


def _inventory_changes(target: Path, found: Any) -> list[Change]:
    path = f"{KUBESTEP_DIR}/inventory.yml"
    with tempfile.TemporaryDirectory() as scratch:
        written = inventory_reader.write(found, Path(scratch))
        text = written.read_text()
    if read_file(target, path) == File(text):
        return []
    return [Change(path, "add", File(text), "what the inventory found, with sources")]


def commit_message(step: Step, changes: list[Change]) -> str:
    """`kubestep step N: title`, then what it added, file by file."""
    lines = [f"kubestep step {step.label}: {step.title}", ""]
    for change in changes:
        note = f" ({change.note})" if change.note else ""
        lines.append(f"- {change.action} {change.path}{note}")
    return "\n".join(lines) + "\n"


def run_step(
    target: Path, step: Step, base: Tree, theirs: Tree, after: Answers, extra: list[Change]
) -> StepResult:
    """Plan, apply and commit one step; on any failure restore the target and re-raise.

    base and theirs are kubestep's renders before and after the step.
    """
    changes = plan_changes(target, base, theirs)
    changes = step.adjust(changes, target, after) + extra
    try:
        apply_changes(target, changes)
        commit = commit_all(target, commit_message(step, changes))
    except BaseException as error:
        restore(target)
        if isinstance(error, KubestepError | OSError):
            raise StepError(f"step {step.label} failed, the target is as it was: {error}") from None
        raise
    return StepResult(step, commit, changes)


def _check_available(todo: list[Step]) -> None:
    for step in todo:
        if not step.available:
            raise StepError(f"step {step.label} ({step.title}) is not available yet")


def migrate(
    target: Path, goal: str | int, *, dry_run: bool = False, out: Output = print
) -> list[StepResult]:
    """Run every step up to goal that the target has not reached, one commit each."""
    target = target.resolve()
    step = parse_step(goal)
    require_clean_repository(target)
    if dry_run:
        return _dry_run(target, step, out)
    before = recorded_answers(target)
    if before.get("origin") == "new":
        raise StepError(f"{target} is a new kubestep service: it has every step already")
    todo = steps_to(step, before)
    if not todo:
        out(f"step {step.label} is already done in {target}: nothing to change")
        return []
    _check_available(todo)
    results = []
    base = rendered_tree(before or None)
    for next_step in todo:
        extra: list[Change] = []
        if not before:
            found = inventory_reader.collect(target)
            after = answers_from_inventory(found.to_dict(), next_step.number)
            extra = _inventory_changes(target, found)
        else:
            after = answers_after(next_step, before)
        after = next_step.decide(target, after)
        theirs = rendered_tree(after)
        result = run_step(target, next_step, base, theirs, after, extra)
        out(f"step {next_step.label} done ({result.commit}): {next_step.title}")
        for change in result.changes:
            out(
                f"  {change.action:6} {change.path}" + (f"  ({change.note})" if change.note else "")
            )
        results.append(result)
        before, base = after, theirs  # the next step starts from this render
    return results


def _dry_run(target: Path, step: Step, out: Output) -> list[StepResult]:
    """Run the migration in a throwaway clone and print its plan and diff."""
    with tempfile.TemporaryDirectory(prefix="kubestep-dry-run-") as scratch:
        clone = Path(scratch) / target.name
        subprocess.run(["git", "clone", "--quiet", str(target), str(clone)], check=True)
        kubestep_dir = target / KUBESTEP_DIR
        if kubestep_dir.is_dir():
            shutil.copytree(kubestep_dir, clone / KUBESTEP_DIR, dirs_exist_ok=True)
        head = git(clone, "rev-parse", "HEAD").strip()
        results = migrate(clone, step.label, out=lambda line: None)
        if not results:
            out(f"step {step.label} is already done in {target}: nothing to change")
        out(f"dry run: nothing in {target} was changed; this is what `inv migrate` would do:")
        out(git(clone, "log", "--reverse", "--patch", "--format=%n=== %s%n%n%b", f"{head}..HEAD"))
    return results


def status(target: Path) -> str:
    """Which steps the target has done and what each next one will add."""
    target = target.resolve()
    if not target.is_dir():
        raise KubestepError(f"{str(target)!r} is not a directory")
    answers = recorded_answers(target)
    done = [step.label for step in STEPS.values() if answers and is_done(step, answers)]
    lines = [f"{target}: steps done: {', '.join(done) or 'none'}"]
    for step in STEPS.values():
        finished = bool(answers) and is_done(step, answers)
        mark = "done" if finished else ("next" if step.available else "not available yet")
        lines.append(f"  [{mark:>17}] {step.label:>2}  {step.title}")
        if not finished and step.available:
            lines.extend(f"                        + {item}" for item in step.adds)
    return "\n".join(lines)
