"""README.md / .rst / .txt at the repo root: the title and the first paragraph.

Legacy READMEs are often outdated; they are still the best one-line description of the service
and the name people know it by.
"""

import re

from kubestep.inventory.model import Inventory, Readme
from kubestep.inventory.tree import SourceTree, at

CANDIDATES = ("README.md", "README.rst", "README.txt", "README", "readme.md", "Readme.md")
_UNDERLINE = re.compile(r"^([=\-~^*#+`'\"])\1{2,}\s*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
# Badges, images and HTML carry no description.
_DECORATION = re.compile(r"^(\[!\[|!\[|<|\.\. image::|\.\. \w+::|:[\w-]+:)")


def read(tree: SourceTree, found: Inventory) -> Inventory:
    for name in CANDIDATES:
        if name in tree.files:
            return tree.per_file([name], parse)
    return Inventory()


def parse(rel: str, text: str) -> Inventory:
    lines = text.splitlines()
    title, title_line, body_start = _title(lines)
    description = _first_paragraph(lines[body_start:])
    found = Inventory()
    found.readme = Readme(
        path=rel, title=title, description=description, source=at(rel, title_line or 1)
    )
    return found


def _title(lines: list[str]) -> tuple[str | None, int | None, int]:
    """The title, its 1-based line and the index where the body starts."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or _UNDERLINE.match(stripped):
            continue  # blank, or the overline of an reST title
        heading = _MD_HEADING.match(stripped)
        if heading:
            return heading.group(1), index + 1, index + 1
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _UNDERLINE.match(following):
            return stripped, index + 1, index + 2
        if _DECORATION.match(stripped):
            continue
        return stripped, index + 1, index + 1
    return None, None, 0


def _first_paragraph(lines: list[str]) -> str | None:
    paragraph: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or _UNDERLINE.match(stripped) or _MD_HEADING.match(stripped):
            if paragraph:
                break
            continue
        if _DECORATION.match(stripped) and not paragraph:
            continue
        paragraph.append(stripped)
    return " ".join(paragraph) or None
