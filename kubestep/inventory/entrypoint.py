"""How the service starts: Procfile, start scripts, systemd ExecStart and Makefile recipes.

Several places often start the same server; the most deliberate one wins (Procfile, then the
systemd unit, then the script it runs, then other scripts, then make targets) and the rest stay
visible as scripts and make targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubestep.inventory import commandline, shell
from kubestep.inventory.commandline import ServerCommand, Setting
from kubestep.inventory.model import Fact, Inventory, Process, Script
from kubestep.inventory.tree import SourceTree, at

_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.+)$")
_START_NAME = re.compile(r"(^|[-_])(run|start|serve|server|entrypoint|boot|launch)([-_.]|$)")
_TEST_NAME = re.compile(r"test|check[-_]?style|lint")
_TEST_COMMAND = re.compile(r"\b(pytest|py\.test|nosetests|tox|unittest)\b")
_START_TARGETS = {"run", "start", "serve", "server", "up"}


@dataclass
class Candidate:
    rank: int
    command: ServerCommand
    line: str
    source: str


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    candidates: list[Candidate] = []
    started_scripts = _scripts_started_by(tree, found)
    for rel in tree.matching("Procfile", top_level=True):
        _read_procfile(rel, tree.text(rel) or "", result, candidates)
    for unit in found.services:
        if unit.manager == "systemd" and unit.command:
            _add_candidate(candidates, result, 1, unit.command, {}, unit.source)
    for rel in _shell_scripts(tree):
        text = tree.text(rel) or ""
        rank = 2 if rel in started_scripts else 3
        has_server = _read_script(rel, text, rank, result, candidates)
        result.scripts.append(
            Script(
                path=rel,
                role=_role(rel, text, rel in started_scripts or has_server),
                source=at(rel, 1),
            )
        )
    for target in found.make_targets:
        for line in filter(commandline.mentions_server, target.recipe):
            _add_candidate(candidates, result, 5, line, {}, target.source)
    if candidates:
        _set_entrypoint(result, min(candidates, key=lambda candidate: candidate.rank))
        _note_deployed_values(result, found)
    return result


def _note_deployed_values(result: Inventory, found: Inventory) -> None:
    """Say when the deployment sets a variable that overrides a default (WORKERS=4)."""
    for fact in (result.entrypoint.port, result.entrypoint.workers):
        if fact is None or fact.env_var is None:
            continue
        for variable in found.environment:
            if variable.name == fact.env_var:
                deployed = f"{variable.name}={variable.value} at {variable.source}"
                fact.note = f"{fact.note}; {deployed}" if fact.note else deployed


def _read_procfile(rel: str, text: str, found: Inventory, candidates: list[Candidate]) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PROCFILE_LINE.match(line.strip())
        if match is None:
            found.warn(at(rel, number), f"not a Procfile 'name: command' line: {line.strip()!r}")
            continue
        name, command = match.groups()
        if name == "web":
            _add_candidate(candidates, found, 0, command, {}, at(rel, number))
        else:
            found.processes.append(Process(name=name, command=command, source=at(rel, number)))


def _read_script(
    rel: str, text: str, rank: int, found: Inventory, candidates: list[Candidate]
) -> bool:
    known = shell.variables(text)
    added = False
    for number, line in shell.logical_lines(text):
        if commandline.mentions_server(line):
            added = _add_candidate(candidates, found, rank, line, known, at(rel, number)) or added
    return added


def _add_candidate(
    candidates: list[Candidate],
    found: Inventory,
    rank: int,
    line: str,
    known: dict[str, shell.Expanded],
    source: str,
) -> bool:
    try:
        command = commandline.parse(line, known)
    except ValueError as error:
        found.warn(source, f"cannot read command line: {error}")
        return False
    if command is None:
        return False
    candidates.append(Candidate(rank, command, re.sub(r"^\s*exec\s+", "", line.strip()), source))
    return True


def _set_entrypoint(found: Inventory, chosen: Candidate) -> None:
    entry, command, source = found.entrypoint, chosen.command, chosen.source
    if command.app:
        entry.app = Fact(value=command.app, kind=command.kind, source=source)
    entry.server = Fact(value=command.server, source=source)
    entry.command = Fact(value=chosen.line, source=source)
    entry.port = _fact(command.port, source)
    entry.workers = _fact(command.workers, source)


def _fact(setting: Setting | None, source: str) -> Fact | None:
    if setting is None:
        return None
    return Fact(value=setting.value, source=source, env_var=setting.env_var, note=setting.note)


def _shell_scripts(tree: SourceTree) -> list[str]:
    scripts = set(tree.matching("*.sh", "*.bash"))
    for rel in tree.matching("bin/*", "scripts/*"):
        if "." not in rel.rsplit("/", 1)[-1] and (tree.text(rel) or "").startswith("#!"):
            scripts.add(rel)
    return sorted(scripts)


def _scripts_started_by(tree: SourceTree, found: Inventory) -> set[str]:
    """Scripts named by a systemd ExecStart, the Procfile or a run/start make target."""
    lines = [unit.command for unit in found.services if unit.command]
    lines += [text for rel in tree.matching("Procfile", top_level=True) if (text := tree.text(rel))]
    for target in found.make_targets:
        if target.name in _START_TARGETS:
            lines.extend(target.recipe)
    started = set()
    for line in lines:
        for word in re.findall(r"[\w./${}-]+\.sh\b|\bbin/[\w.-]+", line):
            rel = tree.find_by_suffix(word.rsplit("/", 1)[-1] if word.startswith("/") else word)
            if rel:
                started.add(rel)
    return started


def _role(rel: str, text: str, starts: bool) -> str:
    name = rel.rsplit("/", 1)[-1].lower()
    if starts:
        return "start"
    if _TEST_NAME.search(name) or _TEST_COMMAND.search(text):
        return "test"
    return "start" if _START_NAME.search(name.rsplit(".", 1)[0]) else "other"
