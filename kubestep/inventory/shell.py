"""Just enough shell to read start scripts: logical lines, simple variables, `${VAR:-default}`.

Legacy start scripts set a few variables and `exec` a server; following those assignments is
what turns `--workers "${WORKERS:-2}"` into "2 workers, overridable by $WORKERS".
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+|readonly\s+|local\s+)?([A-Za-z_]\w*)=(.*)$")
_DEFAULTING = re.compile(r"^\s*:\s+\"?\$\{([A-Za-z_]\w*):?=([^}]*)\}\"?\s*$")
_REFERENCE = re.compile(r"\$\{([A-Za-z_]\w*)(?::?[-=]([^}]*))?\}|\$([A-Za-z_]\w*)")


@dataclass
class Expanded:
    """A word with variables replaced; env_var names the variable that can override it."""

    text: str
    env_var: str | None = None
    resolved: bool = True


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with backslash continuations joined, comments dropped, numbered by first line."""
    start, parts = 0, list[str]()
    for number, line in enumerate(text.splitlines(), 1):
        if not parts:
            start = number
        if line.rstrip().endswith("\\"):
            parts.append(line.rstrip()[:-1])
            continue
        parts.append(line)
        joined = " ".join(part.strip() for part in parts)
        parts = []
        if joined and not joined.startswith("#"):
            yield start, joined
    if parts:
        yield start, " ".join(part.strip() for part in parts)


def variables(text: str) -> dict[str, Expanded]:
    """Top-level assignments, each already expanded against the ones before it."""
    known: dict[str, Expanded] = {}
    for _, line in logical_lines(text):
        defaulting = _DEFAULTING.match(line)
        if defaulting:
            name, default = defaulting.groups()
            known[name] = Expanded(default, env_var=name)
            continue
        match = _ASSIGNMENT.match(line)
        if match is None:
            continue
        name, raw = match.groups()
        try:
            words = shlex.split(raw)
        except ValueError:
            continue
        if len(words) == 1:
            known[name] = expand(words[0], known)
    return known


def expand(word: str, known: dict[str, Expanded]) -> Expanded:
    """Replace $VAR, ${VAR} and ${VAR:-default} in word using known assignments and defaults."""
    result = Expanded(word)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2)
        if name in known:
            result.env_var = known[name].env_var or result.env_var
            result.resolved = result.resolved and known[name].resolved
            return known[name].text
        result.env_var = name
        if default is not None:
            return default
        result.resolved = False
        return match.group(0)

    result.text = _REFERENCE.sub(replace, word)
    return result


def commands(line: str) -> list[list[str]] | None:
    """The simple commands of line (split at ;, &&, || and |), or None when quoting is broken."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    result: list[list[str]] = [[]]
    try:
        for word in lexer:
            if word and set(word) <= set(";&|()"):
                result.append([])
            else:
                result[-1].append(word)
    except ValueError:
        return None
    return [words for words in result if words]
