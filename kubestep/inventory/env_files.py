"""Sample env files a repo carries for development (.env.example, .env.dev-sample, .flaskenv).

They say what a developer sets locally: the value a required variable takes for a local run
when the code has no default (DJANGO_ALLOWED_HOSTS=localhost 127.0.0.1). Files meant for
production or tests are not local values; secrets are never taken from any of them.
"""

from __future__ import annotations

import re

from kubestep.inventory.model import Evidence
from kubestep.inventory.tree import SourceTree, at
from kubestep.secrets import withheld

PATTERNS = (".env", ".env.*", "*.env", "env.example", "env.sample", ".flaskenv", ".envrc")
_NOT_LOCAL = re.compile(
    r"(^|[._-])(prod|production|staging|stage|live|test|tests|ci|integration)([._-]|$)", re.I
)
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def examples(tree: SourceTree) -> dict[str, Evidence]:
    """Name -> the value a local sample file gives it, first file (by path) first."""
    found: dict[str, Evidence] = {}
    for rel in sorted(tree.matching(*PATTERNS)):
        name = rel.rsplit("/", 1)[-1]
        if _NOT_LOCAL.search(name.replace(".env", "")) or name.endswith((".py", ".sh")):
            continue
        for number, line in enumerate((tree.text(rel) or "").splitlines(), 1):
            match = _LINE.match(line)
            if match is None:
                continue
            key, value = match.group(1), _unquoted(match.group(2))
            if not value or "$" in value or withheld(key, value) or key in found:
                continue
            found[key] = Evidence(value=value, source=at(rel, number))
    return found


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return re.sub(r"\s+#.*$", "", value)  # KEY=value  # a comment
