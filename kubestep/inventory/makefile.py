"""Legacy Makefiles: each target with its prerequisites and recipe lines.

A Makefile is where the team wrote down how they ran, tested and deployed the service; the
recipes become the invoke tasks and CI steps that replace it.
"""

from __future__ import annotations

import re

from kubestep.inventory.model import Inventory, MakeTarget
from kubestep.inventory.tree import SourceTree, at

NAMES = ("Makefile", "makefile", "GNUmakefile")
_RULE = re.compile(r"^([^\s:=#][^:=#]*?)\s*::?(?!=)\s*([^=;]*?)\s*(?:;\s*(.*))?$")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+|override\s+)?[A-Za-z_][\w.]*\s*(?:[:?+!]|::)?=")
_DIRECTIVE = re.compile(
    r"^\s*-?(include|sinclude|ifeq|ifneq|ifdef|ifndef|else|endif|define|"
    r"endef|export|unexport|override|vpath)\b"
)


def read(tree: SourceTree, found: Inventory) -> Inventory:
    return tree.per_file([name for name in NAMES if name in tree.files], parse)


def parse(rel: str, text: str) -> Inventory:
    found = Inventory()
    current: list[MakeTarget] | None = None
    in_define = False
    for number, line in _logical_lines(text):
        if in_define:
            in_define = not line.strip().startswith("endef")
            continue
        if line.startswith("\t"):
            if current is None:
                found.warn(at(rel, number), "recipe line before any target")
            elif line.strip() and not line.strip().startswith("#"):
                for target in current:
                    target.recipe.append(_command(line))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _DIRECTIVE.match(line) or _ASSIGNMENT.match(line):
            in_define = stripped.startswith("define")
            current = None if not line.startswith(" ") else current
            continue
        rule = _RULE.match(line)
        if rule:
            current = _add_targets(found, rel, number, rule)
        elif line.startswith(" ") and current:
            # make itself fails here ("missing separator"): record it, keep the intent.
            found.warn(at(rel, number), "recipe line indented with spaces instead of a tab")
            for target in current:
                target.recipe.append(_command(line))
        else:
            found.warn(at(rel, number), f"not a Makefile rule or assignment: {stripped!r}")
    return found


def _add_targets(found: Inventory, rel: str, number: int, rule: re.Match[str]) -> list[MakeTarget]:
    """The targets a rule line names; special (.PHONY) and pattern (%.o) targets are skipped."""
    names, prerequisites, inline = rule.groups()
    targets = []
    for name in names.split():
        if name.startswith(".") or "%" in name:
            continue
        target = next((item for item in found.make_targets if item.name == name), None)
        if target is None:
            target = MakeTarget(name=name, source=at(rel, number))
            found.make_targets.append(target)
        target.prerequisites.extend(prerequisites.split())
        if inline:
            target.recipe.append(inline.strip())
        targets.append(target)
    return targets


def _command(line: str) -> str:
    """A recipe line without make's echo/ignore-error prefixes."""
    return line.strip().lstrip("@-+").strip()


def _logical_lines(text: str) -> list[tuple[int, str]]:
    result: list[tuple[int, str]] = []
    parts: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        result.append((start, " ".join([parts[0].rstrip()] + [p.strip() for p in parts[1:]])))
        parts = []
    if parts:
        result.append((start, "".join(parts)))
    return result
