"""INI configuration: the files in the repo and the keys the code reads, joined into one list.

Each key gets the default the code falls back to, the type it converts to, a value from the
example file and the environment variable that will replace it in a container.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubestep.inventory import config_code
from kubestep.inventory.model import ConfigFile, ConfigKey, Inventory
from kubestep.inventory.naming import env_name
from kubestep.inventory.tree import SourceTree, at

PATTERNS = ("*.ini", "*.cfg", "*.ini.*", "*.cfg.*", "*.conf.example", "*.conf.sample")
# Tool settings, not the service's configuration.
TOOL_FILES = {
    "setup.cfg",
    "tox.ini",
    "pytest.ini",
    "mypy.ini",
    ".flake8",
    ".coveragerc",
    ".pylintrc",
    ".bumpversion.cfg",
    "alembic.ini",
    "uwsgi.ini",
    ".editorconfig",
    "pylintrc",
}
_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:[#;].*)?$")
_OPTION = re.compile(r"^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$")
_CONVERT = {"int": int, "float": float}


@dataclass
class IniEntry:
    section: str
    key: str
    value: str
    line: int


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    files = [rel for rel in tree.matching(*PATTERNS) if _is_app_ini(tree, rel)]
    entries: dict[str, list[IniEntry]] = {}
    for rel in files:
        entries[rel] = parse(rel, tree.text(rel) or "", result)
    code = config_code.read(tree)
    result.merge(code.found)
    _link_examples(result, files)
    result.config.keys.extend(_keys(code.keys, entries))
    return result


def _is_app_ini(tree: SourceTree, rel: str) -> bool:
    """An INI file of the service: not a tool's; a .cfg must start like INI (Nagios' do not)."""
    name = rel.rsplit("/", 1)[-1]
    if name in TOOL_FILES or name.endswith(".erb"):
        return False
    if ".ini" in name:
        return True
    for line in (tree.text(rel) or "").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", ";")):
            return _SECTION.match(stripped) is not None
    return False


def parse(rel: str, text: str, found: Inventory) -> list[IniEntry]:
    """Entries in file order; malformed lines become warnings, as configparser would fail."""
    entries: list[IniEntry] = []
    section: str | None = None
    last: IniEntry | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if line[:1].isspace() and last is not None:
            last.value = f"{last.value}\n{stripped}"  # continuation of a multi-line value
            continue
        heading = _SECTION.match(stripped)
        option = _OPTION.match(stripped)
        if heading:
            section, last = heading.group(1).strip(), None
        elif option is None:
            found.warn(at(rel, number), f"not an INI 'key = value' line: {stripped!r}")
        elif section is None:
            found.warn(at(rel, number), f"key {option.group(1)!r} before any [section]")
        else:
            key = option.group(1).strip().lower()
            if any(entry.section == section and entry.key == key for entry in entries):
                found.warn(at(rel, number), f"duplicate key [{section}] {key}: first one kept")
                last = None
                continue
            last = IniEntry(section, key, option.group(2).strip(), number)
            entries.append(last)
    return entries


def _link_examples(found: Inventory, ini_files: list[str]) -> None:
    """Name the repo's example of each config file the code reads, matched by file name."""
    for config_file in found.config.files:
        name = (config_file.path or "").rsplit("/", 1)[-1]
        example = next((rel for rel in ini_files if _base(rel).startswith(name)), None)
        config_file.example = example if name else None
    linked = {config_file.example for config_file in found.config.files}
    for rel in ini_files:
        if rel not in linked:
            found.config.files.append(ConfigFile(path=None, example=rel, source=at(rel, 1)))


def _base(rel: str) -> str:
    return rel.rsplit("/", 1)[-1]


def _keys(reads: list[config_code.KeyRead], files: dict[str, list[IniEntry]]) -> list[ConfigKey]:
    examples = {
        (entry.section, entry.key): (rel, entry)
        for rel, entries in files.items()
        for entry in entries
    }
    keys: list[ConfigKey] = []
    seen: set[tuple[str, str]] = set()
    for read in reads:
        if (read.section, read.key.lower()) in seen:
            continue
        seen.add((read.section, read.key.lower()))
        example = examples.get((read.section, read.key.lower()))
        keys.append(
            ConfigKey(
                section=read.section,
                key=read.key,
                env_name=env_name(read.section, read.key),
                source=read.source,
                default=read.default,
                type=read.type,
                example_value=_typed(example[1].value, read.type) if example else None,
                required=True if read.required else None,
            )
        )
    for (section, key), (rel, entry) in examples.items():
        if (section, key) not in seen:
            seen.add((section, key))
            keys.append(
                ConfigKey(
                    section=section,
                    key=key,
                    env_name=env_name(section, key),
                    source=at(rel, entry.line),
                    example_value=entry.value,
                )
            )
    return keys


def _typed(value: str, kind: str) -> Any:
    """The example value as the code will see it ('5432' is an int for getint)."""
    if kind == "bool" and value.lower() in ("1", "yes", "true", "on", "0", "no", "false", "off"):
        return value.lower() in ("1", "yes", "true", "on")
    try:
        return _CONVERT[kind](value) if kind in _CONVERT else value
    except ValueError:
        return value
