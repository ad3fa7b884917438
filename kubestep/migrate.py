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
from kubestep import user_answers
from kubestep.answers import answers_from_inventory, without_secret_values
from kubestep.errors import KubestepError, StepError, TargetError
from kubestep.generate import render
from kubestep.inventory import safe_files
from kubestep.inventory.tree import line_of
from kubestep.merge import Change, File, Tree, apply_changes, plan_changes, read_file, read_tree
from kubestep.precommit import check_changes
from kubestep.repo import (
    COMMIT_PREFIX,
    KUBESTEP_DIR,
    commit_all,
    git,
    require_clean_repository,
    restore,
)
from kubestep.steps import (
    PLUS_ONE,
    STEPS,
    Answers,
    Step,
    answers_after,
    is_done,
    parse_step,
    steps_to,
)

ANSWERS_FILE = ".copier-answers.yml"
Output = Callable[[str], None]


@dataclass(frozen=True)
class StepResult:
    """What one step did: its commit and its changes."""

    step: Step
    commit: str
    changes: list[Change]


def recorded_answers(target: Path) -> Answers:
    """The answers of the last step, from the target's answers file; {} before step 1.

    A broken file is one line: where, what is wrong, and the commit to restore it from.
    """
    path = target / ANSWERS_FILE
    try:
        text = safe_files.read_text(target.resolve(), ANSWERS_FILE)
    except FileNotFoundError:
        return {}
    except safe_files.RefusedFile as refused:
        raise TargetError(f"{path}: {refused.reason}") from None
    try:
        data = parse_answers(text)
    except ValueError as error:
        raise TargetError(f"{path}:{error}; {_how_to_restore(target)}") from None
    return {key: value for key, value in data.items() if not key.startswith("_")}


def parse_answers(text: str) -> dict[str, Any]:
    """The answers in text; ValueError('LINE: what is wrong') when they are not answers."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise ValueError(f"{line}: not valid YAML ({error.problem or error.context})") from None
    except yaml.YAMLError as error:
        raise ValueError(f"1: not valid YAML ({str(error).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise ValueError(f"1: holds {type(data).__name__} data, not a mapping of answers")
    step = data.get("step", 1)
    if isinstance(step, bool) or not isinstance(step, int):
        raise ValueError(f"{line_of(text, 'step:')}: step is {step!r}, not a step number")
    return data


def _how_to_restore(target: Path) -> str:
    """How to get a valid answers file back: the last commit that has one."""
    try:
        commits = git(target, "log", "--format=%h", "-n", "50", "--", ANSWERS_FILE).split()
        for commit in commits:
            try:
                parse_answers(git(target, "show", f"{commit}:{ANSWERS_FILE}"))
            except (ValueError, TargetError):
                continue
            return (
                f"kubestep writes this file: restore it with "
                f"`git -C {target} checkout {commit} -- {ANSWERS_FILE}`, then rerun"
            )
    except TargetError:
        pass
    return "kubestep writes this file: restore it from git history or a backup, then rerun"


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
    lines = [f"{COMMIT_PREFIX}{step.label}: {step.title}", ""]
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
        check_changes(target, changes)
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


def _answers_changes(target: Path, answers: dict[str, Any]) -> list[Change]:
    text = user_answers.dump(answers)
    if not answers or read_file(target, user_answers.RELATIVE_PATH) == File(text):
        return []
    return [Change(user_answers.RELATIVE_PATH, "add", File(text), "your answers")]


def _with_user_answers(target: Path, after: Answers, user: dict[str, Any]) -> Answers:
    """The answers re-derived from the recorded inventory with the user's new answers."""
    inventory = inventory_reader.load(target).to_dict()
    fresh = answers_from_inventory(inventory, int(after.get("step", 1)), user)
    keys = ("legacy", "port", "service_name", "base_image")
    return {**after, **{key: fresh[key] for key in keys if key in fresh}}


def migrate(
    target: Path,
    goal: str | int,
    *,
    dry_run: bool = False,
    out: Output = print,
    sets: list[str] | tuple[str, ...] = (),
) -> list[StepResult]:
    """Run every step up to goal that the target has not reached, one commit each.

    sets are `key=value` answers to what kubestep could not decide; they are recorded in
    .kubestep/answers.yml and win over detection in this step and every later one.
    """
    target = target.resolve()
    step = parse_step(goal)
    new_answers = user_answers.parse_sets(list(sets))
    require_clean_repository(target)
    if dry_run:
        return _dry_run(target, step, out, sets)
    user = {**user_answers.load(target), **new_answers}
    before = without_secret_values(recorded_answers(target))
    if before.get("origin") == "new":
        raise StepError(f"{target} is a new kubestep service: it has every step already")
    todo = steps_to(step, before)
    recorded = user_answers.load(target)
    if not todo and any(recorded.get(key) != value for key, value in new_answers.items()):
        return [_answer_done_step(target, step, before, user, out)]
    if not todo:
        out(f"step {step.label} is already done in {target}: nothing to change")
        return []
    _check_available(todo)
    results = []
    base = rendered_tree(before or None)
    found = inventory_reader.collect(target) if not before else None
    _preflight(target, todo, before, found, user)
    for next_step in todo:
        extra: list[Change] = _answers_changes(target, user)
        if found is not None and not before:
            _print_warnings(found.warnings, out)
            after = answers_from_inventory(found.to_dict(), next_step.number, user)
            extra += _inventory_changes(target, found)
        else:
            after = answers_after(next_step, before)
            if new_answers:
                after = _with_user_answers(target, after, user)
                new_answers = {}
        if user.get("release_branch"):  # an answer for step 5's own question
            after = {**after, "release_branch": user["release_branch"]}
        after = next_step.decide(target, after)
        theirs = rendered_tree(after)
        result = run_step(target, next_step, base, theirs, after, extra)
        out(f"step {next_step.label} done ({result.commit}): {next_step.title}")
        for change in result.changes:
            out(
                f"  {change.action:6} {change.path}" + (f"  ({change.note})" if change.note else "")
            )
        if next_step.number == 2:
            for note in after.get("legacy", {}).get("notes", []):
                out(f"  warning: {note}")
        if next_step.number == PLUS_ONE:
            for note in after.get("legacy", {}).get("probe_notes", []):
                out(f"  note: {note}")
        if next_step.number == 3:
            for line in _process_lines(after.get("legacy", {})):
                out(f"  {line}")
            for entry in after.get("legacy", {}).get("local_env", []):
                if entry.get("unset"):
                    out(f"  warning: config/local.env: set {entry['name']}, {entry['why']}")
        results.append(result)
        before, base = after, theirs  # the next step starts from this render
    return results


def _answer_done_step(
    target: Path, step: Step, before: Answers, user: dict[str, Any], out: Output
) -> StepResult:
    """A new answer to a step already done (`--set without=elasticsearch` after step 3): the
    repo as it is, rendered again with the answer, in one commit of its own."""
    base = rendered_tree(before)
    after = step.decide(target, _with_user_answers(target, before, user))
    result = run_step(
        target, step, base, rendered_tree(after), after, _answers_changes(target, user)
    )
    out(f"step {step.label} answered again ({result.commit}): {step.title}")
    for change in result.changes:
        out(f"  {change.action:6} {change.path}" + (f"  ({change.note})" if change.note else ""))
    return result


def _process_lines(legacy: dict[str, Any]) -> list[str]:
    """Each process besides the web one that compose.yaml runs, and where it was found."""
    lines = [
        f"process {p['name']} ({p['role']}, {p['source']}): {p['command']}"
        for p in legacy.get("processes", [])
    ]
    release = legacy.get("release") or {}
    if release:
        where = ", ".join(release["sources"])
        lines.append(f"release one-off ({where}), `make release`: {'; '.join(release['commands'])}")
    return lines


_SHOWN_WARNINGS = 10


def _print_warnings(warnings: list[Any], out: Output) -> None:
    """What was not read, and why, before it is used; the rest is in the inventory file."""
    for warning in warnings[:_SHOWN_WARNINGS]:
        out(f"warning: {warning.source}: {warning.message}")
    if len(warnings) > _SHOWN_WARNINGS:
        more = len(warnings) - _SHOWN_WARNINGS
        out(f"warning: {more} more, listed in {KUBESTEP_DIR}/inventory.yml")


def _preflight(
    target: Path, todo: list[Step], before: Answers, found: Any, user: dict[str, Any]
) -> None:
    """Stop before the first commit when a later step of this run cannot decide something."""
    if not any(step.number >= 2 for step in todo):
        return
    if found is not None:
        answers = answers_from_inventory(found.to_dict(), 1, user)
    elif user:
        answers = _with_user_answers(target, before, user)
    else:
        answers = before
    from kubestep.steps.knowledge import require_decisions

    if not answers.get("legacy", {}).get("start_argv") or not is_done(STEPS[2], answers):
        require_decisions([], target, answers)


def _dry_run(
    target: Path, step: Step, out: Output, sets: list[str] | tuple[str, ...] = ()
) -> list[StepResult]:
    """Run the migration in a throwaway clone and print its plan and diff."""
    with tempfile.TemporaryDirectory(prefix="kubestep-dry-run-") as scratch:
        clone = Path(scratch) / target.name
        subprocess.run(["git", "clone", "--quiet", str(target), str(clone)], check=True)
        kubestep_dir = target / KUBESTEP_DIR
        if kubestep_dir.is_dir() and not kubestep_dir.is_symlink():
            shutil.copytree(kubestep_dir, clone / KUBESTEP_DIR, symlinks=True, dirs_exist_ok=True)
        head = git(clone, "rev-parse", "HEAD").strip()
        results = migrate(clone, step.label, out=lambda line: None, sets=sets)
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
