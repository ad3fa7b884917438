"""Environment variable reads in Python code: os.environ, django-environ, decouple,
dj_database_url; with the default each falls back to (`or "x"` too), the setting it feeds
and whether it picks a config class.
"""

from __future__ import annotations

import ast
import re

from kubestep.inventory.model import EnvVar

_ENV_GETTERS = {"getenv", "get", "setdefault"}


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


# Set by the system, the shell or the login, not by the app's operators: code that reads
# them (`os.environ['USER']`, `os.environ['APPDATA']` on Windows) is not asking to be
# configured, and a local.env line `PATH=...` would break the container.
PLATFORM_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "USERNAME", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TERM",
        "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TMPDIR", "TMP", "TEMP", "HOSTNAME",
        "DISPLAY", "EDITOR", "VISUAL", "PAGER", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME",
        "APPDATA", "LOCALAPPDATA", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "PROGRAMFILES",
        "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "COMPUTERNAME", "SUDO_USER",
    }
)  # fmt: skip


def merge_env_var(known: list[EnvVar], variable: EnvVar) -> None:
    """One entry per name: a read with a default gives it; a read that requires it wins over
    one that copes without it only while no read gives a default. The platform's own
    variables are not the app's configuration and are left out."""
    if variable.name in PLATFORM_VARIABLES:
        return
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


def env_call(node: ast.expr) -> tuple[ast.expr, ast.expr | None] | None:
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


def settings_library_call(node: ast.expr) -> tuple[ast.expr, ast.expr | None] | None:
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


def is_env_read(node: ast.AST) -> bool:
    return isinstance(node, ast.expr) and (
        env_call(node) is not None or settings_library_call(node) is not None
    )


def _spine(node: ast.expr) -> ast.expr:
    """The read at the start of a method chain: os.environ.get("X", "").replace(...)."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if is_env_read(node):
                return node
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return node


def or_defaults(module: ast.Module) -> dict[int, ast.expr]:
    """Env reads followed by `or VALUE`: VALUE is the default the code falls back to."""
    found: dict[int, ast.expr] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            for value, fallback in zip(node.values, node.values[1:], strict=False):
                read = _spine(value)
                if is_env_read(read):
                    found[id(read)] = fallback
    return found


_CASTS = {"int", "float", "bool", "str", "Path", "list", "tuple", "strtobool"}


def feeds(module: ast.Module) -> dict[int, str]:
    """Env read -> the setting it is the whole value of: the assigned name, then dict keys and
    keywords (a read formatted into a string is a part of its setting, not the setting)."""
    found: dict[int, str] = {}

    def visit(node: ast.AST, path: list[str], whole: bool) -> None:
        if is_env_read(node) and whole:
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


def selector_reads(module: ast.Module) -> set[int]:
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
                if is_env_read(read):
                    found.add(id(read))
    return found


def env_scheme(module: ast.Module) -> dict[str, ast.expr]:
    """Defaults declared by django-environ's Env(DEBUG=(bool, False), ...)."""
    found: dict[str, ast.expr] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("environ.Env", "Env"):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg and isinstance(value, ast.Tuple) and len(value.elts) == 2:
                    found[keyword.arg] = value.elts[1]
    return found


def reads_without_default(node: ast.expr) -> bool:
    """os.environ["X"], env("X") and config("X") fail when X is unset; .get() does not."""
    if isinstance(node, ast.Subscript):
        return True
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        return not name.endswith(("get", "getenv", "setdefault"))
    return False
