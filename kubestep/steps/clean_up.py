"""Step 1, clean up: from scattered scripts and a stale README to one Makefile as the single
entry point and a README.rst resurrected from the inventory, because a team can only migrate
what it can run and explain."""

from pathlib import Path

from kubestep.errors import StepError
from kubestep.merge import Change, File, read_file
from kubestep.steps import Answers, Step

README = "README.rst"


def legacy_readme_section(path: str, text: str) -> str:
    """The old README, verbatim, as the last section of the new one."""
    title = f"Legacy README ({path})"
    body = "\n".join(f"   {line}" if line.strip() else "" for line in text.splitlines())
    return (
        f"\n{title}\n{'-' * len(title)}\n\n"
        "Kept word for word from before the migration; what is still true has moved above.\n\n"
        f"::\n\n{body}\n"
    )


def adopt_legacy_readme(changes: list[Change], target: Path, answers: Answers) -> list[Change]:
    """Append the legacy README to the new README.rst and retire the old file."""
    old_path = answers.get("legacy", {}).get("readme", "")
    old = read_file(target, old_path) if old_path else None
    if old is None:
        return changes
    adjusted = []
    for change in changes:
        if change.path == README and change.file is not None and change.action == "add":
            text = change.file.text + legacy_readme_section(old_path, old.text)
            change = Change(README, "add", File(text), f"with {old_path} kept as its last section")
        elif change.path == f"{README}.kubestep" and old_path == README:
            text = change.file.text + legacy_readme_section(old_path, old.text)  # type: ignore[union-attr]
            change = Change(README, "update", File(text), "the old README kept as its last section")
        adjusted.append(change)
    if old_path != README:
        adjusted.append(Change(old_path, "delete", note=f"its text is now in {README}"))
    return adjusted


# Names GNU make reads before `Makefile`: a user file there would shadow kubestep's Makefile.
SHADOWING_MAKEFILES = ("GNUmakefile", "makefile")


def adopt_legacy_makefile(changes: list[Change], target: Path) -> list[Change]:
    """A `makefile` or `GNUmakefile` becomes legacy.mk, as an old `Makefile` does."""
    taken = {change.path for change in changes if change.action != "delete"}
    for name in SHADOWING_MAKEFILES:
        user = read_file(target, name)
        if user is None:
            continue
        if "legacy.mk" in taken or read_file(target, "legacy.mk") is not None:
            raise StepError(f"both {name} and another Makefile exist: merge them into one first")
        changes = [
            *changes,
            Change("legacy.mk", "add", user, f"your {name}, unchanged; Makefile includes it"),
            Change(name, "delete", note="moved to legacy.mk: make would read it before Makefile"),
        ]
        taken.add("legacy.mk")
    return changes


def clean_up(changes: list[Change], target: Path, answers: Answers) -> list[Change]:
    return adopt_legacy_readme(adopt_legacy_makefile(changes, target), target, answers)


STEP = Step(
    number=1,
    label="1",
    title="clean up: one Makefile as the single entry point, a resurrected README.rst",
    adds=[
        "Makefile wrapping the legacy run and test scripts (an old Makefile is kept as legacy.mk)",
        "README.rst from the inventory (the old README kept in its own section)",
        ".kubestep/inventory.yml: everything kubestep found, with sources",
    ],
    adjust=clean_up,
)
