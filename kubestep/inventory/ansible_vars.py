"""Ansible YAML with line numbers, and `{{ var }}` resolved the simple way, without Ansible.

Variables come from role defaults/vars, play vars, group_vars and INI inventories; Jinja2
renders them in a sandbox where an unknown name stays visible as `{{ name }}`, so a value
that needs facts or Ansible's own filters is reported as unresolved instead of guessed.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import jinja2
import jinja2.meta
import yaml
from jinja2.sandbox import SandboxedEnvironment

_MARK = "\x00"
_MARKED = re.compile(r"\x00([^\x00]*)\x00")


class Mapping(dict[str, Any]):
    """A YAML mapping that remembers the line it starts on."""

    line: int = 1


@dataclass(frozen=True)
class Opaque:
    """A tagged value only Ansible reads (!vault, !unsafe)."""

    tag: str


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    value = Mapping((str(k), v) for k, v in loader.construct_pairs(node, deep=True))
    value.line = node.start_mark.line + 1
    return value


def _tagged(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> Opaque:
    return Opaque(tag)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_multi_constructor("!", _tagged)


class YamlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def load(text: str) -> Any:
    """One YAML document with Mapping for every mapping; YamlError carries the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise YamlError(mark.line + 1 if mark else 1, f"YAML: {problem}") from error


class _Keep(jinja2.Undefined):
    """An unknown name renders as itself, marked, so the caller can see it was not known."""

    def __str__(self) -> str:
        return f"{_MARK}{self._undefined_name}{_MARK}"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Keep(name=f"{self._undefined_name}.{name}")

    def __getitem__(self, key: Any) -> Any:
        return _Keep(name=f"{self._undefined_name}[{key!r}]")


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=_Keep, keep_trailing_newline=True)
    env.filters.update(
        bool=lambda v: str(v).lower() in ("1", "true", "yes", "on"),
        basename=lambda v: PurePosixPath(str(v)).name,
        dirname=lambda v: str(PurePosixPath(str(v)).parent),
        quote=lambda v: shlex.quote(str(v)),
        mandatory=lambda v: v,
    )
    return env


_ENV = _environment()


class Unresolved(ValueError):
    """A value that needs what only a real Ansible run knows; names says what was unknown."""

    def __init__(self, text: str, names: list[str]) -> None:
        super().__init__(text)
        self.text, self.names = text, names


class Resolver:
    """Resolves values against one set of variables (later layers override earlier ones)."""

    def __init__(self, *layers: dict[str, Any]) -> None:
        self.variables: dict[str, Any] = {}
        for layer in layers:
            self.variables.update(layer)
        self._done: dict[str, Any] = {}
        self._active: set[str] = set()

    def with_vars(self, extra: dict[str, Any]) -> Resolver:
        return Resolver(self.variables, extra)

    def value(self, raw: Any) -> Any:
        """raw with every template resolved; raises Unresolved."""
        if isinstance(raw, Opaque):
            raise Unresolved(raw.tag, [raw.tag])
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        if isinstance(raw, dict):
            return {key: self.value(item) for key, item in raw.items()}
        if not isinstance(raw, str) or ("{{" not in raw and "{%" not in raw):
            return raw
        return self._render(raw)

    def text(self, raw: Any) -> str:
        value = self.value(raw)
        if isinstance(value, list | dict):
            raise Unresolved(str(raw), [])
        return "" if value is None else str(value)

    def _render(self, raw: str) -> Any:
        try:
            parsed = _ENV.parse(raw)
            context = self._context(jinja2.meta.find_undeclared_variables(parsed))
            whole = re.fullmatch(r"\s*\{\{(.*)\}\}\s*", raw, re.DOTALL)
            if whole and "}}" not in whole.group(1) and "{{" not in whole.group(1):
                result: Any = _ENV.compile_expression(
                    whole.group(1).strip(), undefined_to_none=False
                )(**context)
            else:
                result = _ENV.from_string(raw).render(**context)
        except Unresolved:
            raise
        except Exception as error:  # an Ansible filter or test, a syntax Jinja does not know
            raise Unresolved(raw, [str(error).splitlines()[0]]) from error
        if isinstance(result, jinja2.Undefined):
            raise Unresolved(raw, [str(result).strip(_MARK)])
        unknown = _MARKED.findall(str(result)) if isinstance(result, str) else []
        if unknown:
            raise Unresolved(raw, unknown)
        return result

    def _context(self, names: set[str]) -> dict[str, Any]:
        context = {}
        for name in names:
            if name in self._done:
                context[name] = self._done[name]
            elif name in self.variables and name not in self._active:
                self._active.add(name)
                try:
                    self._done[name] = self.value(self.variables[name])
                except Unresolved:
                    continue  # stays undefined: whatever uses it is unresolved too
                finally:
                    self._active.discard(name)
                context[name] = self._done[name]
        return context

    def partial(self, text: str) -> str:
        """text rendered as far as it can be; what stays unknown is marked (see `marked`)."""
        try:
            return self._partial(text)
        except Exception:  # an Ansible-only filter somewhere: line by line, then give up
            lines = []
            for line in text.split("\n"):
                try:
                    lines.append(self._partial(line))
                except Exception:
                    lines.append(
                        re.sub(r"\{\{(.*?)\}\}", lambda m: _MARK + m.group(1).strip() + _MARK, line)
                    )
            return "\n".join(lines)

    def _partial(self, text: str) -> str:
        context = self._context(jinja2.meta.find_undeclared_variables(_ENV.parse(text)))
        return _ENV.from_string(text).render(**context)


def split_args(text: str) -> list[str]:
    """`k=v k2='a b' free words`, split on spaces outside quotes and `{{ }}`."""
    words, current, quote, depth = [], "", "", 0
    index = 0
    while index < len(text):
        char, pair = text[index], text[index : index + 2]
        if quote:
            current += char
            quote = "" if char == quote else quote
        elif pair in ("{{", "{%"):
            depth, current, index = depth + 1, current + pair, index + 1
        elif pair in ("}}", "%}") and depth:
            depth, current, index = depth - 1, current + pair, index + 1
        elif char in "'\"" and not depth:
            quote, current = char, current + char
        elif char.isspace() and not depth:
            if current:
                words.append(current)
            current = ""
        else:
            current += char
        index += 1
    if current:
        words.append(current)
    return words


def parse_kv(text: str) -> tuple[dict[str, str], str]:
    """(key=value options, the free-form rest) of a short-form module line."""
    options, rest = {}, []
    for word in split_args(text):
        key, equals, value = word.partition("=")
        if equals and re.fullmatch(r"[A-Za-z_][\w]*", key):
            options[key] = _unquote(value)
        else:
            rest.append(word)
    return options, " ".join(rest)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def marked(text: str) -> bool:
    """Whether a partial() result still holds something unknown."""
    return _MARK in text


def unmark(text: str) -> str:
    return _MARKED.sub(lambda m: "{{ " + m.group(1) + " }}", text)


def shown(error: Unresolved) -> str:
    """The unresolved text as written, for warnings."""
    return _MARKED.sub(lambda m: "{{ " + m.group(1) + " }}", error.text)
