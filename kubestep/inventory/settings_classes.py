"""pydantic settings classes: every annotated field of a `BaseSettings` subclass is an env var.

pydantic reads `field: str` from the variable FIELD (case-insensitive, after `env_prefix`), and
fails at start when a field without a default is unset. Subclasses inherit fields (an app
may pick BaseAppSettings -> AppSettings -> ProdAppSettings by APP_ENV), so classes are
resolved across the whole tree. What cannot be read soundly (nested settings models, computed
names) is skipped, never guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from kubestep.inventory.model import EnvVar
from kubestep.inventory.python_code import module_name
from kubestep.inventory.tree import SourceTree, at

# Where BaseSettings comes from -> pydantic's major version (their env rules differ).
_ROOTS = {
    "pydantic.BaseSettings": 1,
    "pydantic.env_settings.BaseSettings": 1,
    "pydantic.v1.BaseSettings": 1,
    "pydantic_settings.BaseSettings": 2,
}
_OPTIONAL = ("Optional[", "None |", "| None", "Union[None", ", None]")


@dataclass
class _Class:
    rel: str
    node: ast.ClassDef
    bases: list[str]  # dotted, resolved through the module's imports
    module: str
    names: dict[str, str] = field(default_factory=dict)  # the module's import table


def read(tree: SourceTree, skip: set[str]) -> list[EnvVar]:
    """The env vars the settings classes of tree read, in the order their fields appear."""
    classes: dict[str, _Class] = {}
    for rel in tree.python_files():
        module = tree.python(rel)
        if not isinstance(module, ast.Module) or rel in skip:
            continue
        names = _imports(module, module_name(rel), rel.endswith("__init__.py"))
        for node in module.body:
            if isinstance(node, ast.ClassDef):
                bases = [_dotted(ast.unparse(base), names, rel) for base in node.bases]
                qualified = f"{module_name(rel)}.{node.name}"
                classes[qualified] = _Class(rel, node, bases, module_name(rel), names)
    found: dict[str, EnvVar] = {}
    for qualified in classes:
        version = _version(qualified, classes, set())
        if version:
            for variable in _fields(qualified, classes, version):
                _keep(found, variable)
    return list(found.values())


def _dotted(name: str, names: dict[str, str], rel: str) -> str:
    """The dotted name a name in module rel stands for: imported, else defined there."""
    head, _, rest = name.partition(".")
    if head in names:
        return names[head] + (f".{rest}" if rest else "")
    return f"{module_name(rel)}.{name}"


def _imports(module: ast.Module, here: str, package: bool) -> dict[str, str]:
    """Local name -> dotted name, for `from x import Y [as Z]` and `import x`."""
    names: dict[str, str] = {}
    parts = here.split(".") if package else here.split(".")[:-1]
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:  # from .base import X
                inside = parts[: len(parts) - node.level + 1]
                origin = ".".join([*inside, *([origin] if origin else [])])
            for alias in node.names:
                names[alias.asname or alias.name] = f"{origin}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
    return names


def _resolve(base: str, classes: dict[str, _Class]) -> str | None:
    """The class a base names: by its dotted name, else the one class of that name in the tree."""
    if base in classes:
        return base
    short = base.rsplit(".", 1)[-1]
    matches = [name for name in classes if name.rsplit(".", 1)[-1] == short]
    return matches[0] if len(matches) == 1 else None


def _version(qualified: str, classes: dict[str, _Class], seen: set[str]) -> int:
    """pydantic's major version if the class is a settings class, 0 otherwise."""
    if qualified in seen:
        return 0
    seen.add(qualified)
    for base in classes[qualified].bases:
        if base in _ROOTS:
            return _ROOTS[base]
        parent = _resolve(base, classes)
        if parent is not None and (version := _version(parent, classes, seen)):
            return version
    return 0


_MODELS = {"pydantic.BaseModel", "pydantic.v1.BaseModel", *_ROOTS}


def _is_model(qualified: str, classes: dict[str, _Class], seen: set[str]) -> bool:
    """Whether a class is a pydantic model (an Enum or a plain class is read as one value)."""
    if qualified in seen:
        return False
    seen.add(qualified)
    for base in classes[qualified].bases:
        parent = _resolve(base, classes)
        if base in _MODELS or (parent is not None and _is_model(parent, classes, seen)):
            return True
    return False


def _lineage(qualified: str, classes: dict[str, _Class]) -> list[_Class]:
    """The class and its settings ancestors in the tree, the most basic first."""
    order: list[_Class] = []
    todo, seen = [qualified], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        order.append(classes[name])
        todo.extend(p for b in classes[name].bases if (p := _resolve(b, classes)))
    return list(reversed(order))


def _fields(qualified: str, classes: dict[str, _Class], version: int) -> list[EnvVar]:
    lineage = _lineage(qualified, classes)
    options: dict[str, Any] = {}
    fields: dict[str, ast.AnnAssign] = {}
    for item in lineage:
        options.update(_options(item.node))
        for statement in item.node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                name = statement.target.id
                if name.startswith("_") or name == "model_config":
                    continue
                if "ClassVar" in ast.unparse(statement.annotation):
                    continue
                fields[name] = statement
    owner = {id(s): c for c in lineage for s in c.node.body}
    prefix = str(options.get("env_prefix") or "")
    sensitive = bool(options.get("case_sensitive"))
    result = []
    for name, statement in fields.items():
        variable = _field(name, statement, owner[id(statement)], classes, version, prefix)
        if variable is not None:
            variable.name = variable.name if sensitive else variable.name.upper()
            result.append(variable)
    return result


def _options(node: ast.ClassDef) -> dict[str, Any]:
    """env_prefix / case_sensitive of `class Config:` (v1) or `model_config = ...(...)` (v2)."""
    options: dict[str, Any] = {}
    for statement in node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Config":
            for inner in statement.body:
                if isinstance(inner, ast.Assign) and isinstance(inner.targets[0], ast.Name):
                    options[inner.targets[0].id] = _literal(inner.value)
        elif _assignment(statement)[0] == "model_config":
            value = _assignment(statement)[1]
            if isinstance(value, ast.Call):
                options.update({k.arg: _literal(k.value) for k in value.keywords if k.arg})
            elif isinstance(value, ast.Dict):
                for key, item in zip(value.keys, value.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        options[key.value] = _literal(item)
    return options


def _field(
    name: str,
    statement: ast.AnnAssign,
    owner: _Class,
    classes: dict[str, _Class],
    version: int,
    prefix: str,
) -> EnvVar | None:
    annotation = ast.unparse(statement.annotation)
    nested = _resolve(_dotted(annotation, owner.names, owner.rel), classes)
    if nested is not None and _is_model(nested, classes, set()):
        return None  # a nested model: pydantic reads it as JSON or by a delimiter, not FIELD
    value = statement.value
    env_name = prefix + name
    default: Any = None
    required = value is None
    if isinstance(value, ast.Call) and ast.unparse(value.func).endswith("Field"):
        keywords = {k.arg: k.value for k in value.keywords if k.arg}
        alias = keywords.get("env") or (
            (keywords.get("validation_alias") or keywords.get("alias")) if version == 2 else None
        )
        if alias is not None:
            names = _names(alias)
            if not names:
                return None  # a computed name
            env_name = names[0]
        given = value.args[0] if value.args else keywords.get("default")
        required = "default_factory" not in keywords and (
            given is None or (isinstance(given, ast.Constant) and given.value is Ellipsis)
        )
        value = None if required else given
    elif isinstance(value, ast.Constant) and value.value is Ellipsis:
        required, value = True, None
    if required and version == 1 and any(mark in annotation for mark in _OPTIONAL):
        required = False  # pydantic 1: an Optional field defaults to None
    if value is not None:
        default = _default(value, owner, classes)
    return EnvVar(
        name=env_name,
        source=at(owner.rel, statement.lineno),
        default=default,
        required=required or None,
    )


def _names(node: ast.expr) -> list[str]:
    """Env names of `env="X"`, `env=["X", "Y"]`, `AliasChoices("X", "Y")`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [n for item in node.elts for n in _names(item)]
    if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("AliasChoices"):
        return [n for item in node.args for n in _names(item)]
    return []


def _default(node: ast.expr, owner: _Class, classes: dict[str, _Class]) -> Any:
    """A literal default, an Enum member's value; None when computed (logging.INFO, ...)."""
    literal = _literal(node)
    if literal is not None:
        return literal
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        enum = _resolve(_dotted(node.value.id, owner.names, owner.rel), classes)
        if enum is not None:
            for statement in classes[enum].node.body:
                name, value = _assignment(statement)
                if name == node.attr and value is not None:
                    return _literal(value)
    return None


def _assignment(statement: ast.stmt) -> tuple[str, ast.expr | None]:
    """(name, value) of a class-level `NAME = ...` or `NAME: T = ...` ('' for anything else)."""
    if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    return "", None


def _literal(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None
    return list(value) if isinstance(value, tuple | set) else value


def _keep(found: dict[str, EnvVar], variable: EnvVar) -> None:
    """One entry per name: a field one settings class requires stays required, because that
    class fails to start without it whatever the others default to."""
    known = found.get(variable.name)
    if known is None:
        found[variable.name] = variable
    elif variable.required and not known.required:
        known.required, known.default, known.source = True, None, variable.source
    elif not known.required and known.default is None and variable.default is not None:
        known.default = variable.default
