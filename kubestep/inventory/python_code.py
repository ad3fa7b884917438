"""Python source: the framework it imports, its WSGI/ASGI object and Django's settings module.

These are fallbacks: a start command or a pinned dependency names the framework and app more
surely than code does, so they run after those readers and only fill what is still unknown.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable

from kubestep.inventory import roles
from kubestep.inventory.model import Evidence, Fact, Inventory, StartCandidate
from kubestep.inventory.tree import SourceTree, at
from kubestep.removed_names import STDLIB_REMOVED

# Constructor or factory name -> (framework, kind of application object).
APP_FACTORIES = {
    "Flask": ("flask", "wsgi"),
    "FastAPI": ("fastapi", "asgi"),
    "Starlette": ("starlette", "asgi"),
    "get_wsgi_application": ("django", "wsgi"),
    "get_asgi_application": ("django", "asgi"),
    "create_app": (None, "wsgi"),
    "make_app": (None, "wsgi"),
}
# A backing service's URL: a scheme that names one, and a host part.
SERVICE_URL = re.compile(
    r"^(postgres|postgresql|mysql|mariadb|redis|rediss|memcache|memcached|amqp|amqps|mongodb"
    r"|mongodb\+srv)(\+\w+)?://[^\s]*$"
)


def _is_service_url(value: object) -> bool:
    return isinstance(value, str) and SERVICE_URL.match(value) is not None


IMPORTED_FRAMEWORKS = {"flask", "django", "fastapi", "starlette"}
APP_NAMES = ("application", "app")


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    apps: list[Fact] = []
    parsed: dict[str, ast.Module] = {}
    for rel in tree.python_files():
        module = tree.python(rel)
        if isinstance(module, SyntaxError):
            result.warn(at(rel, module.lineno or 1), f"Python syntax error: {module.msg}")
            if _PYTHON2.search(module.msg or "") or _python2_line(tree.text(rel) or "", module):
                result.python2_files.append(
                    Evidence(value=module.msg or "syntax", source=at(rel, module.lineno or 1))
                )
            continue
        parsed[rel] = module
        _read_module(rel, module, result, apps)
    entries = [c.app for c in found.start_candidates if c.app]
    entries += [found.entrypoint.app.value] if found.entrypoint.app else []
    installed = frozenset(d.name.lower().replace("-", "_") for d in found.dependencies)
    result.python2_files.extend(implicit_relative_imports(parsed, entries, installed))
    _keep_outside_imports(tree, result)
    if found.entrypoint.app is None and apps:
        # Prefer a module that looks like the server's entry (wsgi.py, web.py, app.py).
        apps.sort(key=lambda fact: (not fact.value.split(":")[0].endswith(_ENTRY_MODULES),))
        result.entrypoint.app = apps[0]
    return result


_PYTHON2 = re.compile(r"Missing parentheses in call to '(print|exec)'|Did you mean print")
_PYTHON2_LINE = re.compile(
    r"^\s*(print\s+[\"'\w]|except\s+[\w.]+\s*,\s*\w+\s*:|raise\s+\w+\s*,|exec\s+[\"'])"
    r"|\bur?[\"']|\b0[0-7]+\b|<>"
)


def _python2_line(text: str, error: SyntaxError) -> bool:
    """Whether the line a SyntaxError points at is Python 2 syntax."""
    lines = text.splitlines()
    line = lines[error.lineno - 1] if error.lineno and error.lineno <= len(lines) else ""
    return bool(_PYTHON2_LINE.search(line))


_ENTRY_MODULES = ("wsgi", "asgi", "web", "app", "main", "server")


def implicit_relative_imports(
    parsed: dict[str, ast.Module],
    entries: list[str] | None = None,
    installed: frozenset[str] = frozenset(),
) -> list[Evidence]:
    """Python 2's implicit relative imports: `import auth` in package middlewares/ meaning
    middlewares/auth.py. Python 3 parses it and fails at import (no top-level auth), so the
    code is Python 2 although it compiles. Roots of sys.path are the repo's, each folder without
    __init__.py and the folders the start commands' apps (`app:api` under `--pythonpath api`)
    are imported from; a package is any other folder with __init__.py that some module imports."""
    files = set(parsed)
    roots = _import_roots(files, entries or [])
    imported = {
        part
        for module in parsed.values()
        for name in _absolute_imports(module)
        for part in name.split(".")
    }
    found = []
    for rel, module in parsed.items():
        folder = rel.rpartition("/")[0]
        if folder in roots or folder.rpartition("/")[2] not in imported:
            continue
        for node in module.body:
            for name in _absolute_imports(ast.Module(body=[node], type_ignores=[])):
                first = name.split(".")[0]
                # A module named like what it imports (celery.py: `from celery import Celery`)
                # means the installed one, as does any dependency's name.
                if first in sys.stdlib_module_names or first in installed:
                    continue
                if rel.removesuffix(".py").endswith("/" + first) or not _holds(
                    files, folder, first
                ):
                    continue
                if any(_holds(files, root, first) for root in roots):
                    continue
                why = f"implicit relative import of {first} (Python 3: from . import {first})"
                found.append(Evidence(value=why, source=at(rel, node.lineno)))
    return found


def _import_roots(files: set[str], entries: list[str]) -> set[str]:
    folders = {rel.rpartition("/")[0] for rel in files}
    roots = {""} | {f for f in folders if f and f + "/__init__.py" not in files}
    names = {module_name(rel): rel for rel in files}
    for entry in entries:
        dotted = entry.split(":")[0]
        found = find_module(dotted, names) if dotted else None
        if found:
            parts = names[found].removesuffix(".py").removesuffix("/__init__").split("/")
            roots.add("/".join(parts[: len(parts) - len(dotted.split("."))]))
    return roots


def _absolute_imports(module: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _holds(files: set[str], folder: str, name: str) -> bool:
    """Whether folder has a module or package called name ('' is the repo's root)."""
    prefix = f"{folder}/" if folder else ""
    return f"{prefix}{name}.py" in files or f"{prefix}{name}/__init__.py" in files


def module_name(rel: str) -> str:
    """Dotted module for a repo path: 'src/shop/web.py' -> 'shop.web'."""
    path = rel.removeprefix("src/").removesuffix(".py").removesuffix("/__init__")
    return path.replace("/", ".")


def find_module(dotted: str, names: Iterable[str]) -> str | None:
    """The repo module a dotted import names: itself, else the one module ending with it (the
    code imports from a subfolder on sys.path: `app/shop/urls.py` is `shop.urls`)."""
    names = list(names)
    if dotted in names:
        return dotted
    matches = [name for name in names if name.endswith("." + dotted)]
    return matches[0] if len(matches) == 1 else None


def _read_module(rel: str, module: ast.Module, found: Inventory, apps: list[Fact]) -> None:
    guarded = _guarded_imports(module)
    for node in ast.walk(module):
        if isinstance(node, ast.Import | ast.ImportFrom):
            _note_import(rel, node, found)
            if id(node) not in guarded:
                _note_imported_names(rel, node, found)
        elif isinstance(node, ast.Call):
            _note_django_settings(rel, node, found)
        elif isinstance(node, ast.Constant) and _is_service_url(node.value):
            url = str(node.value)
            found.service_urls.append(Evidence(value=url, source=at(rel, node.lineno)))
    for statement in module.body:
        if _is_main_guard(statement):
            _note_main_server(rel, statement, found)  # type: ignore[arg-type]
        if isinstance(statement, ast.Assign):
            _note_app_object(rel, statement, found, apps)
        elif isinstance(statement, ast.FunctionDef) and _is_wsgi_callable(statement):
            app = f"{module_name(rel)}:{statement.name}"
            apps.append(Fact(value=app, kind="wsgi", source=at(rel, statement.lineno)))
            if found.framework is None:
                found.framework = Fact(value="wsgi", source=at(rel, statement.lineno))


def _keep_outside_imports(tree: SourceTree, found: Inventory) -> None:
    """Drop the standard library's modules and the repo's own from the imports and names."""
    files = set(tree.python_files())
    own = set()
    for rel in files:
        parts = rel.removesuffix(".py").split("/")
        own.add(parts[0])
        # A folder that is no package is a sys.path entry (`--pythonpath api`, a script's own
        # folder): what it holds is imported by bare name.
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder + "/__init__.py" not in files:
                own.add(parts[depth])
    outside = {
        item.value
        for item in found.imports
        if item.value not in sys.stdlib_module_names and item.value not in own
    }
    found.imports[:] = [item for item in found.imports if item.value in outside]
    found.imported_names[:] = [
        item
        for item in found.imported_names
        if item.value.split(".")[0] in outside or _python_removed(item.value)
    ]


def _python_removed(name: str) -> bool:
    """A name Python itself removed (cgi.escape, collections.Mapping): kept, so that the
    image's Python can be checked against it (kubestep/removed_names.py)."""
    return any(name == gone or name.startswith(gone + ".") for gone in STDLIB_REMOVED)


def _note_import(rel: str, node: ast.Import | ast.ImportFrom, found: Inventory) -> None:
    if isinstance(node, ast.ImportFrom):
        names = [node.module or ""] if node.level == 0 else []
    else:
        names = [alias.name for alias in node.names]
    for name in names:
        top = name.split(".")[0]
        if top and top not in {item.value for item in found.imports}:
            found.imports.append(Evidence(value=top, source=at(rel, node.lineno)))
        if top in IMPORTED_FRAMEWORKS and found.framework is None:
            found.framework = Fact(value=top, source=at(rel, node.lineno), note="imported")


def _note_imported_names(rel: str, node: ast.Import | ast.ImportFrom, found: Inventory) -> None:
    if isinstance(node, ast.ImportFrom):
        if node.level or not node.module:
            return
        names = [f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*"]
    else:
        names = [a.name for a in node.names if "." in a.name or a.name in STDLIB_REMOVED]
    known = {item.value for item in found.imported_names}
    for name in names:
        if name not in known:
            found.imported_names.append(Evidence(value=name, source=at(rel, node.lineno)))
            known.add(name)


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _guarded_imports(module: ast.Module) -> set[int]:
    """Imports the code copes without: inside `try:` with an ImportError fallback, that
    fallback itself (it runs only where the first import failed), and either branch of a
    test of the Python version (`if sys.version_info < (3, 3):`, `if PY2:`)."""
    guarded: set[int] = set()
    for node in ast.walk(module):
        statements: list[ast.stmt] = []
        if isinstance(node, ast.Try) and any(map(_catches_import_error, node.handlers)):
            statements = [*node.body, *(s for h in node.handlers for s in h.body)]
        elif isinstance(node, ast.If) and _tests_python_version(node.test):
            statements = [*node.body, *node.orelse]
        for statement in statements:
            guarded.update(
                id(inner)
                for inner in ast.walk(statement)
                if isinstance(inner, ast.Import | ast.ImportFrom)
            )
    return guarded


_VERSION_NAMES = re.compile(r"^(version_info|hexversion|PY\d*|IS_PY\d*|PYTHON\d*)$")


def _tests_python_version(test: ast.expr) -> bool:
    return any(
        (isinstance(n, ast.Attribute) and _VERSION_NAMES.match(n.attr))
        or (isinstance(n, ast.Name) and _VERSION_NAMES.match(n.id))
        for n in ast.walk(test)
    )


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(name, ast.Name) and name.id in _IMPORT_ERRORS for name in caught)


def _note_app_object(rel: str, node: ast.Assign, found: Inventory, apps: list[Fact]) -> None:
    targets = [target.id for target in node.targets if isinstance(target, ast.Name)]
    if not isinstance(node.value, ast.Call) or not targets:
        return
    func = node.value.func
    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    if called not in APP_FACTORIES or not any(name in APP_NAMES for name in targets):
        return
    framework, kind = APP_FACTORIES[called]
    name = next(name for name in targets if name in APP_NAMES)
    source = at(rel, node.lineno)
    apps.append(Fact(value=f"{module_name(rel)}:{name}", kind=kind, source=source))
    if framework and found.framework is None:
        found.framework = Fact(value=framework, source=source)


def _is_wsgi_callable(node: ast.FunctionDef) -> bool:
    params = [arg.arg for arg in node.args.args]
    return params[:2] == ["environ", "start_response"]


def _note_django_settings(rel: str, node: ast.Call, found: Inventory) -> None:
    """os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings") in manage.py/wsgi.py."""
    if getattr(node.func, "attr", None) != "setdefault" or len(node.args) != 2:
        return
    name, value = node.args
    if (
        isinstance(name, ast.Constant)
        and name.value == "DJANGO_SETTINGS_MODULE"
        and isinstance(value, ast.Constant)
        and found.entrypoint.settings is None
    ):
        found.entrypoint.settings = Fact(
            value=str(value.value), source=at(rel, node.lineno), env_var="DJANGO_SETTINGS_MODULE"
        )


# In `if __name__ == "__main__":`, calls that serve: app.run() is Flask's development server.
_SERVING_CALLS = {"run": roles.DEV, "run_app": roles.WEB, "serve": roles.WEB}
_SERVING_MODULES = {"uvicorn": roles.WEB, "waitress": roles.WEB, "socketio": roles.DEV}


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    names = [node.test.left, *node.test.comparators]
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in names) and any(
        isinstance(n, ast.Constant) and n.value == "__main__" for n in names
    )


def _note_main_server(rel: str, guard: ast.If, found: Inventory) -> None:
    """`python app.py` as a start candidate when its main guard starts a server."""
    for node in ast.walk(guard):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
        role = _SERVING_MODULES.get(owner) or _SERVING_CALLS.get(node.func.attr)
        if role is None or (owner not in _SERVING_MODULES and owner not in APP_NAMES):
            continue
        candidate = StartCandidate(
            command=f"python {rel}",
            source=at(rel, node.lineno),
            origin="python-main",
            role=role,
            server=f"{owner}.{node.func.attr}",
        )
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        port = keywords.get("port")
        if isinstance(port, ast.Constant) and isinstance(port.value, int):
            candidate.port = port.value
        elif port is not None:
            candidate.port, candidate.port_env = _env_int_default(port)
        host = keywords.get("host")
        if not (isinstance(host, ast.Constant) and host.value in ("0.0.0.0", "::")):
            candidate.note = "its host is not 0.0.0.0: it may not answer from outside a container"
        found.start_candidates.append(candidate)
        return


def _env_int_default(node: ast.expr) -> tuple[int | None, str | None]:
    """int(os.environ.get("PORT", 5000)) -> (5000, "PORT")."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") in ("get", "getenv"):
            args = call.args
            name = args[0].value if args and isinstance(args[0], ast.Constant) else None
            default = args[1] if len(args) > 1 else None
            value = default.value if isinstance(default, ast.Constant) else None
            try:
                number = int(str(value)) if isinstance(value, int | str) else None
            except (TypeError, ValueError):
                number = None
            return number, name if isinstance(name, str) else None
    return None, None
