"""Python packaging files: dependencies, the Python version, the language and the framework.

requirements*.txt, setup.py, setup.cfg and pyproject.toml each declare dependencies their own
way; all end up as one list, each with the line it came from, so the image installs exactly
what the legacy host had.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from typing import Any

from kubestep.inventory.model import Dependency, Fact, Inventory, RequirementsInclude
from kubestep.inventory.tree import SourceTree, at, line_of

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_DEV_FILE = re.compile(r"(dev|test|lint|doc|ci|check)", re.IGNORECASE)
_PYTHON_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")
# Checked in order: FastAPI pulls in Starlette, so the more specific framework comes first.
FRAMEWORKS = ("django", "fastapi", "flask", "starlette")


# What kubestep's +1 step adds beside the app's requirements: kubestep's, not the app's.
KUBESTEP_REQUIREMENTS = "requirements-kubestep.txt"


def read(tree: SourceTree, found: Inventory) -> Inventory:
    requirements = sorted(
        (
            rel
            for rel in tree.matching("requirements*.txt", "requirements/*.txt")
            if rel != KUBESTEP_REQUIREMENTS
        ),
        key=lambda rel: (_DEV_FILE.search(rel.rsplit("/", 1)[-1]) is not None, rel),
    )
    result = tree.per_file(requirements, _parse_requirements)
    result.requirements_files.extend(requirements)
    result.merge(tree.per_file(tree.matching("setup.py", top_level=True), _parse_setup_py))
    result.merge(tree.per_file(tree.matching("setup.cfg", top_level=True), _parse_setup_cfg))
    result.merge(tree.per_file(tree.matching("pyproject.toml", top_level=True), _parse_pyproject))
    result.merge(tree.per_file(tree.matching("Pipfile", top_level=True), _parse_pipfile))
    result.merge(tree.per_file(tree.matching(".python-version", "runtime.txt"), _parse_version))
    _detect_language(tree, result)
    _detect_framework(result)
    return result


def normalise(name: str) -> str:
    """PEP 503 name: 'Flask_SQLAlchemy' and 'flask.sqlalchemy' are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency(spec: str, source: str, scope: str = "runtime") -> Dependency | None:
    match = _EGG.search(spec) or _NAME.match(spec)
    if match is None:
        return None
    return Dependency(name=normalise(match.group(1)), spec=spec, source=source, scope=scope)


def _parse_requirements(rel: str, text: str) -> Inventory:
    found = Inventory()
    scope = "dev" if _DEV_FILE.search(rel.rsplit("/", 1)[-1]) else "runtime"
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        include = re.match(r"^(?:-r|--requirement|-c|--constraint)[\s=]*(\S+)$", line)
        if include is None and re.match(r"^[\w./-]+\.(txt|in)$", line):
            include = re.match(r"^(\S+)$", line)
            found.warn(at(rel, number), f"{line!r} names a file: read as `-r {line}`")
        if include is not None:
            base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
            found.requirements_includes.append(
                RequirementsInclude(rel, _normal_path(base + include.group(1)), at(rel, number))
            )
            continue  # included files are read on their own
        if line.startswith("-") and not line.startswith(("-e", "--editable")):
            continue  # pip options: index URLs, hashes, trusted hosts
        spec = re.sub(r"^(-e|--editable)\s+", "", line)
        item = dependency(spec, at(rel, number), scope)
        if item is None:
            found.warn(at(rel, number), f"not a requirement: {raw.strip()!r}")
        else:
            found.dependencies.append(item)
    return found


def _normal_path(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == ".." and parts:
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _parse_setup_py(rel: str, text: str) -> Inventory:
    found = Inventory()
    module = ast.parse(text, filename=rel)
    lists = _module_lists(module)
    for node in ast.walk(module):
        if not (isinstance(node, ast.Call) and "setup" in _called(node)):
            continue
        for keyword in node.keywords:
            if keyword.arg == "install_requires":
                _add_literal_specs(found, rel, _resolved(keyword.value, lists), "runtime")
            elif keyword.arg == "extras_require" and isinstance(keyword.value, ast.Dict):
                for value in keyword.value.values:
                    _add_literal_specs(found, rel, _resolved(value, lists), "dev")
            elif keyword.arg == "python_requires" and isinstance(keyword.value, ast.Constant):
                found.python_version = _version_fact(str(keyword.value.value), rel, node.lineno)
    return found


def _module_lists(module: ast.Module) -> dict[str, ast.expr]:
    """`requires = [...]` at the top of setup.py, bound once: what `install_requires=requires`
    names (the scaffold shape of Pyramid and many older projects)."""
    bound: dict[str, list[ast.expr]] = {}
    for statement in module.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                bound.setdefault(target.id, []).append(statement.value)
    return {name: values[0] for name, values in bound.items() if len(values) == 1}


def _resolved(node: ast.expr, lists: dict[str, ast.expr], depth: int = 0) -> ast.expr:
    """A name bound to a literal list, or `a + b` of such, as one literal list; else node."""
    if depth > 5:
        return node
    if isinstance(node, ast.Name) and node.id in lists:
        return _resolved(lists[node.id], lists, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _resolved(node.left, lists, depth + 1)
        right = _resolved(node.right, lists, depth + 1)
        if isinstance(left, ast.List | ast.Tuple) and isinstance(right, ast.List | ast.Tuple):
            joined = ast.List(elts=[*left.elts, *right.elts], ctx=ast.Load())
            return ast.copy_location(joined, node)
    return node


def _called(node: ast.Call) -> tuple[str | None, str | None]:
    """setup(...) and setuptools.setup(...) alike."""
    return getattr(node.func, "id", None), getattr(node.func, "attr", None)


def _add_literal_specs(found: Inventory, rel: str, node: ast.expr, scope: str) -> None:
    if not isinstance(node, ast.List | ast.Tuple):
        found.warn(at(rel, node.lineno), "dependencies are computed, not a literal list")
        return
    for element in node.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            item = dependency(element.value, at(rel, element.lineno), scope)
            if item:
                found.dependencies.append(item)


def _parse_setup_cfg(rel: str, text: str) -> Inventory:
    found = Inventory()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text, source=rel)
    specs = parser.get("options", "install_requires", fallback="")
    _add_text_specs(found, rel, text, specs.splitlines(), "runtime")
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            _add_text_specs(found, rel, text, value.splitlines(), "dev")
    requires = parser.get("options", "python_requires", fallback="")
    if requires:
        found.python_version = _version_fact(requires, rel, line_of(text, "python_requires"))
    return found


def _parse_pyproject(rel: str, text: str) -> Inventory:
    found = Inventory()
    data = tomllib.loads(text)
    project: dict[str, Any] = data.get("project", {})
    _add_text_specs(found, rel, text, project.get("dependencies", []), "runtime")
    for specs in project.get("optional-dependencies", {}).values():
        _add_text_specs(found, rel, text, specs, "dev")
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    for name, constraint in poetry.items():
        if name.lower() == "python":
            found.python_version = _version_fact(str(constraint), rel, line_of(text, "python"))
            continue
        spec = poetry_spec(name, constraint)
        if spec is None:
            found.warn(at(rel, line_of(text, name)), f"{name}: a path or git dependency, not read")
            continue
        item = dependency(spec, at(rel, line_of(text, name)))
        if item:
            item.manager = "poetry"
            found.dependencies.append(item)
    if "requires-python" in project:
        line = line_of(text, "requires-python")
        found.python_version = _version_fact(project["requires-python"], rel, line)
    return found


def _parse_pipfile(rel: str, text: str) -> Inventory:
    """A Pipfile's [packages] and [dev-packages] (TOML): name = "version" or a table."""
    found = Inventory()
    data = tomllib.loads(text)
    for section, scope in (("packages", "runtime"), ("dev-packages", "dev")):
        for name, constraint in data.get(section, {}).items():
            version = constraint if isinstance(constraint, str) else constraint.get("version", "*")
            if re.match(r"^\d", version):
                version = f"=={version}"  # Pipfile's "2.7.0" means exactly that version
            spec = name if version in ("*", "") else f"{name}{version}"
            item = dependency(spec, at(rel, line_of(text, name)), scope)
            if item:
                found.dependencies.append(item)
    return found


def poetry_spec(name: str, constraint: Any) -> str | None:
    """A Poetry constraint as PEP 508: `^1.2` -> `>=1.2,<2.0`, `~1.2.3` -> `>=1.2.3,<1.3`.

    None for a path or git dependency, which pip cannot take by name.
    """
    extras = ""
    if isinstance(constraint, dict):
        if any(key in constraint for key in ("path", "git", "url")):
            return None
        if constraint.get("extras"):
            extras = f"[{','.join(constraint['extras'])}]"
        constraint = constraint.get("version", "*")
    text = str(constraint).strip()
    return f"{name}{extras}{_pep440(text)}"


def _pep440(constraint: str) -> str:
    if constraint in ("", "*"):
        return ""
    if constraint[0] in "^~" and constraint[1:2] != "=":
        parts = [int(p) for p in re.findall(r"\d+", constraint)][:3] or [0]
        lower = ".".join(map(str, parts))
        if constraint[0] == "^":
            first = next((i for i, part in enumerate(parts) if part), len(parts) - 1)
        else:
            first = 0 if len(parts) == 1 else 1
        upper = [*parts[:first], parts[first] + 1] + [0] * (len(parts) - first - 1)
        return f">={lower},<{'.'.join(map(str, upper))}"
    if re.match(r"^\d", constraint):
        return f"=={constraint}"
    return constraint.replace(" ", "")


def _add_text_specs(found: Inventory, rel: str, text: str, specs: list[str], scope: str) -> None:
    for spec in (spec.strip() for spec in specs):
        if spec:
            item = dependency(spec, at(rel, line_of(text, spec)), scope)
            if item:
                found.dependencies.append(item)


def _parse_version(rel: str, text: str) -> Inventory:
    found = Inventory()
    found.python_version = _version_fact(text.strip(), rel, 1)
    return found


def _version_fact(declared: str, rel: str, line: int) -> Fact | None:
    match = _PYTHON_VERSION.search(declared)
    if match is None:
        return None
    return Fact(value=match.group(1), source=at(rel, line), note=f"declared as {declared!r}")


def _detect_language(tree: SourceTree, found: Inventory) -> None:
    evidence = found.requirements_files or tree.python_files()
    if evidence:
        found.language = Fact(value="python", source=at(evidence[0], 1))


def _detect_framework(found: Inventory) -> None:
    by_name = {item.name: item for item in found.dependencies if item.scope == "runtime"}
    for framework in FRAMEWORKS:
        if framework in by_name:
            found.framework = Fact(value=framework, source=by_name[framework].source)
            return
