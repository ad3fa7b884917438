"""configparser and os.environ reads in Python code, found with `ast`.

The code is the only complete list of settings: it names every section and key it reads, the
default it falls back to, the type it converts to and the file (or env var) it reads from.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from kubestep.inventory import env_files, settings_classes
from kubestep.inventory.model import ConfigFile, EnvVar, Inventory
from kubestep.inventory.python_code import module_name
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


def is_test_file(rel: str) -> bool:
    """Tests set up their own environment; what they read is not the app's configuration."""
    parts = rel.split("/")
    name = parts[-1]
    return (
        bool({"tests", "test", "testing"} & set(parts[:-1]))
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("conftest.py", "tests.py")
    )


def merge_env_var(known: list[EnvVar], variable: EnvVar) -> None:
    """One entry per name: a read with a default gives it; a read that requires it wins over
    one that copes without it only while no read gives a default."""
    same = next((item for item in known if item.name == variable.name), None)
    if same is None:
        known.append(variable)
        return
    same.feeds = same.feeds or variable.feeds
    same.choices = same.choices or variable.choices
    if same.default is None and variable.default is not None:
        same.default, same.required = variable.default, None
    elif variable.required and same.default is None:
        same.required = True


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
        self.or_defaults = _or_defaults(self.module)
        self.feeds = _feeds(self.module)
        self.selected = _selector_reads(self.module)
        self.scheme = _env_scheme(self.module)
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
        name = self._string(env[0]) if env is not None else None
        if env is None or name is None:
            return
        given = env[1]
        if given is None and name in self.scheme:  # environ.Env(DEBUG=(bool, False))
            given = self.scheme[name]
        if id(node) in self.or_defaults:  # os.environ.get("X") or "default"
            given = self.or_defaults[id(node)]
        required = given is None and (_reads_without_default(node) or id(node) in self.dereferenced)
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
    default = node.args[1] if len(node.args) > 1 else _keyword(node, "default")
    return node.args[0], default


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


# django-environ's env("X") / env.str("X", default=...), python-decouple's config("X", ...).
_SETTINGS_READERS = {"env", "config"}
_SETTINGS_CASTS = {"str", "bool", "int", "float", "list", "tuple", "dict", "json", "url", "path"}
# django-environ's URL readers and the variable each reads when given none.
_URL_READERS = {
    "db": "DATABASE_URL",
    "db_url": "DATABASE_URL",
    "cache": "CACHE_URL",
    "cache_url": "CACHE_URL",
    "email": "EMAIL_URL",
    "email_url": "EMAIL_URL",
    "search_url": "SEARCH_URL",
    "channels": "CHANNELS_URL",
    "channels_url": "CHANNELS_URL",
}
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")


def _settings_library_call(node: ast.expr) -> tuple[ast.expr, ast.expr | None] | None:
    """(name, default) of env("X", default=...), env.str("X", "d"), env.db(), config("X", ...)
    and dj_database_url.config(default=...) reads."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and ast.unparse(func.value).endswith("dj_database_url"):
        if func.attr != "config":
            return None
        return _keyword(node, "env") or ast.Constant("DATABASE_URL"), _keyword(node, "default")
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "env"
    ):
        if func.attr in _URL_READERS:
            first = node.args[0] if node.args else _keyword(node, "var")
            name = first or ast.Constant(_URL_READERS[func.attr])
            default = node.args[1] if len(node.args) > 1 else _keyword(node, "default")
            return name, default
        if func.attr not in _SETTINGS_CASTS:
            return None
        called, position = "env", 1  # env.str(var, default)
    elif isinstance(func, ast.Name) and func.id in _SETTINGS_READERS:
        called, position = func.id, 2 if func.id == "env" else 1  # env(var, cast, default)
    else:
        return None
    if not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    first = node.args[0]
    if not isinstance(first.value, str) or not _ENV_NAME.match(first.value):
        return None
    default = _keyword(node, "default")
    if default is None and called == "env" and len(node.args) > position:
        default = node.args[position]
    return first, default


def _is_env_read(node: ast.AST) -> bool:
    return isinstance(node, ast.expr) and (
        _env_call(node) is not None or _settings_library_call(node) is not None
    )


def _spine(node: ast.expr) -> ast.expr:
    """The read at the start of a method chain: os.environ.get("X", "").replace(...)."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if _is_env_read(node):
                return node
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return node


def _or_defaults(module: ast.Module) -> dict[int, ast.expr]:
    """Env reads followed by `or VALUE`: VALUE is the default the code falls back to."""
    found: dict[int, ast.expr] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            for value, fallback in zip(node.values, node.values[1:], strict=False):
                read = _spine(value)
                if _is_env_read(read):
                    found[id(read)] = fallback
    return found


_CASTS = {"int", "float", "bool", "str", "Path", "list", "tuple", "strtobool"}


def _feeds(module: ast.Module) -> dict[int, str]:
    """Env read -> the setting it is the whole value of: the assigned name, then dict keys and
    keywords (a read formatted into a string is a part of its setting, not the setting)."""
    found: dict[int, str] = {}

    def visit(node: ast.AST, path: list[str], whole: bool) -> None:
        if _is_env_read(node) and whole:
            found.setdefault(id(node), ".".join(path))
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    visit(value, [*path, key.value], whole)
                else:
                    visit(value, path, False)
        elif isinstance(node, ast.Call):
            cast = isinstance(node.func, ast.Name) and node.func.id in _CASTS
            for keyword in node.keywords:
                visit(keyword.value, [*path, keyword.arg] if keyword.arg else path, whole)
            for argument in node.args:
                visit(argument, path, whole and cast)
            visit(node.func, path, whole and isinstance(node.func, ast.Attribute))
        elif isinstance(node, ast.Attribute):
            visit(node.value, path, whole)  # os.environ.get("X", "").replace(...)
        elif isinstance(node, ast.BoolOp | ast.IfExp):
            for child in ast.iter_child_nodes(node):
                visit(child, path, whole)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, path, False)

    for node in ast.walk(module):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            name = _target_name(target)
            visit(node.value, [name] if name else [], bool(name))
    return {key: value for key, value in found.items() if value}


def _target_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)  # app.config["SQLALCHEMY_DATABASE_URI"]
    return ""


def _selector_reads(module: ast.Module) -> set[int]:
    """Env reads whose value names the config class: config.from_object(os.environ["X"]),
    directly or through a name bound to the read."""
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            bound.setdefault(node.targets[0].id, []).append(node.value)
    found: set[int] = set()
    for node in ast.walk(module):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "from_object"
            and node.args
        ):
            continue
        argument = node.args[0]
        values = bound.get(argument.id, []) if isinstance(argument, ast.Name) else [argument]
        for value in values:  # the read is the whole value, or its `or`: not a dict's key
            for read in value.values if isinstance(value, ast.BoolOp) else [value]:
                if _is_env_read(read):
                    found.add(id(read))
    return found


def _env_scheme(module: ast.Module) -> dict[str, ast.expr]:
    """Defaults declared by django-environ's Env(DEBUG=(bool, False), ...)."""
    found: dict[str, ast.expr] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("environ.Env", "Env"):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg and isinstance(value, ast.Tuple) and len(value.elts) == 2:
                    found[keyword.arg] = value.elts[1]
    return found


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
