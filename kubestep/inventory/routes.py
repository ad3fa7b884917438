"""The URL paths the app serves, read from its code: Flask, FastAPI, Starlette, Falcon, web.py.

Why: the +1 step adds /health, /ready, /metrics and /info in front of the app and must not
hide a route of its own (many apps already serve /health), and a check of a running service
wants a route that exists. Blueprint and router prefixes are followed through imports
(`app.register_blueprint(auth_bp, url_prefix="/auth")`); a prefix kubestep cannot follow is
said in the route's note. Django's urlpatterns are read by django_urls.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from kubestep.inventory import django_urls
from kubestep.inventory.model import Inventory, Route
from kubestep.inventory.python_code import find_module, module_name
from kubestep.inventory.route_patterns import regex_body, template_regex
from kubestep.inventory.tree import SourceTree, at

_ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket"}
# Calls whose first argument is a path (add_resource's paths follow the resource).
_ROUTE_CALLS = {"add_url_rule", "add_api_route", "add_route", "Route"}
_MOUNT_CALLS = {"mount", "Mount"}
_ROUTERS = {"Blueprint": "flask", "APIRouter": "fastapi"}
_REGISTER = {"register_blueprint": "flask", "include_router": "fastapi"}
Ref = tuple[str, str]  # (module, name): where a router object is defined


@dataclass
class _Declared:
    """A route as written: on which object, its path template, and the methods it declares."""

    owner: ast.expr | None
    template: str
    line: int
    kind: str  # "template", "regex" (web.py) or "mount"
    methods: list[str] | None = None


@dataclass
class _Registration:
    """`app.include_router(router, prefix=...)`: prefix is None when it is not a literal; a
    setting's name (`settings.api_prefix`) is kept, to be read from the settings' defaults."""

    registrar: ast.expr
    router: ast.expr
    prefix: str | None
    setting: str | None = None


@dataclass
class _Module:
    name: str
    rel: str
    is_package: bool
    imports: dict[str, Ref] = field(default_factory=dict)
    routers: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (kind, prefix)
    routes: list[_Declared] = field(default_factory=list)
    registrations: list[_Registration] = field(default_factory=list)
    sequences: dict[str, ast.expr] = field(default_factory=dict)  # `urls = (...)` at top level


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    modules = {}
    for rel in tree.python_files():
        parsed = tree.python(rel)
        if isinstance(parsed, ast.Module):
            modules[module_name(rel)] = _scan(rel, parsed)
    settings = {
        variable.name: variable.default
        for variable in found.config.env_vars
        if isinstance(variable.default, str)
        and (variable.default.startswith("/") or not variable.default)
    }
    resolver = _Resolver(modules, settings)
    for module in modules.values():
        for declared in module.routes:
            for prefix, note in resolver.prefixes(module, declared.owner):
                route = _route(prefix, declared, at(module.rel, declared.line), note)
                result.routes.append(route)
    result.routes.extend(django_urls.routes(tree, found))
    # A blueprint registered by two app factories (the app's and its tests') is served once.
    result.routes[:] = list({(r.path, r.source): r for r in result.routes}.values())
    return result


def _route(prefix: str, declared: _Declared, source: str, note: str | None) -> Route:
    template, kind = declared.template, declared.kind
    path = (
        prefix + template if template.startswith("/") or not template else prefix + "/" + template
    )
    if kind == "regex":  # web.py: the whole path is a regex, anchored at both ends
        pattern = regex_body(template).removesuffix("$")
    elif kind == "mount":  # everything under the prefix
        pattern = template_regex(path.rstrip("/")) + "(/.*)?"
    else:
        pattern = template_regex(path)
    return Route(
        path=path or "/", pattern=pattern or "/", source=source, note=note, methods=declared.methods
    )


def _scan(rel: str, parsed: ast.Module) -> _Module:
    module = _Module(module_name(rel), rel, rel.endswith("__init__.py"))
    for statement in parsed.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple | ast.List):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    module.sequences[target.id] = statement.value
    for node in ast.walk(parsed):
        if isinstance(node, ast.ImportFrom | ast.Import):
            _note_import(module, node)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            _note_router(module, node)
            _note_webpy_urls(module, node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                _note_decorator(module, decorator)
        if isinstance(node, ast.Call):
            _note_call(module, node)
    return module


def _note_import(module: _Module, node: ast.Import | ast.ImportFrom) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                module.imports[alias.asname] = (alias.name, "")
            else:
                top = alias.name.split(".")[0]
                module.imports[top] = (top, "")
        return
    base = _absolute(module, node.module or "", node.level)
    for alias in node.names:
        module.imports[alias.asname or alias.name] = (base, alias.name)


def _absolute(module: _Module, name: str, level: int) -> str:
    if not level:
        return name
    parts = module.name.split(".")
    package = parts if module.is_package else parts[:-1]
    package = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*package, name] if name else package)


def _note_router(module: _Module, node: ast.Assign) -> None:
    call = node.value
    assert isinstance(call, ast.Call)
    kind = _ROUTERS.get(_called_name(call))
    if kind is None:
        return
    prefix = _keyword_text(call, "url_prefix" if kind == "flask" else "prefix") or ""
    for target in node.targets:
        if isinstance(target, ast.Name):
            module.routers[target.id] = (kind, prefix)


def _note_webpy_urls(module: _Module, node: ast.Assign) -> None:
    """`app = web.application(urls, globals())` with `urls = ("/", "Index", ...)` beside it."""
    call = node.value
    assert isinstance(call, ast.Call)
    if _called_name(call) != "application" or not call.args:
        return
    urls = call.args[0]
    if isinstance(urls, ast.Name):
        urls = module.sequences.get(urls.id, urls)
    if isinstance(urls, ast.Tuple | ast.List):
        texts = [item.value for item in urls.elts if isinstance(item, ast.Constant)]
        for path in texts[0::2]:
            if isinstance(path, str) and path.startswith("/"):
                module.routes.append(_Declared(None, path, node.lineno, "regex"))


def _note_decorator(module: _Module, decorator: ast.expr) -> None:
    if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
        return
    if decorator.func.attr not in _ROUTE_DECORATORS:
        return
    path = _first_text(decorator)
    if path is not None and (path == "" or path.startswith("/")):
        methods = _declared_methods(decorator, decorator.func.attr)
        module.routes.append(
            _Declared(decorator.func.value, path, decorator.lineno, "template", methods)
        )


def _note_call(module: _Module, call: ast.Call) -> None:
    name = _called_name(call)
    owner = call.func.value if isinstance(call.func, ast.Attribute) else None
    if name in _REGISTER and owner is not None and call.args:
        prefix_key = "url_prefix" if _REGISTER[name] == "flask" else "prefix"
        has_prefix = any(keyword.arg == prefix_key for keyword in call.keywords)
        prefix = _keyword_text(call, prefix_key) if has_prefix else ""
        setting = _setting_name(call, prefix_key) if prefix is None else None
        module.registrations.append(_Registration(owner, call.args[0], prefix, setting))
    elif name in _ROUTE_CALLS or name in _MOUNT_CALLS:
        path = _first_text(call)
        if path is not None and path.startswith("/"):
            kind = "mount" if name in _MOUNT_CALLS else "template"
            methods = _literal_methods(call)  # a view class or resource may answer any method
            where = owner if name != "Route" else None
            module.routes.append(_Declared(where, path, call.lineno, kind, methods))
    elif name == "add_resource" and owner is not None:  # Flask-RESTful, flask-restx
        for arg in call.args[1:]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                module.routes.append(_Declared(owner, arg.value, call.lineno, "template"))


def _declared_methods(decorator: ast.Call, name: str) -> list[str] | None:
    """`@app.post` is POST; `@app.route` without methods= is GET (Flask, FastAPI's api_route);
    a list kubestep cannot read is None (unknown)."""
    if name == "websocket":
        return ["WEBSOCKET"]
    if name not in {"route", "api_route"}:
        return [name.upper()]
    if not any(keyword.arg == "methods" for keyword in decorator.keywords):
        return ["GET"]
    return _literal_methods(decorator)


def _literal_methods(call: ast.Call) -> list[str] | None:
    for keyword in call.keywords:
        if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple | ast.Set):
            texts = [e.value for e in keyword.value.elts if isinstance(e, ast.Constant)]
            if len(texts) == len(keyword.value.elts) and all(isinstance(t, str) for t in texts):
                return sorted({str(t).upper() for t in texts})
    return None


def _setting_name(call: ast.Call, name: str) -> str | None:
    """`prefix=settings.api_prefix` or `prefix=API_PREFIX`: the setting it names."""
    for keyword in call.keywords:
        if keyword.arg == name:
            value = keyword.value
            if isinstance(value, ast.Attribute):
                return value.attr
            return value.id if isinstance(value, ast.Name) else None
    return None


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _first_text(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    path = _keyword_text(call, "rule") or _keyword_text(call, "path")
    return path


def _keyword_text(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            value = keyword.value
            return (
                value.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str)
                else None
            )
    return None


class _Resolver:
    """Follows a route's owner to the router it is, and that router to where it is mounted."""

    def __init__(self, modules: dict[str, _Module], settings: dict[str, str]) -> None:
        """settings: the defaults of the env vars the code reads (API_PREFIX -> "/api"), which
        config/local.env holds too, so a prefix read from one is served as such locally."""
        self.modules = modules
        self.mounted: dict[Ref, list[tuple[Ref | None, str | None]]] = {}
        for module in modules.values():
            for registration in module.registrations:
                ref = self.router_of(module, registration.router)
                if ref is not None:
                    parent = self.router_of(module, registration.registrar)
                    prefix = registration.prefix
                    if prefix is None and registration.setting:
                        prefix = settings.get(registration.setting.upper())
                    self.mounted.setdefault(ref, []).append((parent, prefix))

    def router_of(self, module: _Module, expr: ast.expr | None, depth: int = 0) -> Ref | None:
        """The (module, name) of the Blueprint or APIRouter expr names, if it is one."""
        if expr is None or depth > 5:
            return None
        if isinstance(expr, ast.Name):
            if expr.id in module.routers:
                return (module.name, expr.id)
            if expr.id in module.imports:
                source, attr = module.imports[expr.id]
                return self._lookup(source, attr, depth)
        if isinstance(expr, ast.Attribute):  # `auth.bp`, `user.views.blueprint`
            head, *rest = ast.unparse(expr).split(".")
            source, attr = module.imports.get(head, ("", ""))
            if source and head.isidentifier():
                dotted = ".".join(part for part in (source, attr, *rest) if part)
                owner, _, name = dotted.rpartition(".")
                return self._lookup(owner, name, depth)
        return None

    def _lookup(self, source: str, name: str, depth: int) -> Ref | None:
        found = find_module(source, self.modules)
        target = self.modules[found] if found else None
        if target is None or not name:
            return None
        if name in target.routers:
            return (target.name, name)
        if name in target.imports:
            return self.router_of(target, ast.Name(id=name), depth + 1)
        return None

    def prefixes(self, module: _Module, owner: ast.expr | None) -> list[tuple[str, str | None]]:
        """Every (prefix, note) under which a route on owner is served."""
        ref = self.router_of(module, owner)
        return [("", None)] if ref is None else self._router_prefixes(ref, 0)

    def _router_prefixes(self, ref: Ref, depth: int) -> list[tuple[str, str | None]]:
        kind, own = self.modules[ref[0]].routers[ref[1]]
        mounts = self.mounted.get(ref)
        if not mounts or depth > 5:
            return [(own, f"the {ref[1]} of {ref[0]} is registered where kubestep cannot follow")]
        result: list[tuple[str, str | None]] = []
        for parent, prefix in mounts:
            if prefix is None:
                result.append((own, f"the {ref[1]} of {ref[0]} is mounted at a computed prefix"))
                continue
            here = (prefix or own) if kind == "flask" else prefix + own
            above = [("", None)] if parent is None else self._router_prefixes(parent, depth + 1)
            result.extend((outer + here, note) for outer, note in above)
        return result
