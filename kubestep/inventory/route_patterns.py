"""Route templates of every framework as one regex kind, so any route can be matched to a path.

Flask and Django `path()` write `<int:id>`, FastAPI, Starlette and Falcon `{id}` or
`{rest:path}`; Django `re_path()`/`url()` and web.py write regexes. A path parameter matches
one segment unless its converter is `path`.
"""

from __future__ import annotations

import re

_PARAMETER = re.compile(
    r"<(?:(?P<angle_conv>\w+)(?:\([^)]*\))?:)?(?P<angle>\w+)>|\{(?P<brace>\w+)(?::(?P<brace_conv>\w+))?\}"
)
_REGEX_CHARS = set("^$*+?()[]{}|\\")


def template_regex(template: str) -> str:
    """`/items/<int:id>` or `/items/{id}` -> a regex for its paths (without anchors)."""
    parts, last = [], 0
    for match in _PARAMETER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        converter = match.group("angle_conv") or match.group("brace_conv")
        parts.append(".+" if converter == "path" else "[^/]+")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return "".join(parts)


def has_parameters(template: str) -> bool:
    return _PARAMETER.search(template) is not None


def regex_literal(regex: str) -> str | None:
    """The one path a regex matches when it is a plain literal (`^about/$` -> `about/`)."""
    body = regex.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    unescaped = re.sub(r"\\(.)", r"\1", body)
    if any(char in _REGEX_CHARS for char in body.replace("\\/", "").replace("\\.", "")):
        return None
    return unescaped


def regex_body(regex: str) -> str:
    """A Django or web.py regex as a part to join: its `^` dropped (the resolver anchors it)."""
    return regex.removeprefix("^")


def serves(pattern: str, path: str) -> bool:
    """Whether a route with this full-path pattern answers GET path (or redirects it to `path/`,
    as Flask's strict slashes and Django's APPEND_SLASH do)."""
    try:
        regex = re.compile(pattern)
    except re.error:
        return False
    return any(regex.fullmatch(candidate) for candidate in (path, path + "/"))


def concrete_path(path: str, pattern: str) -> bool:
    """Whether path is one real path of its route (no parameter, not a regex shown as is)."""
    return path.startswith("/") and not has_parameters(path) and serves(pattern, path)
