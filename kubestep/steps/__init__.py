"""The 6+1 migration steps, each a module with the same small interface.

A step is reached by rendering kubestep's template with the `step` answer set to its number:
the template decides which files exist at each step, and a step module adds what copier
cannot render (one file per item found by the inventory) and says what it brings.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubestep.errors import StepError
from kubestep.merge import Change

Answers = dict[str, Any]
# Steps 1-4 go in order and the answers record the last one done as `step`. Steps 5, 6 and
# "+1" (numbered 7 to sort last) are each recorded on their own answer, because each needs only
# one of the ordered steps, not each other: CD (5) and keeping it running (6) need Kubernetes
# (4), the +1 step needs a local run (3) to be verified. A team can take them in any order.
PLUS_ONE = 7


@dataclass(frozen=True)
class Step:
    """One migration step: from what, to what, why."""

    number: int
    label: str
    title: str
    adds: list[str]
    available: bool = True
    # Files the template cannot render one by one (path -> content), from the answers.
    extra_files: Callable[[Answers], dict[str, str]] = field(default=lambda answers: {})
    # A last say on the planned changes, for what only this step knows how to merge.
    adjust: Callable[[list[Change], Path, Answers], list[Change]] = field(
        default=lambda changes, target, answers: changes
    )
    # Answers only the target repo can give (read from it, or a clear error naming candidates).
    decide: Callable[[Path, Answers], Answers] = field(default=lambda target, answers: answers)
    # For a step recorded on its own: the boolean answer that records it, and the last ordered
    # step it needs. None for the ordered steps 1-4, recorded as the `step` number.
    answer: str | None = None
    needs: int = 0


def _register() -> dict[int, Step]:
    from kubestep.steps import (
        clean_up,
        continuous_deployment,
        keep_running,
        knowledge,
        kubernetes,
        run_local,
        smarter,
    )

    modules = (
        clean_up,
        knowledge,
        run_local,
        kubernetes,
        continuous_deployment,
        keep_running,
        smarter,
    )
    return {module.STEP.number: module.STEP for module in modules}


STEPS: dict[int, Step] = _register()


def parse_step(value: str | int) -> Step:
    """The step named by a number (1-6, 7) or a label ('+1'); a clear error otherwise."""
    text = str(value).strip()
    for step in STEPS.values():
        if text in (str(step.number), step.label):
            return step
    labels = ", ".join(step.label for step in STEPS.values())
    raise StepError(f"{value!r} is not a step: use one of {labels}")


def is_done(step: Step, answers: Answers) -> bool:
    """Whether the answers of a repository record this step as done."""
    if answers.get("origin") == "new":
        return True
    if step.answer:
        return bool(answers.get(step.answer))
    return int(answers.get("step", 0)) >= step.number


def answers_after(step: Step, answers: Answers) -> Answers:
    """The answers once this step is done."""
    if step.answer:
        return {**answers, step.answer: True}
    return {**answers, "step": step.number}


def steps_to(goal: Step, answers: Answers) -> list[Step]:
    """The steps still to run, in order, to reach goal: the earlier ones it needs, then goal."""
    last = goal.needs if goal.answer else goal.number
    needed = [STEPS[n] for n in sorted(STEPS) if n <= last and not STEPS[n].answer]
    if goal.answer:
        needed.append(goal)
    return [step for step in needed if not is_done(step, answers)]
