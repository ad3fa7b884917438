"""configparser and os.environ reads in Python code, found with `ast`.

The code is the only complete list of settings: it names every section and key it reads, the
default it falls back to, the type it converts to and the file (or env var) it reads from.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from kubestep.inventory.model import ConfigFile, EnvVar, Inventory
from kubestep.inventory.tree import SourceTree, at

READ_TYPES = {"get": "str", "getint": "int", "getfloat": "float", "getboolean": "bool"}
PARSER_CLASSES = {"ConfigParser", "RawConfigParser", "SafeConfigParser"}
_ENV_GETTERS = {"getenv", "get", "setdefault"}


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
    for rel in tree.python_files():
        module = tree.python(rel)
        if isinstance(module, ast.Module):
            _ModuleReader(rel, module, result).run()
    return result


class _ModuleReader:
    """Walks one module; keeps the names bound to parsers, section proxies and constants."""

    def __init__(self, rel: str, module: ast.Module, result: CodeConfig) -> None:
        self.rel, self.module, self.result = rel, module, result
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
        for node in ast.walk(self.module):
            if isinstance(node, ast.Call):
                self._env_read(node)
                if self.parsers:
                    self._key_read(node)
                    self._file_read(node)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                self._env_read(node)
                if self.parsers:
                    self._subscript_read(node)

    def _collect_bindings(self) -> None:
        for node in ast.walk(self.module):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for name in filter(None, map(_bound_name, targets)):
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
        return _bound_name(node) in self.parsers

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
        elif _bound_name(receiver) in self.proxies:
            section, key = self.proxies[_bound_name(receiver) or ""], self._arg(node, 0)
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
        read = KeyRead(section, key, kind, source, required=fallback is None)
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
        env = _env_call(node)
        if env is not None:
            name, default = env
            return (self._path(default, depth + 1)[0] if default else None), self._string(name)
        if isinstance(node, ast.Call) and _bound_name(node.func) in self.returns:
            for value in self.returns[_bound_name(node.func) or ""]:  # config_path()
                path, env_var = self._path(value, depth + 1)
                if path or env_var:
                    return path, env_var
        if isinstance(node, ast.Call) and node.args:  # Path(x), open(x), expanduser(x)
            return self._path(node.args[0], depth + 1)
        return None, None

    def _env_read(self, node: ast.expr) -> None:
        env = _env_call(node) or _settings_library_call(node)
        if env is None or self._string(env[0]) is None:
            return
        default = None
        required = env[1] is None and (
            _reads_without_default(node) or id(node) in self.dereferenced
        )
        if env[1] is not None:
            try:
                default = _plain(ast.literal_eval(env[1]))
            except ValueError:
                default = self._path(env[1], depth=0)[0]
        name = self._string(env[0]) or ""
        known = [item for item in self.result.found.config.env_vars if item.name == name]
        if not known:
            self.result.found.config.env_vars.append(
                EnvVar(
                    name=name,
                    default=default,
                    source=at(self.rel, node.lineno),
                    required=required or None,
                )
            )
        elif known[0].default is None and default is not None:
            known[0].default, known[0].required = default, None  # a read with a default wins
        elif required and known[0].default is None:
            known[0].required = True

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


def _env_call(node: ast.expr) -> tuple[ast.expr, ast.expr | None] | None:
    """(name, default) of os.environ.get / os.getenv / os.environ[...] / setdefault."""
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
        return node.slice, None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = ast.unparse(node.func)
    is_env = func in ("os.getenv", "getenv") or (
        func.endswith(tuple(f"environ.{name}" for name in _ENV_GETTERS))
    )
    if not is_env:
        return None
    default = node.args[1] if len(node.args) > 1 else None
    return node.args[0], default


# django-environ's env("X") / env.str("X", default=...), python-decouple's config("X", ...).
_SETTINGS_READERS = {"env", "config"}
_SETTINGS_CASTS = {"str", "bool", "int", "float", "list", "tuple", "dict", "json", "url", "db"}
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")


def _settings_library_call(node: ast.expr) -> tuple[ast.expr, ast.expr | None] | None:
    """(name, default) of env("X", default=...) and config("X", default=...) reads."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    called = func.id if isinstance(func, ast.Name) else None
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "env"
        and func.attr in _SETTINGS_CASTS
    ):
        called = "env"
    first = node.args[0]
    if called not in _SETTINGS_READERS or not (
        isinstance(first, ast.Constant) and isinstance(first.value, str)
    ):
        return None
    if not _ENV_NAME.match(first.value):
        return None
    default = next((k.value for k in node.keywords if k.arg == "default"), None)
    if default is None and len(node.args) > 1 and called == "env":
        default = None  # env("X", cast): a cast, not a default
    return first, default


def _reads_without_default(node: ast.expr) -> bool:
    """os.environ["X"], env("X") and config("X") fail when X is unset; .get() does not."""
    if isinstance(node, ast.Subscript):
        return True
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        return not name.endswith(("get", "getenv", "setdefault"))
    return False


def _bound_name(node: ast.expr) -> str | None:
    """'parser' for `parser` and `self.parser`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _called_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        return _bound_name(node.func)
    return None


def _plain(value: Any) -> Any:
    """YAML-safe: tuples become lists, bytes become text."""
    if isinstance(value, tuple | list | set):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value
