"""Paths the app writes at run time: log files, directories it creates, SQLite databases.

Under a read-only root filesystem (compose and Kubernetes alike) each of them is a crash at
start, so they are found in the code: file log handlers (also in dictConfig dicts),
`os.makedirs`/`mkdir`, `sqlite:///` URLs and Django's sqlite3 NAME. A path is kept where the
code builds it from literals, `__file__` and the names it binds to them (BASE_DIR, basedir);
anything computed otherwise is not guessed at.
"""

from __future__ import annotations

import ast
import posixpath
import re

from kubestep.inventory.config_code import bound_name
from kubestep.inventory.model import Inventory, WritablePath
from kubestep.inventory.tree import SourceTree, at

_FILE_HANDLERS = {
    "FileHandler",
    "RotatingFileHandler",
    "TimedRotatingFileHandler",
    "WatchedFileHandler",
}
_MAKE_DIRS = {"makedirs", "mkdir"}
_SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///(.+)$")


class _Path:
    """A path the code builds: repo-relative (from `__file__`), relative to the process's
    working directory, or absolute."""

    def __init__(self, anchor: str, path: str) -> None:
        self.anchor = anchor  # "repo", "cwd" or "abs"
        self.path = path

    def join(self, *parts: str) -> _Path:
        joined = posixpath.join(self.path, *parts) if self.path else posixpath.join(*parts)
        if any(part.startswith("/") for part in parts):
            return _Path("abs", posixpath.normpath(joined))
        return _Path(self.anchor, posixpath.normpath(joined))

    def parent(self) -> _Path | None:
        if self.anchor == "repo" and self.path in ("", "."):
            return None  # above the repo: not the app's
        return _Path(self.anchor, posixpath.dirname(self.path))

    def shown(self) -> str:
        if self.anchor == "cwd":
            return "./" + self.path if self.path not in ("", ".") else "."
        return self.path or "."


def _literal(path: str) -> _Path:
    return _Path("abs", posixpath.normpath(path)) if path.startswith("/") else _Path("cwd", path)


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    for rel in tree.python_files():
        module = tree.python(rel)
        if isinstance(module, ast.Module):
            _Module(rel, module, result).run()
    for item in found_platform_dirs(found) + asset_bundles(found, tree.files):
        result.writable_paths.append(item)
    written = {item.path.removeprefix("./") for item in result.writable_paths}
    for item in kept_empty_folders(tree.files):
        if item.path not in written:
            result.writable_paths.append(item)
    folders = _occupied_folders(tree.files)
    for item in result.writable_paths:
        folder = posixpath.dirname(item.path) if item.kind == "sqlite" else item.path
        item.occupied = _matching(folder, folders)
    return result


_PLATFORM_DIRS = {"platformdirs", "appdirs"}


def found_platform_dirs(found: Inventory) -> list[WritablePath]:
    """A library that picks the platform's data and config directories (/usr/local/share/APP,
    ~/.local/share/APP): the app writes there, wherever the library says."""
    for item in found.imports:  # the python code reader's, recorded once
        if item.value in _PLATFORM_DIRS:
            why = f"{item.value}: its data, config and state directories"
            return [WritablePath(path="$XDG", kind="xdg", source=item.source, why=why)]
    return []


_ASSET_BUILDERS = {
    "flask_assets": "Flask-Assets",
    "webassets": "webassets",
    "django_assets": "django-assets",
}


def asset_bundles(found: Inventory, files: list[str]) -> list[WritablePath]:
    """webassets (Flask-Assets, django-assets) builds its bundles and its .webassets-cache
    into the static folder when a page asks for them: the static folder nearest the module
    that imports it is written at run time."""
    folders = {rel.rsplit("/", 1)[0] for rel in files if "/" in rel}
    for item in found.imports:
        library = _ASSET_BUILDERS.get(item.value)
        if library is None:
            continue
        parts = item.source.rsplit(":", 1)[0].split("/")[:-1]
        for depth in range(len(parts), -1, -1):
            static = "/".join([*parts[:depth], "static"])
            if any(folder == static or folder.startswith(static + "/") for folder in folders):
                why = (
                    f"{library} builds its bundles and .webassets-cache there when a page asks; "
                    "build them into the image and turn its automatic builds off"
                )
                return [WritablePath(path=static, kind="dir", source=item.source, why=why)]
    return []


_KEEP_FILES = {".gitkeep", ".keep", ".gitignore", "README", "README.md"}
# Folders of run-time data by their name: kept in git empty, they are where the app writes.
_DATA_FOLDERS = {
    "log",
    "logs",
    "tmp",
    "temp",
    "cache",
    "run",
    "var",
    "upload",
    "uploads",
    "media",
    "data",
    "sessions",
    "pids",
}


def kept_empty_folders(files: list[str]) -> list[WritablePath]:
    """`logs/.gitkeep`: a folder the repo keeps only so that it exists, named for run-time
    data. The app writes there even when the code builds the path in a way kubestep does not
    follow (a config key read by a handler subclass)."""
    placeholders: dict[str, str] = {}
    occupied: set[str] = set()
    for rel in files:
        folder, _, name = rel.rpartition("/")
        if name in _KEEP_FILES and name != "README.md" and name != "README":
            placeholders.setdefault(folder, rel)
        else:
            parts = folder.split("/")
            occupied.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return [
        WritablePath(path=folder, kind="dir", source=at(rel, 1), why="kept empty in the repo")
        for folder, rel in sorted(placeholders.items())
        if folder and folder not in occupied and posixpath.basename(folder).lower() in _DATA_FOLDERS
    ]


def _occupied_folders(files: list[str]) -> set[str]:
    """Every repo folder that holds (at any depth) a file other than a placeholder or a log."""
    folders: set[str] = set()
    for rel in files:
        name = posixpath.basename(rel)
        if name in _KEEP_FILES or name.endswith(".log"):
            continue
        parts = rel.split("/")[:-1]
        folders.update("/".join(parts[:depth]) for depth in range(len(parts) + 1))
    return folders


def _matching(folder: str, folders: set[str]) -> list[str]:
    """The occupied repo folders a written folder may be: itself when it is repo-relative,
    any folder ending with it when it is relative to the working directory."""
    if folder.startswith("/"):
        return []
    if folder.startswith("./") or folder == ".":
        tail = folder.removeprefix("./").strip("/")
        if not tail or tail == ".":
            return [""] if "" in folders else []
        return sorted(f for f in folders if f == tail or f.endswith("/" + tail))
    return [folder] if folder in folders else []


class _Module:
    def __init__(self, rel: str, module: ast.Module, result: Inventory) -> None:
        self.rel = rel
        self.module = module
        self.result = result
        self.names: dict[str, _Path] = {}

    def run(self) -> None:
        for statement in ast.walk(self.module):
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                value = self.path(statement.value)
                if isinstance(target, ast.Name) and value is not None:
                    self.names[target.id] = value
        for node in ast.walk(self.module):
            if isinstance(node, ast.Call):
                self.call(node)
            elif isinstance(node, ast.Dict):
                self.dictionary(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.sqlite_url(node.value, node.lineno)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                self.sqlite_concat(node)

    def note(self, path: _Path | None, kind: str, line: int, why: str) -> None:
        if path is None or (kind == "sqlite" and path.path in ("", ".", "/")):
            return
        if path.anchor == "abs" and path.path.startswith(("/tmp", "/dev/")):
            return  # writable already
        shown = path.shown()
        if all((w.path, w.kind) != (shown, kind) for w in self.result.writable_paths):
            item = WritablePath(path=shown, kind=kind, source=at(self.rel, line), why=why)
            self.result.writable_paths.append(item)

    def call(self, node: ast.Call) -> None:
        name = bound_name(node.func)
        if name in _FILE_HANDLERS and node.args:
            log = self.path(node.args[0])
            self.note(log.parent() if log else None, "dir", node.lineno, f"{name} {_show(log)}")
        elif name in _MAKE_DIRS:
            target = node.args[0] if node.args else None
            if name == "mkdir" and isinstance(node.func, ast.Attribute) and not _is_os(node):
                target = node.func.value  # Path(...).mkdir()
            made = self.path(target) if target is not None else None
            self.note(made, "dir", node.lineno, f"{name} {_show(made)}")

    def dictionary(self, node: ast.Dict) -> None:
        items = {
            key.value: value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        }
        handler = items.get("class")
        is_file_handler = isinstance(handler, ast.Constant) and (
            str(handler.value).rsplit(".", 1)[-1] in _FILE_HANDLERS
        )
        if "filename" in items and is_file_handler:
            log = self.path(items["filename"])
            self.note(log.parent() if log else None, "dir", node.lineno, f"log {_show(log)}")
        engine = items.get("ENGINE")
        if isinstance(engine, ast.Constant) and str(engine.value).endswith("sqlite3"):
            database = self.path(items["NAME"]) if "NAME" in items else None
            self.note(database, "sqlite", node.lineno, f"Django sqlite3 {_show(database)}")

    def sqlite_url(self, value: str, line: int) -> None:
        match = _SQLITE_URL.match(value)
        if match and match.group(2) not in (":memory:", ""):
            self.note(_literal(match.group(2)), "sqlite", line, f"SQLite URL {value}")

    def sqlite_concat(self, node: ast.BinOp) -> None:
        """`'sqlite:///' + os.path.join(basedir, 'app.db')`."""
        left = node.left
        if isinstance(left, ast.Constant) and str(left.value) in ("sqlite:///", "sqlite:////"):
            database = self.path(node.right)
            self.note(database, "sqlite", node.lineno, f"SQLite URL to {_show(database)}")

    def path(self, node: ast.expr | None) -> _Path | None:
        """The path an expression builds, or None where it is computed some other way."""
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return _literal(node.value) if node.value else None
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return _Path("repo", self.rel)
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            inner = self.path(node.value)
            return inner.parent() if inner else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            base, part = self.path(node.left), _string(node.right)
            return base.join(part) if base and part else None
        if isinstance(node, ast.Call):
            return self.call_path(node)
        return None

    def call_path(self, node: ast.Call) -> _Path | None:
        name = bound_name(node.func)
        if name in ("abspath", "realpath", "normpath", "Path", "PurePath", "str", "fspath"):
            return self.path(node.args[0]) if len(node.args) == 1 else None
        if name in ("resolve", "absolute") and isinstance(node.func, ast.Attribute):
            return self.path(node.func.value)
        if name == "dirname" and len(node.args) == 1:
            inner = self.path(node.args[0])
            return inner.parent() if inner else None
        if name in ("join", "joinpath") and node.args:
            if name == "joinpath" and isinstance(node.func, ast.Attribute):
                base, rest = self.path(node.func.value), node.args
            else:
                base, rest = self.path(node.args[0]), node.args[1:]
            parts = [_string(arg) for arg in rest]
            if base is None or any(part is None for part in parts):
                return None
            return base.join(*[part for part in parts if part is not None])
        return None


def _is_os(node: ast.Call) -> bool:
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("os", "path")
    )


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _show(path: _Path | None) -> str:
    return path.shown() if path else "(computed)"
