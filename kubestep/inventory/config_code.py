"""configparser and os.environ reads in Python code, found with `ast`.

The code is the only complete list of settings: it names every section and key it reads, the
default it falls back to, the type it converts to and the file (or env var) it reads from.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from kubestep.inventory import env_files, settings_classes
from kubestep.inventory.env_reads import (
    env_call,
    env_scheme,
    feeds,
    is_test_file,
    merge_env_var,
    or_defaults,
    reads_without_default,
    selector_reads,
    settings_library_call,
)
from kubestep.inventory.model import ConfigFile, EnvVar, Inventory
from kubestep.inventory.python_code import module_name
from kubestep.inventory.tree import SourceTree, at

READ_TYPES = {"get": "str", "getint": "int", "getfloat": "float", "getboolean": "bool"}
PARSER_CLASSES = {"ConfigParser", "RawConfigParser", "SafeConfigParser"}


@dataclass
class KeyRead:
    """One `parser.get*("section", "key", fallback=...)` call."""

    section: str
    key: str
    type: str
    source: str
    default: Any = None
    required: bool = False


@dataclass
class CodeConfig:
    keys: list[KeyRead] = field(default_factory=list)
    found: Inventory = field(default_factory=Inventory)


def read(tree: SourceTree) -> CodeConfig:
    result = CodeConfig()
    tests = {rel for rel in tree.python_files() if is_test_file(rel)}
    for rel in tree.python_files():
        module = tree.python(rel)
        if isinstance(module, ast.Module):
            _ModuleReader(rel, module, result, env=rel not in tests).run()
    for variable in settings_classes.read(tree, tests):
        merge_env_var(result.found.config.env_vars, variable)
    selectors = [item for item in result.found.config.env_vars if item.choices]
    classes = _config_classes(tree, tests) if selectors else []
    for item in selectors:
        item.choices = classes
    samples = env_files.examples(tree)
    for item in result.found.config.env_vars:
        item.example = samples.get(item.name)
    return result


def _config_classes(tree: SourceTree, tests: set[str]) -> list[str]:
    """Dotted paths of the classes a config selector may name: module-level classes that hold
    UPPERCASE settings (Flask's from_object reads only those)."""
    found = []
    for rel in tree.python_files():
        module = tree.python(rel)
        if rel in tests or not isinstance(module, ast.Module):
            continue
        for node in module.body:
            if isinstance(node, ast.ClassDef) and any(
                isinstance(item, ast.Assign)
                and isinstance(item.targets[0], ast.Name)
                and item.targets[0].id.isupper()
                for item in node.body
            ):
                found.append(f"{module_name(rel)}.{node.name}")
    return found


class _ModuleReader:
    """Walks one module; keeps the names bound to parsers, section proxies and constants."""

    def __init__(self, rel: str, module: ast.Module, result: CodeConfig, env: bool) -> None:
        self.rel, self.module, self.result, self.env = rel, module, result, env
        self.bindings: dict[str, list[ast.expr]] = {}
        self.parsers: set[str] = set()
        self.proxies: dict[str, str] = {}
        self.returns: dict[str, list[ast.expr]] = {}

    def run(self) -> None:
        self._collect_bindings()
        # os.environ.get("X").split(","): a read the code cannot survive without a value.
        self.dereferenced = {
            id(node.value) for node in ast.walk(self.module) if isinstance(node, ast.Attribute)
        }
        self.or_defaults = or_defaults(self.module)
        self.feeds = feeds(self.module)
        self.selected = selector_reads(self.module)
        self.scheme = env_scheme(self.module)
        # Reads under an `if` run only on that branch (a feature flag's settings): the +1
        # runtime must not stop an app at start for a key it may never read.
        self.conditional = {
            id(child)
            for node in ast.walk(self.module)
            if isinstance(node, ast.If)
            for branch in (node.body, node.orelse)
            for statement in branch
            for child in ast.walk(statement)
        }
        for node in ast.walk(self.module):
            if isinstance(node, ast.Call):
                if self.env:
                    self._env_read(node)
                if self.parsers:
                    self._key_read(node)
                    self._file_read(node)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                if self.env:
                    self._env_read(node)
                if self.parsers:
                    self._subscript_read(node)

    def _collect_bindings(self) -> None:
        for node in ast.walk(self.module):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for name in filter(None, map(bound_name, targets)):
                    self.bindings.setdefault(name, []).append(node.value)
                    if _called_name(node.value) in PARSER_CLASSES:
                        self.parsers.add(name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._collect_parameters(node.args)
                self.returns[node.name] = [
                    child.value
                    for child in ast.walk(node)
                    if isinstance(child, ast.Return) and child.value is not None
                ]
        for name, values in self.bindings.items():  # section = parser["database"]
            for value in values:
                if isinstance(value, ast.Subscript) and self._is_parser(value.value):
                    section = self._string(value.slice)
                    if section is not None:
                        self.proxies[name] = section

    def _collect_parameters(self, args: ast.arguments) -> None:
        positional = args.posonlyargs + args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for arg, default in zip(positional, defaults, strict=True):
            if arg.annotation is not None and "ConfigParser" in ast.unparse(arg.annotation):
                self.parsers.add(arg.arg)
            if default is not None:
                self.bindings.setdefault(arg.arg, []).append(default)

    def _is_parser(self, node: ast.expr) -> bool:
        return bound_name(node) in self.parsers

    def _key_read(self, node: ast.Call) -> None:
        method = getattr(node.func, "attr", None)
        if method not in READ_TYPES:
            return
        receiver = node.func.value  # type: ignore[attr-defined]
        fallback = next((kw.value for kw in node.keywords if kw.arg == "fallback"), None)
        if self._is_parser(receiver) and len(node.args) >= 2:
            section, key = self._string(node.args[0]), self._string(node.args[1])
        elif isinstance(receiver, ast.Subscript) and self._is_parser(receiver.value):
            section, key = self._string(receiver.slice), self._arg(node, 0)
            fallback = fallback or (node.args[1] if len(node.args) > 1 else None)
        elif bound_name(receiver) in self.proxies:
            section, key = self.proxies[bound_name(receiver) or ""], self._arg(node, 0)
            fallback = fallback or (node.args[1] if len(node.args) > 1 else None)
        else:
            return
        self._add_key(node, section, key, READ_TYPES[method], fallback)

    def _subscript_read(self, node: ast.Subscript) -> None:
        """parser["section"]["key"]: a required string."""
        if isinstance(node.value, ast.Subscript) and self._is_parser(node.value.value):
            section, key = self._string(node.value.slice), self._string(node.slice)
            self._add_key(node, section, key, "str", None)

    def _add_key(
        self, node: ast.expr, section: str | None, key: str | None, kind: str, fallback: Any
    ) -> None:
        source = at(self.rel, node.lineno)
        if section is None or key is None:
            self.result.found.warn(source, "config read with a computed section or key: skipped")
            return
        required = fallback is None and id(node) not in self.conditional
        read = KeyRead(section, key, kind, source, required=required)
        if fallback is not None:
            try:
                read.default = _plain(ast.literal_eval(fallback))
            except ValueError:
                self.result.found.warn(
                    source, f"default of [{section}] {key} is computed: {ast.unparse(fallback)}"
                )
        self.result.keys.append(read)

    def _file_read(self, node: ast.Call) -> None:
        method = getattr(node.func, "attr", None)
        if method not in ("read", "read_file") or not node.args:
            return
        if not self._is_parser(node.func.value):  # type: ignore[attr-defined]
            return
        path, env_var = self._path(node.args[0], depth=0)
        if path or env_var:
            self.result.found.config.files.append(
                ConfigFile(path=path, env_var=env_var, source=at(self.rel, node.lineno))
            )

    def _path(self, node: ast.expr, depth: int) -> tuple[str | None, str | None]:
        """The file path an expression evaluates to, and the env var that can override it."""
        if depth > 6:
            return None, None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, None
        if isinstance(node, ast.List | ast.Tuple) and node.elts:
            return self._path(node.elts[0], depth + 1)
        if isinstance(node, ast.BoolOp):
            paths = [self._path(value, depth + 1) for value in node.values]
            path = next((path for path, _ in reversed(paths) if path), None)
            return path, next((env for _, env in paths if env), None)
        if isinstance(node, ast.Name):
            for value in self.bindings.get(node.id, []):
                path, env_var = self._path(value, depth + 1)
                if path or env_var:
                    return path, env_var
            return None, None
        env = env_call(node)
        if env is not None:
            name, default = env
            return (self._path(default, depth + 1)[0] if default else None), self._string(name)
        if isinstance(node, ast.Call) and bound_name(node.func) in self.returns:
            for value in self.returns[bound_name(node.func) or ""]:  # config_path()
                path, env_var = self._path(value, depth + 1)
                if path or env_var:
                    return path, env_var
        if isinstance(node, ast.Call) and node.args:  # Path(x), open(x), expanduser(x)
            return self._path(node.args[0], depth + 1)
        return None, None

    def _env_read(self, node: ast.expr) -> None:
        env = env_call(node) or settings_library_call(node)
        name = self._string(env[0]) if env is not None else None
        if env is None or name is None:
            return
        given = env[1]
        if given is None and name in self.scheme:  # environ.Env(DEBUG=(bool, False))
            given = self.scheme[name]
        if id(node) in self.or_defaults:  # os.environ.get("X") or "default"
            given = self.or_defaults[id(node)]
        required = given is None and (reads_without_default(node) or id(node) in self.dereferenced)
        default = None
        if given is not None:
            try:
                default = _plain(ast.literal_eval(given))
            except ValueError:
                default = self._path(given, depth=0)[0]
        merge_env_var(
            self.result.found.config.env_vars,
            EnvVar(
                name=name,
                default=default,
                source=at(self.rel, node.lineno),
                required=required or None,
                feeds=self.feeds.get(id(node)),
                choices=["?"] if id(node) in self.selected else [],  # filled in by read()
            ),
        )

    def _arg(self, node: ast.Call, index: int) -> str | None:
        return self._string(node.args[index]) if len(node.args) > index else None

    def _string(self, node: ast.expr) -> str | None:
        """A string constant, directly or through a module-level NAME = "..." binding."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            for value in self.bindings.get(node.id, []):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value
        return None


def bound_name(node: ast.expr) -> str | None:
    """'parser' for `parser` and `self.parser`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _called_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        return bound_name(node.func)
    return None


def _plain(value: Any) -> Any:
    """YAML-safe: tuples become lists, bytes become text."""
    if isinstance(value, tuple | list | set):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value
